"""Issue 13: grading teachers can trust, through real nbgrader (export -> generate_assignment ->
submissions edited with nbformat -> autograde), on lesson 02 (two checks: w1_sorted, w1_from_cdfs).

Each submission carries one kind of fault per exercise, and each kind appears in two instances
across the submissions: redefining a checker (a def, a lambda); editing the lesson's import cell
(restored by nbgrader; with its metadata stripped, flagged); patching the package (a public
checker, a private helper, an IPython input transformer); correct answers that write to stderr or
warn; an exercise's rule broken (the package's reference, SciPy); test cells deleted (restored) and
a kernel that dies (not graded). Plus unit tests of wgan_lessons.grading without nbgrader.
"""

import copy
import os
import sys
from pathlib import Path

import nbformat
import pytest

from nbtrim import grading_cells
from wgan_lessons import grading, teacher
from wgan_lessons.cli import main

ROOT = Path(__file__).resolve().parents[1]
LESSON = ROOT / "notebooks" / "02_wasserstein_1d.ipynb"

FAKE = "class FAKE:\n    passed = True\n    message = 'ok'\n"
W1_SORTED_OK = ("def w1_sorted(u, v):\n    import numpy as np\n"
                "    return float(np.mean(np.abs(np.sort(u) - np.sort(v))))\n")
CDFS_OK_NOISY = ("def w1_from_cdfs(p, q, grid):\n    import sys\n    import numpy as np\n"
                 "    print('debugging', file=sys.stderr)\n"
                 "    np.log(np.zeros(1))  # numpy's divide-by-zero RuntimeWarning\n"
                 "    dx = grid[1] - grid[0]\n"
                 "    return float(np.sum(np.abs(p.cdf(grid) - q.cdf(grid))) * dx)\n")
CDFS_OK = ("def w1_from_cdfs(p, q, grid):\n    import numpy as np\n    dx = grid[1] - grid[0]\n"
           "    return float(np.sum(np.abs(p.cdf(grid) - q.cdf(grid))) * dx)\n")


# ----------------------------------------------------------------------------- without nbgrader
def test_definitions_only_drops_everything_but_definitions():
    src = FAKE + "def check_w1_sorted(fn):\n    return FAKE()\n" + W1_SORTED_OK + \
        "import wgan_lessons.exercises as E\nE.check_w1_sorted = None\nN = 3\nprint('hi')\n%time 1\n"
    code, dropped = grading.definitions_only(src, protected={"check_w1_sorted", "E"})
    assert "def w1_sorted" in code and "class FAKE" in code and "N = 3" in code
    assert "check_w1_sorted" not in code and "print" not in code and "import wgan_lessons" not in code
    assert len(dropped) == 5, dropped


def test_suspicious_names_each_kind_of_tampering():
    protected = {"check_w1_sorted", "np"}
    assert grading.suspicious([W1_SORTED_OK, CDFS_OK_NOISY], protected) == []
    cases = {
        "def check_w1_sorted(fn):\n    return 1\n": "redefines check_w1_sorted",
        "check_w1_sorted = lambda fn: 1\n": "redefines check_w1_sorted",
        "import wgan_lessons.exercises.lesson02 as L\nL._close = lambda *a: True\n": "assigns to L._close",
        "get_ipython().input_transformers_post.append(lambda lines: ['pass'])\n": "get_ipython",
        "def f(u, v):\n    globals()['check_w1_sorted'] = None\n": "globals()",
        "def f(u, v):\n    import gc\n    return gc.get_objects()\n": "gc module",
        "import sys\nsys.modules['wgan_lessons.exercises'] = None\n": "sys.modules",
        "np.sort = sorted\n": "assigns to np.sort",
    }
    for src, fragment in cases.items():
        reasons = grading.suspicious([src], protected)
        assert any(fragment in r for r in reasons), (src, reasons)


def test_verify_ignores_redefinitions_and_patches_of_the_checkers():
    context = ["import numpy as np", "from wgan_lessons.exercises.lesson02 import check_w1_sorted"]
    protected = {"np", "check_w1_sorted"}
    honest = grading.verify("check_w1_sorted", "w1_sorted", [W1_SORTED_OK], context, protected)
    assert honest.passed and not honest.flags, honest
    redefined = grading.verify("check_w1_sorted", "w1_sorted",
                               ["def w1_sorted(u, v):\n    return -1.0\n" + FAKE +
                                "def check_w1_sorted(fn):\n    return FAKE()\n"], context, protected)
    assert not redefined.passed and redefined.flags, redefined
    patched_at_call = grading.verify("check_w1_sorted", "w1_sorted", [
        "def w1_sorted(u, v):\n    import wgan_lessons.exercises.lesson02 as L\n"
        "    L.check_w1_sorted = lambda fn: None\n    return -1.0\n"], context, protected)
    assert not patched_at_call.passed and patched_at_call.flags, patched_at_call
    noisy = grading.verify("check_w1_from_cdfs", "w1_from_cdfs", [CDFS_OK_NOISY], context, protected)
    assert noisy.passed and not noisy.flags and "debugging" in noisy.output, noisy


def test_a_learner_that_kills_the_grading_process_gets_no_points():
    v = grading.verify("check_w1_sorted", "w1_sorted",
                       ["def w1_sorted(u, v):\n    import os\n    os._exit(0)\n"], ["import numpy as np"], {"np"})
    assert not v.passed and any("no verdict" in f for f in v.flags), v


# ----------------------------------------------------------------------------- through nbgrader
def _nbgrader(course: Path, *args: str, check: bool = True):
    import subprocess

    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env["WGAN_LESSONS_FAST"] = "1"
    env["MPLBACKEND"] = "Agg"
    env["OMP_NUM_THREADS"] = "1"
    r = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=env, capture_output=True,
                       text=True, timeout=900)
    if check:
        assert r.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{r.stdout[-3000:]}\n{r.stderr[-6000:]}"
    return r


def _answer(nb, function: str):
    cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution") and f"def {function}(" in c.source]
    assert len(cells) == 1, function
    return cells[0]


def _import_cell(nb):
    cells = [c for c in nb.cells if c.cell_type == "code" and "import check_w1_from_cdfs" in c.source
             or c.cell_type == "code" and "check_w1_sorted" in c.source and "import" in c.source
             and not c.metadata.get("nbgrader", {}).get("grade")]
    assert cells, "lesson 02 has no cell importing its checkers"
    return cells[0]


def _submissions(release):
    subs = {}
    release = grading_cells(release)  # without the experiments: they play no part in grading

    def new(name):
        subs[name] = copy.deepcopy(release)
        return subs[name]

    nb = new("redefine")  # 1: a def in the answer cell; 4: correct but noisy
    _answer(nb, "w1_sorted").source += "\n" + FAKE + "def check_w1_sorted(fn):\n    return FAKE()\n"
    _answer(nb, "w1_from_cdfs").source = CDFS_OK_NOISY

    nb = new("import_edit")  # 2: the import cell edited (its metadata kept: nbgrader restores it)
    _import_cell(nb).source += "\n" + FAKE + "check_w1_sorted = check_w1_from_cdfs = lambda fn: FAKE()\n"

    nb = new("import_stripped")  # 2 (metadata stripped, so not restored); 5: the package's reference
    cell = _import_cell(nb)
    cell.metadata.pop("nbgrader", None)
    cell.source += "\n" + FAKE + "check_w1_sorted = check_w1_from_cdfs = lambda fn: FAKE()\n"
    _answer(nb, "w1_sorted").source = ("from wgan_lessons.transport import wasserstein_1d\n"
                                       "def w1_sorted(u, v):\n    return wasserstein_1d(u, v)\n")

    nb = new("patch")  # 3: a private helper of the checker, and a public checker
    _answer(nb, "w1_sorted").source = ("import wgan_lessons.exercises.lesson02 as L\nL._close = lambda *a, **k: True\n"
                                       "def w1_sorted(u, v):\n    return -1.0\n")
    _answer(nb, "w1_from_cdfs").source += ("\nimport wgan_lessons.exercises as E\n" + FAKE +
                                           "E.check_w1_from_cdfs = lambda fn: FAKE()\n")

    nb = new("transformer")  # 3: an input transformer that blanks every later cell; 5: SciPy; 4: correct
    _answer(nb, "w1_sorted").source = ("import scipy.stats\n"
                                       "def w1_sorted(u, v):\n    return scipy.stats.wasserstein_distance(u, v)\n"
                                       "get_ipython().input_transformers_post.append(lambda lines: ['pass\\n'])\n")
    _answer(nb, "w1_from_cdfs").source = CDFS_OK

    nb = new("deleted")  # 7: correct answers, test cells deleted
    _answer(nb, "w1_sorted").source = W1_SORTED_OK
    _answer(nb, "w1_from_cdfs").source = CDFS_OK
    nb.cells = [c for c in nb.cells if not c.metadata.get("nbgrader", {}).get("grade")]

    nb = new("killed")  # 7: the kernel dies
    _answer(nb, "w1_sorted").source = W1_SORTED_OK + "\nimport os\nos._exit(1)\n"
    return subs


EXPECTED = {  # (test_w1_sorted, test_w1_from_cdfs), flagged
    "redefine": ((0, 1), True),
    "import_edit": ((0, 0), False),
    "import_stripped": ((0, 0), True),
    "patch": ((0, 0), True),
    "transformer": ((0, 1), True),
    "deleted": ((1, 1), True),
}


@pytest.mark.slow
@pytest.mark.notebook
def test_tampering_earns_nothing_and_correct_answers_keep_their_points(tmp_path):
    pytest.importorskip("nbgrader")
    from nbgrader.api import Gradebook

    course, assignment, name = tmp_path / "course", LESSON.stem, LESSON.name
    assert main(["teacher", "export", str(course)]) == 0
    _nbgrader(course, "generate_assignment", assignment, "--force")
    release = nbformat.read(course / "release" / assignment / name, as_version=4)
    for student, nb in _submissions(release).items():
        folder = course / "submitted" / student / assignment
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / name)
    r = _nbgrader(course, "autograde", assignment, "--create", "--force", check=False)
    log = r.stdout + r.stderr

    rows = {row["student"]: row for row in grading.flags_report(course)}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for student, (scores, flagged) in EXPECTED.items():
            sub = gb.find_submission(assignment, student)
            got = {g.name: g.score for nbk in sub.notebooks for g in nbk.grades}
            assert (got["test_w1_sorted"], got["test_w1_from_cdfs"]) == scores, (student, got, log[-3000:])
            assert (student in rows) == flagged, (student, rows.get(student))
    assert rows["killed"]["status"] == "not graded", rows.get("killed")
    assert "restored" in " ".join(rows["deleted"]["reasons"]), rows["deleted"]

    # the feedback never shows PASSED next to 0 points, and names the flag
    graded = nbformat.read(course / "autograded" / "redefine" / assignment / name, as_version=4)
    texts = {c.metadata["nbgrader"]["grade_id"]: "".join(o.get("text", "") for o in c.outputs)
             for c in graded.cells if c.metadata.get("nbgrader", {}).get("grade")}
    assert texts["test_w1_sorted"].startswith("NOT YET") and "FLAGGED FOR REVIEW" in texts["test_w1_sorted"]
    assert "PASSED" in texts["test_w1_from_cdfs"] and "debugging" in texts["test_w1_from_cdfs"]

    # the teacher's command lists them, and says so in its exit status
    assert main(["teacher", "flags", str(course)]) == 1
    # and nbgrader's own CSV export carries them in a column
    import csv

    _nbgrader(course, "export")
    with open(course / "grades.csv", newline="") as fh:
        flags = {r["student_id"]: r["wgan_flags"] for r in csv.DictReader(fh)}
    assert "not graded" in flags["killed"] and "restored" in flags["deleted"], flags
    assert all(bool(flags[s]) == flagged for s, (_, flagged) in EXPECTED.items()), flags
