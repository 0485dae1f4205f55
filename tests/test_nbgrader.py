"""A real nbgrader round trip of the exported course, with nbgrader's own command line.

`python -m wgan_lessons teacher export` -> `nbgrader generate_assignment` -> two submissions (one
with the solutions filled back into the released notebook, one handed in as released) ->
`nbgrader autograde` -> the gradebook gives the first full points and the second zero. All six lessons go
through one course, with one `generate_assignment "*"` and one `autograde "*"` (nbgrader's start-up is
seconds: once, not twelve times); each lesson is still its own test.

The solved submission's answers are the committed teacher's copy (`solutions/<lesson>.ipynb`), cell
for cell, and every check cell of its autograde must say PASSED (tests/test_teacher.py checks that
copy is what `teacher solutions` writes). The empty submission is the released notebook as handed
out. Both leave out the lesson's experiments (tests/nbtrim.py keeps the setup, the answer and test
cells and the cells they need for a name): the experiments play no part in grading, and
tests/test_notebooks.py runs every lesson in full.

Skips only when nbgrader is not installed (it is in the `test` extra).
"""

import copy
import os
import sys
import time
from pathlib import Path

import nbformat
import pytest

pytest.importorskip("nbgrader", reason="nbgrader is not installed; `pip install -e '.[test]'` installs it "
                                       "(or `pip install 'nbgrader>=0.9'`)")

from nbtrim import grading_cells  # noqa: E402
from wgan_lessons import teacher  # noqa: E402
from wgan_lessons.cli import main  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
STUDENTS = ("solved", "empty")

pytestmark = [pytest.mark.slow, pytest.mark.notebook]


def _nbgrader(course: Path, *args: str) -> None:
    import subprocess

    env = dict(os.environ)
    # nbgrader runs `alembic` (its database migrations) from PATH: put this environment's bin/ first.
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env["WGAN_LESSONS_FAST"] = "1"  # the autograding kernels inherit it (checked below)
    env["MPLBACKEND"] = "Agg"
    env["OMP_NUM_THREADS"] = "1"  # one torch thread per kernel: two crawl on a loaded 2-core machine
    r = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=env, capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{r.stdout[-3000:]}\n{r.stderr[-6000:]}"


def _solved(release_nb, source_nb):
    """The released notebook with each answer cell's solution filled back in (markers stripped):
    what a learner who solved every exercise hands in."""
    answers = {c.metadata["nbgrader"]["grade_id"]: teacher.strip_solution_markers(c.source)
               for c in source_nb.cells if c.metadata.get("nbgrader", {}).get("solution")}
    nb = copy.deepcopy(release_nb)
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            cell.source = answers.pop(meta["grade_id"])
    assert not answers, f"answer cells missing from the released notebook: {sorted(answers)}"
    return nb


def _from_solutions(release_nb, solutions_nb, student_nb):
    """The released notebook with each answer cell replaced by the teacher's copy's cell (the same
    exercise cell of the lesson: the copy has one extra markdown cell, its second)."""
    body = [solutions_nb.cells[0], *solutions_nb.cells[2:]]
    answers = [body[ex.cell].source for ex in teacher.find_exercises(student_nb)]
    nb = copy.deepcopy(release_nb)
    cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")]
    assert len(cells) == len(answers), "the released notebook and the teacher's copy have different exercises"
    for cell, source in zip(cells, answers):
        cell.source = source
    return nb


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """One exported course, every lesson released and both submissions of every lesson autograded, with
    one `nbgrader generate_assignment "*"` and one `nbgrader autograde "*"` (nbgrader reads the assignment
    as a glob): the same conversions as one command per lesson, without starting nbgrader 12 times."""
    t0 = time.perf_counter()
    course = tmp_path_factory.mktemp("nbgrader") / "course"
    assert main(["teacher", "export", str(course)]) == 0
    _nbgrader(course, "generate_assignment", "*", "--force")
    assert sorted(p.name for p in (course / "release").iterdir()) == [p.stem for p in NOTEBOOKS]
    for path in NOTEBOOKS:
        assignment, name = path.stem, path.name
        release = nbformat.read(course / "release" / assignment / name, as_version=4)
        source = nbformat.read(course / "source" / assignment / name, as_version=4)
        solutions = nbformat.read(ROOT / "solutions" / name, as_version=4)
        student = nbformat.read(path, as_version=4)
        solved = _from_solutions(release, solutions, student)
        assert [c.source for c in solved.cells] == [c.source for c in _solved(release, source).cells], \
            f"the teacher's copy (solutions/{name}) and the nbgrader source hold different solutions"
        for student_id, nb in zip(STUDENTS, (grading_cells(solved), grading_cells(release))):
            folder = course / "submitted" / student_id / assignment
            folder.mkdir(parents=True)
            nbformat.write(nb, folder / name)
    _nbgrader(course, "autograde", "*", "--create", "--force")
    print(f"\nnbgrader round trip of {len(NOTEBOOKS)} lessons: {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return course


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_nbgrader_round_trip(path, course):
    from nbgrader.api import Gradebook

    assignment, name = path.stem, path.name
    release = nbformat.read(course / "release" / assignment / name, as_version=4)
    student = nbformat.read(path, as_version=4)
    # the released notebook is the lesson itself: same cells, stubs where the solutions were
    assert [c.source for c in student.cells if c.cell_type == "markdown"] == \
        [c.source for c in release.cells if c.cell_type == "markdown"]
    answer_cells = [c for c in release.cells if c.metadata.get("nbgrader", {}).get("solution")]
    exercises = teacher.find_exercises(student)
    assert [c.source.replace("NotImplementedError()", "NotImplementedError") for c in answer_cells] == \
        [student.cells[ex.cell].source for ex in exercises]
    assert all(teacher.BEGIN_SOLUTION not in c.source for c in release.cells)

    n_checks = sum(len(ex.functions) for ex in exercises)
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        scores = {s: gb.find_submission(assignment, s) for s in STUDENTS}
        got = {s: (sub.score, sub.max_score) for s, sub in scores.items()}
        per_test = {s: {g.name: g.score for nb in sub.notebooks for g in nb.grades} for s, sub in scores.items()}
    assert got == {"solved": (n_checks, n_checks), "empty": (0, n_checks)}, per_test

    for student_id in STUDENTS:
        graded = nbformat.read(course / "autograded" / student_id / assignment / name, as_version=4)
        setup_out = "".join(o.get("text", "") for o in graded.cells[1].outputs)
        assert "fast mode: True" in setup_out, f"{student_id}: autograde did not run in fast mode: {setup_out!r}"
        # An ungraded cell showing an ipywidgets interactive() may hit nbgrader's cell timeout although
        # the kernel is done (nbclient issue 312, nbconvert issue 2029): that costs no points; allow it.
        errors = [(i, o.ename) for i, c in enumerate(graded.cells) if c.cell_type == "code" for o in c.outputs
                  if o.output_type == "error" and not (o.ename == "CellTimeoutError" and "interact" in c.source)]
        test_cells = {i for i, c in enumerate(graded.cells) if c.metadata.get("nbgrader", {}).get("grade")}
        if student_id == "solved":
            assert not errors, f"the solved submission raised in cells {errors}"
            for i in sorted(test_cells):  # the verdict (from the fresh grading process) is in the feedback
                text = "".join(o.get("text", "") + "".join(o.get("data", {}).get("text/plain", ""))
                               for o in graded.cells[i].outputs)
                assert "PASSED" in text and "NOT YET" not in text, f"solutions/{name} test cell {i}: {text!r}"
        else:  # only the test cells fail; the training lab and the rest still run
            assert errors == [(i, "AssertionError") for i in sorted(test_cells)], errors
