"""Tools for teachers: solution notebooks and an nbgrader course, built from one source.

The student notebooks in ``notebooks/`` are the single source of the lessons. An exercise is a
code cell holding ``# YOUR CODE HERE``: it defines one or more stub functions whose body, after
the docstring, is ``# YOUR CODE HERE`` and ``raise NotImplementedError``. A later *check cell*
calls a checker from :mod:`wgan_lessons.exercises` on the function, ``check_x(fn)`` (possibly
inside ``display(...)``). The solutions live in ``teacher/solutions/<notebook stem>.py``: one
function per stub, with the same name and signature. Everything below is generated from these
two sources:

- :func:`solution_notebook` / :func:`build_solutions`: ``solutions/<notebook>.ipynb``, the
  lesson with every stub's body replaced by the solution's body (the notebook keeps its own
  ``def`` line and docstring, and every other line of the cell), without outputs.
- :func:`nbgrader_notebook` / :func:`export_nbgrader`: an nbgrader course folder
  (``nbgrader_config.py`` and ``source/<assignment>/<notebook>.ipynb``, assignment = notebook
  stem) in nbgrader's cell-metadata format, schema version 3 (nbgrader documentation,
  https://nbgrader.readthedocs.io: "Creating and grading assignments" and the metadata format;
  checked by ``nbgrader/nbgraderformat/v3.py`` in nbgrader 0.9):

  * exercise cell -> *autograded answer* cell, ``{"solution": true, "grade": false, "locked":
    false}``, each solution body between ``### BEGIN SOLUTION`` and ``### END SOLUTION``, which
    ``nbgrader generate_assignment`` replaces by ``# YOUR CODE HERE`` /
    ``raise NotImplementedError()`` (nbgrader's ``ClearSolutions.code_stub``);
  * check cell -> one *autograder tests* cell per checker call, ``{"grade": true, "solution":
    false, "locked": true, "points": 1}``, whose source is ``_r = check_x(fn)``, ``print(_r)``,
    ``assert _r.passed, _r.message``;
  * markdown cell and every other code cell (the lesson's imports, plots, widgets) -> *read-only*
    cell, ``{"locked": true, "solution": false, "grade": false}``: autograde restores it if edited;
  * the exported ``nbgrader_config.py`` adds :class:`wgan_lessons.grading.VerifyChecks` before
    SaveAutoGrades (the grade comes from re-running each check in a fresh process, not from the
    student's kernel) and restores deleted test cells (issue 13).

Command line: ``python -m wgan_lessons teacher solutions [--out solutions]`` and
``python -m wgan_lessons teacher export DIR``. Bad input (a stub without a solution, a solution
without a stub, a signature that differs, an exercise no check cell calls) raises a ValueError
that names the function and the notebook.
"""

from __future__ import annotations

import ast
import copy
import io
import re
import textwrap
import tokenize
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS_DIR = ROOT / "notebooks"
SOLUTIONS_SRC_DIR = ROOT / "teacher" / "solutions"
SOLUTIONS_DIR = ROOT / "solutions"
COURSE_ID = "wgan-lessons"

MARKER = "# YOUR CODE HERE"
BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
NBGRADER_SCHEMA = 3
REGENERATE = "python -m wgan_lessons teacher solutions"

_CHECKER = re.compile(r"check_\w+")


@dataclass(frozen=True)
class Exercise:
    """An exercise cell: its index in ``nb.cells`` and the stub functions it defines, in order."""

    cell: int
    functions: tuple[str, ...]


@dataclass(frozen=True)
class Check:
    """A check cell: its index in ``nb.cells`` and its checker calls, ``(checker, function)`` in order."""

    cell: int
    calls: tuple[tuple[str, str], ...]


# ----------------------------------------------------------------------------- reading notebooks and solutions


def lesson_notebooks(notebooks_dir: Path | str = NOTEBOOKS_DIR) -> list[Path]:
    """The lesson notebooks, ``notebooks/[0-9]*.ipynb``, in order; a ValueError if there are none."""
    paths = sorted(Path(notebooks_dir).glob("[0-9]*.ipynb"))
    if not paths:
        raise ValueError(f"no lesson notebooks ([0-9]*.ipynb) in {notebooks_dir}; run this from a clone of the "
                         "course repository")
    return paths


def _parse(source: str, where: str) -> ast.Module:
    try:
        return ast.parse(source)
    except SyntaxError as exc:
        raise ValueError(f"{where}: not valid Python ({exc.msg}, line {exc.lineno})") from exc


def find_exercises(nb, *, name: str = "notebook") -> list[Exercise]:
    """The exercise cells of ``nb``: code cells containing ``# YOUR CODE HERE``, each with the names of
    the top-level functions that contain the marker (its stubs), found with :mod:`ast`.

    Raises ValueError if such a cell is not valid Python or has the marker outside any function;
    ``name`` labels the message.
    """
    found = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or MARKER not in cell.source:
            continue
        tree = _parse(cell.source, f"{name} cell {i}")
        lines = cell.source.splitlines()
        marker_lines = {n for n, line in enumerate(lines, start=1) if MARKER in line}
        stubs = [node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                 and any(node.lineno <= n <= node.end_lineno for n in marker_lines)]
        if not stubs:
            raise ValueError(f"{name} cell {i} has {MARKER!r} outside any function; an exercise cell defines "
                             "the function the learner fills in")
        found.append(Exercise(i, tuple(stubs)))
    return found


def _checker_calls(node: ast.AST, names: set[str]) -> list[tuple[str, str]]:
    calls = []
    for sub in ast.walk(node):
        if (isinstance(sub, ast.Call) and isinstance(sub.func, ast.Name) and _CHECKER.fullmatch(sub.func.id)
                and sub.args and isinstance(sub.args[0], ast.Name) and sub.args[0].id in names):
            calls.append((sub.lineno, sub.col_offset, sub.func.id, sub.args[0].id))
    return [(checker, fn) for *_, checker, fn in sorted(calls)]  # in source order (ast.walk is breadth-first)


def find_checks(nb, functions=None) -> list[Check]:
    """The check cells of ``nb``: code cells that call a ``check_*`` function on an exercise function,
    ``check_x(fn)`` (possibly inside ``display(...)``), with their calls in order.

    ``functions``: the exercise function names (default: those of :func:`find_exercises`; pass them
    for a solution notebook, which has no stubs left)."""
    if functions is None:
        functions = [f for ex in find_exercises(nb) for f in ex.functions]
    names = set(functions)
    checks = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or MARKER in cell.source or not _CHECKER.search(cell.source):
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:  # a cell with IPython magics is not a check cell
            continue
        calls = _checker_calls(tree, names)
        if calls:
            checks.append(Check(i, tuple(calls)))
    return checks


def _solutions(source: str, where: str) -> dict[str, ast.FunctionDef]:
    tree = _parse(source, where)
    return {node.name: node for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}


def _docstring_end(fn: ast.FunctionDef) -> int | None:
    first = fn.body[0]
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        return first.end_lineno
    return None


def _header_end(source: str, fn: ast.FunctionDef) -> int:
    """The line (1-based) of the ``:`` that ends ``fn``'s ``def`` header."""
    depth = 0
    seen_def = False
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.start[0] < fn.lineno:
            continue
        if tok.type == tokenize.NAME and tok.string == "def" and not seen_def:
            seen_def = True
        elif seen_def and tok.type == tokenize.OP:
            if tok.string in "([{":
                depth += 1
            elif tok.string in ")]}":
                depth -= 1
            elif tok.string == ":" and depth == 0:
                return tok.start[0]
    raise ValueError(f"could not find the end of the def line of {fn.name}")  # pragma: no cover


def _body_start(source: str, fn: ast.FunctionDef) -> int:
    """The first line (1-based) of ``fn``'s body after its docstring (comments included)."""
    doc = _docstring_end(fn)
    return doc + 1 if doc is not None else _header_end(source, fn) + 1


def _signature(fn: ast.FunctionDef) -> str:
    return f"{'async ' if isinstance(fn, ast.AsyncFunctionDef) else ''}def {fn.name}({ast.unparse(fn.args)})"


def _body_lines(source: str, fn: ast.FunctionDef, indent: str) -> list[str]:
    """The solution's body after its docstring, re-indented to ``indent``; blank edges dropped."""
    lines = source.splitlines()[_body_start(source, fn) - 1:fn.end_lineno]
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise ValueError(f"the solution of {fn.name} has no body after its docstring (write the body on its own "
                         "lines, below the def line)")
    return textwrap.indent(textwrap.dedent("\n".join(lines)), indent).splitlines()


def _fill_cell(source: str, solutions: dict[str, ast.FunctionDef], solutions_source: str, where: str,
               markers: bool) -> str:
    """``source`` (an exercise cell) with every stub's body replaced by its solution's body."""
    tree = _parse(source, where)
    lines = source.splitlines()
    stubs = [node for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
             and any(MARKER in line for line in lines[node.lineno - 1:node.end_lineno])]
    for stub in sorted(stubs, key=lambda n: n.lineno, reverse=True):  # bottom-up keeps line numbers valid
        sol = solutions[stub.name]
        if _signature(stub) != _signature(sol):
            raise ValueError(f"{where}: the solution's signature `{_signature(sol)}` differs from the stub's "
                             f"`{_signature(stub)}`")
        start = _body_start(source, stub)
        indent = " " * stub.body[0].col_offset
        body = _body_lines(solutions_source, sol, indent)
        if markers:
            body = [indent + BEGIN_SOLUTION, *body, indent + END_SOLUTION]
        lines[start - 1:stub.end_lineno] = body
    return "\n".join(lines)


def _matched(student_nb, solutions_py_source: str, where: str):
    exercises = find_exercises(student_nb, name=where)
    solutions = _solutions(solutions_py_source, f"{where} solutions")
    stubs = [f for ex in exercises for f in ex.functions]
    missing = [f for f in stubs if f not in solutions]
    if missing:
        raise ValueError(f"{where}: no solution for the exercise function(s) {', '.join(missing)}; add "
                         f"def {missing[0]}(...) to its solutions file")
    extra = [f for f in solutions if f not in stubs]
    if extra:
        raise ValueError(f"{where}: the solution(s) {', '.join(extra)} have no stub ({MARKER!r}) in the notebook; "
                         "remove them or rename them to match the notebook's function")
    dup = sorted({f for f in stubs if stubs.count(f) > 1})
    if dup:
        raise ValueError(f"{where}: the exercise function(s) {', '.join(dup)} are defined in more than one cell")
    return exercises, solutions


def _clean(nb):
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return nb


# ----------------------------------------------------------------------------- solution notebooks


def solution_notebook(student_nb, solutions_py_source: str, *, name: str = "notebook"):
    """A copy of ``student_nb`` with every exercise function's body replaced by its solution's body.

    ``solutions_py_source`` is the text of a Python file defining one function per stub, with the
    stub's name and signature. In each exercise cell the stub keeps its ``def`` line and docstring;
    the lines after the docstring (``# YOUR CODE HERE`` / ``raise NotImplementedError``) become the
    solution's lines after its own docstring, re-indented. Other lines of the cell (imports, other
    code) are kept. Outputs are cleared. ``name`` only labels error messages.

    Raises ValueError naming the function if a stub has no solution, a solution has no stub, or
    their signatures differ.
    """
    exercises, solutions = _matched(student_nb, solutions_py_source, name)
    nb = _clean(copy.deepcopy(student_nb))
    for ex in exercises:
        cell = nb.cells[ex.cell]
        cell.source = _fill_cell(cell.source, solutions, solutions_py_source, f"{name} cell {ex.cell}", markers=False)
    return nb


def _teacher_note(nb_name: str, sol_name: str) -> str:
    return (f"> **Teacher's copy, with the solutions.** Generated by `{REGENERATE}` from "
            f"`notebooks/{nb_name}` and `teacher/solutions/{sol_name}`: edit those, not this file.")


def render_solutions(notebooks_dir: Path | str = NOTEBOOKS_DIR,
                     solutions_src_dir: Path | str = SOLUTIONS_SRC_DIR) -> dict[str, str]:
    """``{notebook file name: text of its solution notebook}`` for every lesson notebook.

    Each is :func:`solution_notebook` with a note after the title cell saying where it comes from.
    """
    import nbformat

    out = {}
    for path in lesson_notebooks(notebooks_dir):
        sol_path = Path(solutions_src_dir) / f"{path.stem}.py"
        if not sol_path.is_file():
            raise ValueError(f"{path.name}: no solutions file {sol_path}; write one function per exercise there")
        nb = nbformat.read(path, as_version=4)
        nb = solution_notebook(nb, sol_path.read_text(encoding="utf-8"), name=path.name)
        note = nbformat.v4.new_markdown_cell(_teacher_note(path.name, sol_path.name))
        if "id" in nb.cells[0]:
            note.id = "teacher-note"
        else:
            note.pop("id", None)
        nb.cells.insert(1, note)
        text = nbformat.writes(nb)
        out[path.name] = text if text.endswith("\n") else text + "\n"
    return out


def _check_targets(out_dir: Path, targets: list[Path]) -> None:
    """Before writing anything: the folder is a folder, and no file to write is a folder, so a
    write never stops half-way through (a partial set of notebooks)."""
    if out_dir.exists() and not out_dir.is_dir():
        raise ValueError(f"{out_dir} exists and is not a folder; give a folder (created if missing)")
    for path in targets:
        for parent in [path, *path.parents]:
            if parent == out_dir:
                break
            if (parent == path and parent.is_dir()) or (parent != path and parent.exists() and not parent.is_dir()):
                raise ValueError(f"cannot write {path}: {parent} is in the way ({'a folder' if parent.is_dir() else 'a file'})")


def build_solutions(out_dir: Path | str = SOLUTIONS_DIR, notebooks_dir: Path | str = NOTEBOOKS_DIR,
                    solutions_src_dir: Path | str = SOLUTIONS_SRC_DIR) -> list[Path]:
    """Write ``<out_dir>/<notebook>.ipynb``, the solution notebook of every lesson (no outputs).

    ``solutions/`` at the repository root is committed; ``tests/test_teacher.py`` fails when it
    differs from what this writes now (run ``python -m wgan_lessons teacher solutions``).
    """
    out_dir = Path(out_dir)
    texts = render_solutions(notebooks_dir, solutions_src_dir)
    _check_targets(out_dir, [out_dir / name for name in texts])
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in texts.items():
        (out_dir / name).write_text(text, encoding="utf-8")
        written.append(out_dir / name)
    return written


# ----------------------------------------------------------------------------- nbgrader


def strip_solution_markers(source: str) -> str:
    """``source`` without its ``### BEGIN SOLUTION`` / ``### END SOLUTION`` lines: what a learner who
    solved the exercise would have in the cell."""
    return "\n".join(line for line in source.splitlines() if line.strip() not in (BEGIN_SOLUTION, END_SOLUTION))


def _nbgrader_meta(grade_id: str, *, solution: bool = False, grade: bool = False, locked: bool = False,
                   points: int | None = None) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": NBGRADER_SCHEMA,
            "solution": solution}
    if points is not None:
        meta["points"] = points
    return meta


def _test_cells(nb, check: Check, where: str) -> list:
    """The nbgrader test cells replacing a check cell: one per checker call; the cell's other
    statements (its imports) open each of them."""
    import nbformat

    cell = nb.cells[check.cell]
    tree = ast.parse(cell.source)
    names = {f for _, f in check.calls}
    preamble = []
    for stmt in tree.body:
        if _checker_calls(stmt, names):
            if not isinstance(stmt, ast.Expr):
                raise ValueError(f"{where}: write the check as a bare call `check_x(fn)` (or display(check_x(fn))), "
                                 f"not `{ast.get_source_segment(cell.source, stmt)}`")
        else:
            preamble.append(ast.get_source_segment(cell.source, stmt))
    cells = []
    for k, (checker, fn) in enumerate(check.calls):
        src = "\n".join([*preamble, f"_r = {checker}({fn})", "print(_r)", "assert _r.passed, _r.message"])
        new = nbformat.v4.new_code_cell(src)
        new.metadata["nbgrader"] = _nbgrader_meta(f"test_{fn}", grade=True, locked=True, points=1)
        if "id" in cell:
            new.id = f"{cell.id}-{k}" if len(check.calls) > 1 else cell.id
        else:
            new.pop("id", None)
        cells.append(new)
    return cells


def nbgrader_notebook(student_nb, solutions_py_source: str, *, name: str = "notebook"):
    """The nbgrader *source* version of a lesson (see the module docstring for the cell format).

    Raises ValueError as :func:`solution_notebook` does, and also when an exercise function is
    never checked (it would carry no points).
    """
    exercises, solutions = _matched(student_nb, solutions_py_source, name)
    checks = find_checks(student_nb, [f for ex in exercises for f in ex.functions])
    checked = {f for c in checks for _, f in c.calls}
    unchecked = [f for ex in exercises for f in ex.functions if f not in checked]
    if unchecked:
        raise ValueError(f"{name}: no check cell calls check_*({unchecked[0]}); an exercise needs a check cell "
                         "to be graded")
    nb = _clean(copy.deepcopy(student_nb))
    by_cell = {c.cell: c for c in checks}
    ex_by_cell = {ex.cell: ex for ex in exercises}
    cells = []
    for i, cell in enumerate(nb.cells):
        if i in ex_by_cell:
            cell.source = _fill_cell(cell.source, solutions, solutions_py_source, f"{name} cell {i}", markers=True)
            cell.metadata["nbgrader"] = _nbgrader_meta("solution_" + "_".join(ex_by_cell[i].functions),
                                                       solution=True)
            cells.append(cell)
        elif i in by_cell:
            cells.extend(_test_cells(nb, by_cell[i], f"{name} cell {i}"))
        elif cell.cell_type == "markdown":
            cell.metadata["nbgrader"] = _nbgrader_meta(f"md_{i:02d}", locked=True)
            cells.append(cell)
        else:  # the lesson's own code: read-only, restored by autograde if edited (issue 13)
            cell.metadata["nbgrader"] = _nbgrader_meta(f"code_{i:02d}", locked=True)
            cells.append(cell)
    nb.cells = cells
    ids = [c.metadata["nbgrader"]["grade_id"] for c in cells if "nbgrader" in c.metadata]
    dup = sorted({g for g in ids if ids.count(g) > 1})
    if dup:
        raise ValueError(f"{name}: duplicate nbgrader grade_id(s) {dup}; check each exercise function once")
    return nb


NBGRADER_CONFIG = '''"""nbgrader configuration of the {course_id} course.

Written by `python -m wgan_lessons teacher export`. Assignments are the lessons, one notebook
each, in source/<assignment>/ (assignment = notebook stem, e.g. 01_gan_minimax). See
docs/teachers.md in the course repository.
"""
import os

c = get_config()  # noqa: F821 (defined by nbgrader when it loads this file)

c.CourseDirectory.course_id = "{course_id}"
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))

# Autograde in the course's fast mode (fewer training steps; every check is the same), which the
# kernels inherit from this environment variable. Set WGAN_LESSONS_FAST=0 to grade at full settings.
fast = os.environ.setdefault("WGAN_LESSONS_FAST", "1").strip().lower() in {{"1", "true", "yes", "on"}}
# Seconds per cell before autograding interrupts it: fast-mode cells take seconds, full-settings
# training cells can take many minutes. A cell that shows an ipywidgets interactive() sometimes
# waits for this timeout although the kernel is done (nbclient issue 312), so keep it short in fast mode.
c.Execute.timeout = 60 if fast else 3600

# nbclient's wait for a cell's reply sometimes misses it after an ipywidgets cell and sits until that
# timeout with no error (nbclient issue 312). Autograde with nbgrader's own Execute step, made to
# re-poll every 0.5 s (wgan_lessons.course.SlicedPollMixin), so grading takes the time of an honest run.
from nbgrader.converters.autograde import Autograde  # noqa: E402
from nbgrader.preprocessors import Execute  # noqa: E402
from wgan_lessons.course import SlicedPollMixin  # noqa: E402


class SlicedPollExecute(SlicedPollMixin, Execute):
    pass


_steps = [SlicedPollExecute if p is Execute else p for p in Autograde.class_traits()["autograde_preprocessors"].default()]

# The grade does not come from the student's kernel, where a cell can redefine or patch the checkers:
# just before nbgrader saves the grades, wgan_lessons.grading.VerifyChecks re-runs every check in a
# fresh Python process (the lesson's imports from the release, the learner's definitions only) and
# that verdict becomes the test cell's output, hence the grade. Suspicious submissions are flagged:
# `python -m wgan_lessons teacher flags .` lists them (docs/teachers.md, "Running autograde safely").
from nbgrader.preprocessors import SaveAutoGrades  # noqa: E402
from wgan_lessons.grading import VerifyChecks  # noqa: E402

_steps.insert(_steps.index(SaveAutoGrades), VerifyChecks)
c.Autograde.autograde_preprocessors = _steps

# Test cells deleted from a submission are put back (and listed by `teacher flags`), not scored as missing.
c.OverwriteCells.add_missing_cells = True

# `nbgrader export` writes nbgrader's CSV plus a wgan_flags column (flagged, restored or ungraded submissions).
c.ExportApp.plugin_class = "wgan_lessons.grading.FlaggedCsvExport"
'''


def export_nbgrader(out_dir: Path | str, *, course_id: str = COURSE_ID, force: bool = False,
                    notebooks_dir: Path | str = NOTEBOOKS_DIR,
                    solutions_src_dir: Path | str = SOLUTIONS_SRC_DIR) -> list[Path]:
    """Write an nbgrader course to ``out_dir``: ``nbgrader_config.py`` and
    ``source/<stem>/<stem>.ipynb`` (:func:`nbgrader_notebook`) for every lesson.

    Then, in ``out_dir``: ``nbgrader generate_assignment <stem>`` makes ``release/``, and after
    collecting submissions in ``submitted/<student>/<stem>/``, ``nbgrader autograde <stem>``
    grades them. Refuses to overwrite existing files unless ``force``. Returns the written paths.
    """
    import nbformat

    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", course_id):
        raise ValueError(f"course_id: {course_id!r} must be letters, digits, '_', '.', '-'")
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ValueError(f"{out_dir} exists and is not a folder")
    notebooks = {}
    for path in lesson_notebooks(notebooks_dir):
        sol_path = Path(solutions_src_dir) / f"{path.stem}.py"
        if not sol_path.is_file():
            raise ValueError(f"{path.name}: no solutions file {sol_path}; write one function per exercise there")
        nb = nbgrader_notebook(nbformat.read(path, as_version=4), sol_path.read_text(encoding="utf-8"),
                               name=path.name)
        notebooks[out_dir / "source" / path.stem / path.name] = nb
    targets = [out_dir / "nbgrader_config.py", *notebooks]
    _check_targets(out_dir, targets)
    existing = [p for p in targets if p.exists()]
    if existing and not force:
        raise ValueError(f"{existing[0]} already exists; pass --force (force=True) to overwrite the exported files")
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "nbgrader_config.py").write_text(NBGRADER_CONFIG.format(course_id=course_id), encoding="utf-8")
    for path, nb in notebooks.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, path)
    return targets
