"""Grading that a submission cannot talk its way through (issue 13).

Inside one Jupyter kernel, a learner's cell can change anything: redefine ``check_w1_sorted``,
edit the cell that imports it, replace a function of :mod:`wgan_lessons.exercises`, register an
IPython input transformer that rewrites the test cells. So the grade does not come from the
kernel. After nbgrader has run the submission, :class:`VerifyChecks` (an nbgrader preprocessor
that ``teacher export`` puts into the course's ``nbgrader_config.py``, right after the Execute
step) re-runs every check **in a fresh Python process**:

1. the genuine checker is imported first, before any learner code, from the installed package;
2. the lesson's own imports run (from the released notebook, not from the submission);
3. from each answer cell of the submission only the *definitions* run (``def``, ``class``,
   ``import``, and names bound to literal constants); every other top-level statement (a
   redefinition of a checker, a monkeypatch, a magic, a print) is dropped;
4. the checker is called on the learner's function, and afterwards the process verifies that no
   function of :mod:`wgan_lessons.exercises` was replaced and that the result is a genuine
   :class:`~wgan_lessons.exercises.base.CheckResult`.

That verdict is the grade: the test cell's outputs are replaced by it, so the feedback never
shows "PASSED" next to 0 points or "NOT YET" next to full marks, and a correct answer keeps its
point whatever it printed to stderr. Submissions whose answer cells do something only a tamperer
needs (replace a checker, patch a module, reach into the interpreter: see :func:`suspicious`)
are **flagged for review**: the flag is printed in the test cell (so it is in the feedback) and kept
in the autograded notebook's metadata; ``python -m wgan_lessons teacher flags COURSE_DIR`` lists
every flag, every test cell nbgrader had to restore, and every submission that could not be graded.

This is defence in depth, not a sandbox: learner code still runs with the grader's rights (see the
teachers' guide, "Running autograde safely").
"""

from __future__ import annotations

import ast
import json
import os
import secrets
import subprocess
import sys
from dataclasses import dataclass, field

__all__ = ["Verdict", "definitions_only", "suspicious", "verify", "verify_many", "flags_report", "VerifyChecks",
           "FlaggedCsvExport"]

#: Names whose use in an answer cell only makes sense for reaching into the grader.
_TAMPER_NAMES = {
    "get_ipython": "uses get_ipython() (IPython's input transformers and events can rewrite later cells)",
    "setattr": "calls setattr() (can replace functions of other modules)",
    "delattr": "calls delattr()",
    "globals": "uses globals() (can rebind the notebook's names, such as the checkers)",
    "vars": "uses vars()",
    "exec": "calls exec()",
    "eval": "calls eval()",
    "compile": "calls compile()",
    "__import__": "calls __import__()",
    "importlib": "uses importlib",
    "builtins": "uses the builtins module",
    "__builtins__": "uses __builtins__",
    "gc": "uses the gc module (can reach any object)",
    "inspect": "uses the inspect module",
    "ctypes": "uses ctypes",
    "_getframe": "uses sys._getframe()",
    "_exit": "calls os._exit()",
}
_TAMPER_ATTRS = {
    "modules": "uses sys.modules", "__dict__": "uses __dict__", "__code__": "uses __code__",
    "__globals__": "uses __globals__", "__closure__": "uses __closure__", "__subclasses__": "uses __subclasses__",
    "input_transformers_cleanup": "uses IPython's input transformers",
    "input_transformers_post": "uses IPython's input transformers", "ast_transformers": "uses IPython's AST transformers",
    "events": None,  # only with get_ipython, which is flagged already
}


@dataclass
class Verdict:
    """The grade of one check run where the learner's code could not change it."""
    passed: bool
    message: str
    flags: list[str] = field(default_factory=list)
    output: str = ""  # what the learner's code printed during the check


def _python_source(src: str) -> str:
    """A cell's source as plain Python (IPython magics become calls, which are then dropped)."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        return TransformerManager().transform_cell(src)
    except Exception:  # pragma: no cover - IPython is where notebooks are graded
        return src


def _is_literal(node: ast.AST) -> bool:
    try:
        ast.literal_eval(node)
        return True
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False


def definitions_only(src: str, protected=()) -> tuple[str, list[str]]:
    """The part of an answer cell that may run when it is graded: ``def``, ``class``, ``import``
    and assignments of literal constants to plain names (not to a ``protected`` name, such as a
    checker's). Returns ``(source, dropped)`` with ``dropped`` the source of every statement left
    out. A cell that does not parse returns ``("", [reason])``."""
    py = _python_source(src)
    try:
        tree = ast.parse(py)
    except SyntaxError as exc:
        return "", [f"the cell does not parse: {exc.msg} (line {exc.lineno})"]
    keep, dropped = [], []
    for node in tree.body:
        ok = isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom))
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            ok = True  # a docstring or a bare constant
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            ok = (node.value is not None and _is_literal(node.value)
                  and all(isinstance(t, ast.Name) and t.id not in protected for t in targets))
        if ok and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name in protected:
            ok = False
        if ok and isinstance(node, (ast.Import, ast.ImportFrom)):
            bound = [(a.asname or a.name).split(".")[0] for a in node.names]
            ok = not any(b in protected for b in bound)
        (keep if ok else dropped).append(node)
    code = "\n\n".join(ast.get_source_segment(py, n) or ast.unparse(n) for n in keep)
    return code, [ast.get_source_segment(py, n) or ast.unparse(n) for n in dropped]


def suspicious(answers: list[str], protected=()) -> list[str]:
    """Reasons to have a human look at a submission: what its answer cells do that only reaching
    into the grader needs. ``protected``: the names the lesson binds (its checkers, its imports).
    Top-level statements that :func:`definitions_only` drops are harmless to the grade (they do not
    run when it is graded); they are flagged only when they rebind a protected name or assign to an
    attribute or an item (a monkeypatch)."""
    reasons: list[str] = []

    def add(r: str) -> None:
        if r not in reasons:
            reasons.append(r)

    for k, src in enumerate(answers, 1):
        py = _python_source(src)
        try:
            tree = ast.parse(py)
        except SyntaxError:
            continue
        where = f"answer cell {k}"
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and node.id in _TAMPER_NAMES:
                add(f"{where} {_TAMPER_NAMES[node.id]}")
            elif isinstance(node, ast.Attribute):
                if node.attr in _TAMPER_NAMES:
                    add(f"{where} {_TAMPER_NAMES[node.attr]}")
                elif _TAMPER_ATTRS.get(node.attr):
                    add(f"{where} {_TAMPER_ATTRS[node.attr]}")
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                mods = [a.name for a in node.names] + ([node.module] if isinstance(node, ast.ImportFrom) and
                                                       node.module else [])
                for m in mods:
                    root = m.split(".")[0]
                    if root in _TAMPER_NAMES:
                        add(f"{where} {_TAMPER_NAMES[root]}")
                    if root == "wgan_lessons" and ("exercises" in m or "grading" in m):
                        add(f"{where} imports the course's checkers ({m})")
            targets = []
            if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            elif isinstance(node, ast.Delete):
                targets = node.targets
            for t in targets:
                for sub in ast.walk(t):
                    if isinstance(sub, ast.Attribute) and isinstance(sub.ctx, (ast.Store, ast.Del)):
                        root = sub
                        while isinstance(root, ast.Attribute):
                            root = root.value
                        if isinstance(root, ast.Name) and root.id != "self":
                            add(f"{where} assigns to {ast.unparse(sub)} (replacing something another module uses)")
        for node in tree.body:  # top level: rebinding the lesson's names
            names = []
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names = [node.name]
            elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                ts = node.targets if isinstance(node, ast.Assign) else [node.target]
                names = [n.id for t in ts for n in ast.walk(t) if isinstance(n, ast.Name)]
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [(a.asname or a.name).split(".")[0] for a in node.names]
            for n in names:
                if n in protected:
                    add(f"{where} redefines {n}, a name the lesson's own cells bind")
    return reasons


# ----------------------------------------------------------------------------- the fresh process
def _fingerprint() -> dict:
    """Which function objects (and their code) the course's checkers are made of, right now."""
    import types

    out = {}
    for name, mod in list(sys.modules.items()):
        if name.startswith("wgan_lessons.exercises") or name == "wgan_lessons.grading":
            for attr, obj in list(vars(mod).items()):
                if isinstance(obj, (types.FunctionType, type)):
                    out[f"{name}.{attr}"] = (id(obj), id(getattr(obj, "__code__", None)))
    return out


def _child() -> int:
    """Run the checks of one notebook (the payload arrives as JSON on stdin) and print the verdicts,
    one JSON list on one line after the nonce, on a copy of stdout the learner's prints do not use."""
    import contextlib
    import io

    payload = json.loads(sys.stdin.read())
    nonce = payload.pop("nonce")
    real_out = os.fdopen(os.dup(1), "w")
    from wgan_lessons import exercises
    from wgan_lessons.exercises.base import CheckResult

    checkers = {name: getattr(exercises, name, None) for name, _ in payload["calls"]}
    before = _fingerprint()
    ns: dict = {"__name__": "__main__", "__builtins__": __builtins__}
    buf = io.StringIO()
    setup_error = None
    try:
        with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
            for src in payload["context"]:
                exec(compile(src, "<lesson>", "exec"), ns)
            for k, src in enumerate(payload["answers"], 1):
                exec(compile(src, f"<answer cell {k}>", "exec"), ns)
    except BaseException as exc:  # noqa: BLE001 - the learner's code may raise anything, even SystemExit
        setup_error = f"your answer cells raised {type(exc).__name__}: {exc}"
    verdicts = []
    for name, function in payload["calls"]:
        buf.seek(0)
        buf.truncate()
        checker, fn = checkers[name], ns.get(function)
        if checker is None:
            result = CheckResult(False, f"the grader has no checker {name}")
        elif setup_error:
            result = CheckResult(False, setup_error)
        elif fn is None:
            result = CheckResult(False, f"your answer cells do not define {function}")
        else:
            try:
                with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
                    result = checker(fn)
            except BaseException as exc:  # noqa: BLE001
                result = CheckResult(False, f"the check raised {type(exc).__name__}: {exc}")
        ok = type(result) is CheckResult and type(result.passed) is bool and _fingerprint() == before
        if ok:
            verdicts.append({"passed": result.passed, "message": str(result), "output": buf.getvalue()[-2000:]})
        else:
            verdicts.append({"passed": False, "message": "NOT YET: the check was interfered with while it ran "
                             "(a checker of wgan_lessons.exercises was replaced, or it did not return a genuine "
                             "result)", "output": buf.getvalue()[-2000:], "interfered": True})
    real_out.write(nonce + json.dumps(verdicts) + "\n")
    real_out.flush()
    os._exit(0)  # no atexit hook or thread the learner started gets to write after the verdicts


def verify_many(calls, answers: list[str], context: list[str] = (), protected=(), timeout: float = 600.0) -> list:
    """:func:`verify` for several ``(checker, function)`` calls of one notebook, in one fresh process
    (one interpreter start instead of one per check). Returns one :class:`Verdict` per call."""
    calls = [tuple(c) for c in calls]
    protected = set(protected) | {c for c, _ in calls}
    defs = [definitions_only(src, protected)[0] for src in answers]
    flags = suspicious(list(answers), protected)
    nonce = secrets.token_hex(16)
    payload = json.dumps({"calls": calls, "answers": defs, "context": list(context), "nonce": nonce})
    env = dict(os.environ)
    env.setdefault("MPLBACKEND", "Agg")
    try:
        r = subprocess.run([sys.executable, "-m", "wgan_lessons.grading", "--child"], input=payload,
                           capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return [Verdict(False, f"NOT YET: the checks did not finish within {timeout:.0f} s when the grader re-ran "
                               "them (an endless loop?)", flags + ["the grader's re-run timed out"]) for _ in calls]
    lines = [ln[len(nonce):] for ln in r.stdout.splitlines() if ln.startswith(nonce)]
    if len(lines) != 1:
        msg = (f"NOT YET: the grader's re-run of the checks gave no verdict (the process exited with "
               f"{r.returncode}): {r.stderr.strip()[-500:]}")
        return [Verdict(False, msg, flags + ["the grader's re-run gave no verdict"]) for _ in calls]
    out = []
    for v in json.loads(lines[0]):
        f = flags + (["the check was interfered with while it ran"] if v.get("interfered") else [])
        out.append(Verdict(bool(v["passed"]), v["message"], f, v.get("output", "")))
    return out


def verify(checker: str, function: str, answers: list[str], context: list[str] = (), protected=(),
           timeout: float = 300.0) -> Verdict:
    """Run ``checker`` (a name in :mod:`wgan_lessons.exercises`) on the learner's ``function`` in a
    fresh Python process: ``context`` (the lesson's import statements) runs first, then the
    definitions of each answer cell (:func:`definitions_only`). ``protected`` names (the lesson's
    checkers and imports) may not be rebound by an answer cell. Returns the :class:`Verdict`,
    with :func:`suspicious`'s reasons as flags. A process that dies, hangs past ``timeout`` seconds
    or prints no verdict gives a failed, flagged verdict that says so."""
    return verify_many([(checker, function)], answers, context, protected, timeout)[0]


# ----------------------------------------------------------------------------- nbgrader side
def _context_from_sources(sources) -> tuple[list[str], set]:
    """The import statements of the lesson's read-only code cells, and every name those cells bind
    (with the checkers'): what the fresh process runs first, and what answer cells may not rebind."""
    context, names = [], set()
    for src in sources:
        try:
            tree = ast.parse(_python_source(src))
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                context.append(ast.unparse(node))
                names.update((a.asname or a.name).split(".")[0] for a in node.names)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                ts = node.targets if isinstance(node, ast.Assign) else [node.target]
                names.update(n.id for t in ts for n in ast.walk(t) if isinstance(n, ast.Name))
    return context, names


def _test_call(source: str):
    """(checker, function) of a test cell ``_r = check_x(fn)``, or None."""
    for line in source.splitlines():
        line = line.strip()
        if line.startswith("_r = check_") and line.endswith(")") and "(" in line:
            checker, _, rest = line[len("_r = "):].partition("(")
            return checker, rest[:-1].strip()
    return None


def _verdict_outputs(v: Verdict) -> list:
    import nbformat

    text = v.output + ("\n" if v.output and not v.output.endswith("\n") else "")
    text += (f"{v.message}\n(graded by the course's grader in a separate process, where nothing the notebook "
             f"did can change the check: {'full marks' if v.passed else 'no marks'} for this check)\n")
    if v.flags:
        text += "FLAGGED FOR REVIEW by a teacher:\n" + "\n".join(f"  - {f}" for f in v.flags) + "\n"
    outs = [nbformat.v4.new_output("stream", name="stdout", text=text)]
    if not v.passed:
        outs.append(nbformat.v4.new_output("error", ename="AssertionError", evalue=v.message.splitlines()[0],
                                           traceback=[v.message.splitlines()[0]]))
    return outs


def grade_notebook(nb, source_cells=None) -> list[dict]:
    """Re-grade a submitted (nbgrader-sanitised) notebook ``nb`` in place: every test cell
    ``_r = check_x(fn)`` gets the :func:`verify_many` verdict as its outputs. ``source_cells``:
    ``(cell_type, source, locked, grade_id)`` of the released notebook (nbgrader's gradebook);
    the lesson's imports are taken from its locked code cells, never from the submission (the
    submission's own locked cells are used when it is None). The learner's definitions come from
    every code cell that is not a locked lesson cell or a test cell. Returns one report row per
    check: ``grade_id``, ``checker``, ``function``, ``passed``, ``flags``."""
    if source_cells is None:
        source_cells = [(c.cell_type, c.source, c.metadata.get("nbgrader", {}).get("locked", False),
                         c.metadata.get("nbgrader", {}).get("grade_id")) for c in nb.cells]
    locked_ids = {gid for t, _, locked, gid in source_cells if locked and gid}
    lesson = [src for t, src, locked, gid in source_cells if t == "code" and locked]
    context, protected = _context_from_sources([src for src in lesson if _test_call(src) is None])
    answers, tests = [], []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        meta = cell.metadata.get("nbgrader", {})
        call = _test_call(cell.source) if meta.get("grade") and not meta.get("solution") else None
        if call is not None:
            tests.append((cell, call))
        elif not (meta.get("grade_id") in locked_ids or meta.get("locked")):
            answers.append(cell.source)
    restored = [c.metadata.get("nbgrader", {}).get("grade_id") for c, _ in tests
                if "was missing from the submission" in c.source.split("\n", 1)[0]]
    verdicts = verify_many([call for _, call in tests], answers, context, protected) if tests else []
    report = []
    for (cell, call), v in zip(tests, verdicts):
        if restored:
            v.flags.append(f"test cells deleted from the submission and restored by nbgrader: {restored}")
        cell.outputs = _verdict_outputs(v)
        report.append({"grade_id": cell.metadata.get("nbgrader", {}).get("grade_id"), "checker": call[0],
                       "function": call[1], "passed": v.passed, "flags": v.flags})
    nb.metadata["wgan_lessons"] = {"checks": report}  # read back by flags_report()
    return report


def _make_preprocessor():
    from nbgrader.api import Gradebook
    from nbgrader.preprocessors import NbGraderPreprocessor

    class VerifyChecks(NbGraderPreprocessor):
        """nbgrader autograde step (just before SaveAutoGrades): :func:`grade_notebook` with the
        released notebook's cells from the gradebook, so the verdicts of the separate process are
        the grades, and the flags are kept in the autograded notebook's metadata."""

        def preprocess(self, nb, resources):
            info = resources["nbgrader"]
            with Gradebook(info["db_url"]) as gb:
                source = gb.find_notebook(info["notebook"], info["assignment"])
                cells = [(c.cell_type, c.source, bool(c.locked), c.name) for c in source.source_cells]
            report = grade_notebook(nb, cells)
            flagged = sorted({f for r in report for f in r["flags"]})
            self.log.info("wgan-lessons: re-ran %d checks of %s in a separate process: %d passed%s", len(report),
                          info["notebook"], sum(r["passed"] for r in report),
                          f"; FLAGGED FOR REVIEW: {flagged}" if flagged else "")
            if flagged:
                self.log.warning("wgan-lessons: %s of %s is flagged for review: %s", info["notebook"],
                                 info.get("student"), "; ".join(flagged))
            return nb, resources

    return VerifyChecks


def flags_report(course_dir) -> list[dict]:
    """What a teacher must look at after ``nbgrader autograde``, from the course folder: one row
    per submitted notebook that was flagged by :class:`VerifyChecks`, that has a test cell nbgrader
    had to restore (it was deleted from the submission), or that has no autograded notebook at all
    (autograde failed for it: its kernel died, or it timed out). Rows: ``student``, ``assignment``,
    ``notebook``, ``status`` ("flagged", "restored cells" or "not graded") and ``reasons``."""
    from pathlib import Path

    import nbformat

    course = Path(course_dir)
    rows = []
    for sub in sorted(course.glob("submitted/*/*/*.ipynb")):
        student, assignment, name = sub.parts[-3], sub.parts[-2], sub.name
        graded = course / "autograded" / student / assignment / name
        if not graded.is_file():
            rows.append({"student": student, "assignment": assignment, "notebook": name, "status": "not graded",
                         "reasons": ["no autograded notebook: autograde failed for this submission (its kernel "
                                     "died or a cell timed out); see nbgrader's log, grade it by hand"]})
            continue
        nb = nbformat.read(graded, as_version=4)
        checks = nb.metadata.get("wgan_lessons", {}).get("checks")
        reasons = sorted({f for c in checks or [] for f in c["flags"]})
        if checks is None:
            reasons.append("the course's grader did not run on it (was nbgrader_config.py exported by this "
                           "version of wgan_lessons?)")
        restored = [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells
                    if c.cell_type == "code" and "was missing from the submission" in c.source.split("\n", 1)[0]]
        if restored:
            reasons.append(f"test cells deleted from the submission and restored by nbgrader: {restored}")
        if reasons:
            status = "flagged" if any(c["flags"] for c in checks or []) or checks is None else "restored cells"
            rows.append({"student": student, "assignment": assignment, "notebook": name, "status": status,
                         "reasons": reasons})
    return rows


def _make_export_plugin():
    from nbgrader.plugins import CsvExportPlugin

    class FlaggedCsvExport(CsvExportPlugin):
        """``nbgrader export`` as nbgrader's CSV, plus a ``wgan_flags`` column: for each row, what
        :func:`flags_report` says about that student's submission of that assignment ("" when
        nothing), so a flagged or ungraded submission does not read as a plain score."""

        def export(self, gradebook) -> None:
            import csv

            super().export(gradebook)
            dest = self.to or "grades.csv"
            engine = getattr(gradebook, "engine", None)
            database = getattr(getattr(engine, "url", None), "database", None)
            course = os.path.dirname(os.path.abspath(database)) if database else os.getcwd()
            notes: dict = {}
            for row in flags_report(course):
                key = (row["assignment"], row["student"])
                notes.setdefault(key, []).append(f"{row['notebook']}: {row['status']}: " + "; ".join(row["reasons"]))
            with open(dest, newline="", encoding="utf-8") as fh:
                rows = list(csv.DictReader(fh))
            fields = (list(rows[0].keys()) if rows else []) + ["wgan_flags"]
            for r in rows:
                r["wgan_flags"] = " | ".join(notes.get((r["assignment"], r["student_id"]), []))
            with open(dest, "w", newline="", encoding="utf-8") as fh:
                w = csv.DictWriter(fh, fieldnames=fields)
                w.writeheader()
                w.writerows(rows)
            flagged = sum(bool(r["wgan_flags"]) for r in rows)
            self.log.info("wgan-lessons: %d row(s) of %s carry flags (column wgan_flags)", flagged, dest)

    return FlaggedCsvExport


_CLASSES: dict = {}
_FACTORIES = {"VerifyChecks": _make_preprocessor, "FlaggedCsvExport": _make_export_plugin}


def __getattr__(name):  # these need nbgrader, which only teachers install: built on first use
    if name in _FACTORIES:
        if name not in _CLASSES:
            _CLASSES[name] = _FACTORIES[name]()
        return _CLASSES[name]
    raise AttributeError(name)


if __name__ == "__main__" and "--child" in sys.argv:
    sys.exit(_child())
