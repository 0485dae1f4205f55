"""Teachers' tools (wgan_lessons.teacher): the solutions come from one source and pass their checkers.

- every exercise stub in every lesson has a solution in teacher/solutions/<stem>.py, and vice versa;
- the committed solutions/*.ipynb are what `python -m wgan_lessons teacher solutions` writes now;
- each solution notebook runs top to bottom in fast mode and every check cell says PASSED (in
  tests/test_nbgrader.py: its solved submission is the teacher's copy, graded by real nbgrader);
- bad input (a stub without a solution, a solution without a stub, ...) is a clear ValueError.

The nbgrader round trip is in tests/test_nbgrader.py.
"""

import ast
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest

from wgan_lessons import teacher
from wgan_lessons.cli import main

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
def _ids(paths):
    return [p.stem for p in paths]


def _solutions_src(path: Path) -> str:
    return (ROOT / "teacher" / "solutions" / f"{path.stem}.py").read_text()


# ----------------------------------------------------------------------------- one source


def test_every_lesson_has_a_solutions_file():
    have = {p.stem for p in (ROOT / "teacher" / "solutions").glob("*.py")}
    want = {p.stem for p in NOTEBOOKS}
    assert want - have == set(), f"lessons without teacher/solutions/<stem>.py: {sorted(want - have)}"
    assert have - want == set(), f"solutions files without a lesson notebook: {sorted(have - want)}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_every_stub_has_a_solution_and_every_solution_a_stub(path):
    nb = nbformat.read(path, as_version=4)
    stubs = [f for ex in teacher.find_exercises(nb) for f in ex.functions]
    solutions = [n.name for n in ast.parse(_solutions_src(path)).body if isinstance(n, ast.FunctionDef)]
    assert stubs, f"{path.name} has no exercise ({teacher.MARKER!r})"
    assert sorted(stubs) == sorted(solutions), (f"{path.name}: stubs {stubs} vs solutions in "
                                                f"teacher/solutions/{path.stem}.py {solutions}")
    checked = {f for c in teacher.find_checks(nb) for _, f in c.calls}
    assert set(stubs) <= checked, f"{path.name}: exercises never checked: {sorted(set(stubs) - checked)}"
    teacher.solution_notebook(nb, _solutions_src(path), name=path.name)  # signatures match: no ValueError


def test_committed_solutions_match_the_sources():
    generated = teacher.render_solutions()
    committed = {p.name for p in (ROOT / "solutions").glob("*.ipynb")}
    fix = "run `python -m wgan_lessons teacher solutions` and commit solutions/"
    assert committed == set(generated), f"solutions/ holds {sorted(committed)}, expected {sorted(generated)}: {fix}"
    stale = [name for name, text in generated.items() if (ROOT / "solutions" / name).read_text() != text]
    assert not stale, (f"solutions/{', solutions/'.join(stale)} differ from notebooks/ + teacher/solutions/ "
                       f"(a lesson or a solution changed): {fix}")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_solution_notebook_differs_from_the_lesson_only_in_the_exercises(path):
    student = nbformat.read(path, as_version=4)
    sol = nbformat.read(ROOT / "solutions" / path.name, as_version=4)
    assert len(sol.cells) == len(student.cells) + 1 and sol.cells[1].cell_type == "markdown"
    assert "Teacher's copy" in sol.cells[1].source
    ex_cells = {ex.cell for ex in teacher.find_exercises(student)}
    body = [sol.cells[0], *sol.cells[2:]]
    for i, (a, b) in enumerate(zip(student.cells, body)):
        if i in ex_cells:
            assert teacher.MARKER not in b.source and "NotImplementedError" not in b.source
        else:
            assert a.source == b.source, f"{path.name} cell {i} differs in the solution notebook"
    assert not [c for c in sol.cells if c.cell_type == "code" and (c.outputs or c.execution_count)]


# The solution notebooks pass their checkers: tests/test_nbgrader.py autogrades each lesson with the
# teacher's copy's answers (cell for cell) and asserts full points, no error and PASSED in every test
# cell, so running the copy here again would only repeat that run.


# ----------------------------------------------------------------------------- bad input and the formats

STUDENT = [
    ("markdown", "# A lesson\n\nSome text."),
    ("code", "import math"),
    ("code", textwrap.dedent('''\
        import math as m

        def area(r):
            """The area of a disc of radius r."""
            # YOUR CODE HERE
            raise NotImplementedError


        def double(x: float) -> float:
            # YOUR CODE HERE
            raise NotImplementedError''')),
    ("code", "from somewhere import check_area, check_double\ndisplay(check_area(area))\ncheck_double(double)"),
]
SOLUTIONS = textwrap.dedent('''\
    import math


    def area(r):
        """Docstrings here are not used: the notebook keeps its own."""
        # pi r^2
        return math.pi * r ** 2


    def double(x: float) -> float:
        return 2 * x
    ''')


def _nb(cells=STUDENT):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_markdown_cell(s) if t == "markdown" else nbformat.v4.new_code_cell(s) for t, s in cells]
    return nb


def test_find_exercises_and_checks():
    nb = _nb()
    assert teacher.find_exercises(nb) == [teacher.Exercise(2, ("area", "double"))]
    assert teacher.find_checks(nb) == [teacher.Check(3, (("check_area", "area"), ("check_double", "double")))]


def test_solution_notebook_keeps_the_cell_and_the_docstring():
    nb = _nb()
    sol = teacher.solution_notebook(nb, SOLUTIONS)
    assert sol.cells[2].source == textwrap.dedent('''\
        import math as m

        def area(r):
            """The area of a disc of radius r."""
            # pi r^2
            return math.pi * r ** 2


        def double(x: float) -> float:
            return 2 * x''')
    assert nb.cells[2].source == STUDENT[2][1], "the input notebook is not modified"
    assert [c.source for i, c in enumerate(sol.cells) if i != 2] == [s for i, (_, s) in enumerate(STUDENT) if i != 2]
    ns = {}
    exec(sol.cells[2].source, ns)
    assert ns["double"](2.5) == 5.0


def test_missing_extra_and_mismatched_solutions_are_clear_errors():
    nb = _nb()
    with pytest.raises(ValueError, match="no solution for the exercise function.*double"):
        teacher.solution_notebook(nb, SOLUTIONS.split("def double")[0], name="lesson.ipynb")
    with pytest.raises(ValueError, match="the solution.*volume.*no stub"):
        teacher.solution_notebook(nb, SOLUTIONS + "\n\ndef volume(r):\n    return r\n")
    with pytest.raises(ValueError, match="signature.*def area\\(radius\\).*differs.*def area\\(r\\)"):
        teacher.solution_notebook(nb, SOLUTIONS.replace("def area(r):", "def area(radius):"))
    with pytest.raises(ValueError, match="not valid Python"):
        teacher.solution_notebook(nb, "def area(r) return 1")
    with pytest.raises(ValueError, match="outside any function"):
        teacher.find_exercises(_nb([("code", "x = 1  # YOUR CODE HERE")]))
    with pytest.raises(ValueError, match="no check cell calls check_\\*\\(double\\)"):
        teacher.nbgrader_notebook(_nb(STUDENT[:3] + [("code", "check_area(area)")]), SOLUTIONS)


def test_nbgrader_notebook_format():
    nb = teacher.nbgrader_notebook(_nb(), SOLUTIONS)
    meta = [c.metadata.get("nbgrader") for c in nb.cells]
    assert meta[0] == {"grade": False, "grade_id": "md_00", "locked": True, "schema_version": 3, "solution": False}
    # the lesson's own code cells are read-only (autograde restores them if edited: issue 13)
    assert meta[1] == {"grade": False, "grade_id": "code_01", "locked": True, "schema_version": 3, "solution": False}
    assert meta[2] == {"grade": False, "grade_id": "solution_area_double", "locked": False, "schema_version": 3,
                       "solution": True}
    assert meta[3:] == [{"grade": True, "grade_id": f"test_{f}", "locked": True, "points": 1, "schema_version": 3,
                         "solution": False} for f in ("area", "double")]
    assert nb.cells[2].source.count(teacher.BEGIN_SOLUTION) == 2 == nb.cells[2].source.count(teacher.END_SOLUTION)
    assert "    ### BEGIN SOLUTION\n    # pi r^2\n" in nb.cells[2].source
    assert nb.cells[3].source == ("from somewhere import check_area, check_double\n_r = check_area(area)\nprint(_r)\n"
                                  "assert _r.passed, _r.message")
    assert nb.cells[4].source.endswith("_r = check_double(double)\nprint(_r)\nassert _r.passed, _r.message")
    assert len({c.id for c in nb.cells}) == len(nb.cells)
    nbformat.validate(nb)
    # what a learner who solved it has = the solution notebook's cell
    assert teacher.strip_solution_markers(nb.cells[2].source) == teacher.solution_notebook(_nb(), SOLUTIONS).cells[2].source


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_lesson_exports_to_nbgrader(path):
    nb = teacher.nbgrader_notebook(nbformat.read(path, as_version=4), _solutions_src(path), name=path.name)
    nbformat.validate(nb)
    graded = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
    exercises = teacher.find_exercises(nbformat.read(path, as_version=4))
    assert len(graded) == sum(len(ex.functions) for ex in exercises)
    assert all(c.source.rstrip().endswith("assert _r.passed, _r.message") for c in graded)


# ----------------------------------------------------------------------------- the command line


def test_cli_solutions_writes_what_render_solutions_gives(tmp_path, capsys):
    assert main(["teacher", "solutions", "--out", str(tmp_path / "sol")]) == 0
    generated = teacher.render_solutions()
    assert sorted(p.name for p in (tmp_path / "sol").iterdir()) == sorted(generated)
    assert all((tmp_path / "sol" / name).read_text() == text for name, text in generated.items())
    assert "wrote" in capsys.readouterr().out


def test_cli_export_then_refuses_to_overwrite_without_force(tmp_path, capsys):
    course = tmp_path / "course"
    assert main(["teacher", "export", str(course)]) == 0
    assert (course / "nbgrader_config.py").is_file()
    assert sorted(p.relative_to(course).as_posix() for p in (course / "source").rglob("*.ipynb")) == \
        [f"source/{p.stem}/{p.name}" for p in NOTEBOOKS]
    with pytest.raises(SystemExit) as exc:
        main(["teacher", "export", str(course)])
    assert exc.value.code == 2 and "--force" in capsys.readouterr().err
    assert main(["teacher", "export", str(course), "--force"]) == 0


def test_nbgrader_config_sets_course_root_and_fast_mode(tmp_path):
    """The exported config, loaded the way nbgrader loads it (traitlets), points at its own folder and
    turns on fast mode for the kernels (with a short cell timeout) unless WGAN_LESSONS_FAST is already set."""
    teacher.export_nbgrader(tmp_path / "c")
    code = ("import os, sys; from traitlets.config.loader import PyFileConfigLoader; "
            "cfg = PyFileConfigLoader('nbgrader_config.py', path=sys.argv[1]).load_config(); "
            "print(cfg.CourseDirectory.course_id, cfg.CourseDirectory.root, os.environ['WGAN_LESSONS_FAST'], "
            "cfg.Execute.timeout, cfg.Autograde.autograde_preprocessors[0].__name__)")
    env = {k: v for k, v in os.environ.items() if k != "WGAN_LESSONS_FAST"}
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "c")], env=env, capture_output=True,
                         text=True, check=True).stdout.split()
    # ... and autogrades with the Execute step that re-polls (no silent wait after a widget cell; 60 s cell timeout in fast mode)
    assert out == ["wgan-lessons", str((tmp_path / "c").resolve()), "1", "60", "SlicedPollExecute"]
    env["WGAN_LESSONS_FAST"] = "0"
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "c")], env=env, capture_output=True,
                         text=True, check=True).stdout.split()
    assert out[-3:] == ["0", "3600", "SlicedPollExecute"]


# ----------------------------------------------------------------------------- the teachers' guide


def _goals(path: Path) -> list[str]:
    first = nbformat.read(path, as_version=4).cells[0].source
    block = first.split("**Learning goals**", 1)[1].split("**Time", 1)[0]
    return [line.strip() for line in block.splitlines() if line.strip().startswith("- ")]


def test_guide_has_every_lesson_goal_exercise_and_checker():
    """docs/teachers.md copies each lesson's goals and lists every exercise with its checker: when a
    lesson changes, update the guide too."""
    guide = (ROOT / "docs" / "teachers.md").read_text()
    assert "](docs/teachers.md)" in (ROOT / "README.md").read_text()
    for path in NOTEBOOKS:
        assert f"../notebooks/{path.name}" in guide, f"docs/teachers.md: no link to lesson {path.name}"
        for goal in _goals(path):
            assert goal in guide, f"docs/teachers.md: {path.name}'s learning goal {goal!r} is missing or outdated"
        nb = nbformat.read(path, as_version=4)
        for check in teacher.find_checks(nb):
            for checker, fn in check.calls:
                assert f"`{fn}(" in guide and f"`{checker}`" in guide, \
                    f"docs/teachers.md: exercise {fn} of {path.name} (checker {checker}) is not listed"
