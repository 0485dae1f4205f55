"""The exercise convention shared by every lesson.

A learner fills in a function marked ``# YOUR CODE HERE`` (it raises ``NotImplementedError``
until then). A check cell calls a checker from :mod:`wgan_lessons.exercises`, which runs the
learner's function on seeded, randomised cases against the package's reference and returns a
:class:`CheckResult`: ``passed`` and a short, specific ``message``. It shows itself as a coloured
box in a notebook and as one line in a terminal.
"""

from __future__ import annotations

import contextlib
import random
import traceback
from dataclasses import dataclass, field


@dataclass
class CheckResult:
    passed: bool
    message: str
    details: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        head = ("PASSED: " if self.passed else "NOT YET: ") + self.message
        return "\n".join([head, *("  - " + d for d in self.details)])

    __repr__ = __str__

    def _repr_html_(self) -> str:
        import html

        colour, mark = ("#e6f4ea", "&#10004;") if self.passed else ("#fdecea", "&#10008;")
        items = "".join(f"<li>{html.escape(d)}</li>" for d in self.details)
        return (f'<div style="background:{colour};padding:8px 12px;border-radius:6px;color:#111">'
                f"<b>{mark} {html.escape(self.message)}</b>{f'<ul>{items}</ul>' if items else ''}</div>")


def passed(message: str = "Correct: your function matches the reference on every test case.") -> CheckResult:
    return CheckResult(True, message)


def failed(message: str, *details: str) -> CheckResult:
    return CheckResult(False, message, list(details))


@contextlib.contextmanager
def isolated_random_state(seed: int = 0):
    """Run a block with Python's, NumPy's and torch's global generators seeded with ``seed``, and
    give the caller back exactly the states it had before. A checker runs the learner's function
    inside it: a learner's own ``torch.rand`` is then reproducible within the check, and the
    learner's random stream (the seed they set) is the same after the check as before it."""
    import numpy as np
    import torch

    py_state, np_state = random.getstate(), np.random.get_state()
    with torch.random.fork_rng(devices=[]):
        try:
            random.seed(seed)
            np.random.seed(seed)
            torch.manual_seed(seed)
            yield
        finally:
            random.setstate(py_state)
            np.random.set_state(np_state)


@contextlib.contextmanager
def _stderr_to_note():
    """Run the learner's code with what it writes to stderr, and the warnings it triggers (numpy's
    divide-by-zero RuntimeWarning, a debug ``print(..., file=sys.stderr)``), captured and shown on
    stdout as a note. nbgrader scores a test cell that wrote to stderr as failed: a correct answer
    must not lose its point because it warned (issue 13)."""
    import io
    import sys
    import warnings

    buf = io.StringIO()
    try:
        with contextlib.redirect_stderr(buf), warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield
    finally:
        seen = set()
        lines = [buf.getvalue().rstrip()] if buf.getvalue().strip() else []
        for w in caught:
            key = (w.category.__name__, str(w.message))
            if key not in seen:
                seen.add(key)
                lines.append(f"{w.category.__name__}: {w.message}")
        if lines:
            print("Note: your function wrote to stderr or raised warnings (shown here; the check below is "
                  "what counts):\n  " + "\n  ".join("\n".join(lines).splitlines()), file=sys.stdout)


def call_learner(fn, *args, seed: int = 0, **kwargs):
    """Call the learner's function with the global random state isolated (see
    :func:`isolated_random_state`) and its stderr output and warnings shown as a note on stdout
    (never on stderr, which nbgrader would score as a failed test). Returns ``(value, None)``, or
    ``(None, CheckResult)`` with a friendly message instead of a wall of traceback when it raises."""
    try:
        with _stderr_to_note():
            with isolated_random_state(seed):
                return fn(*args, **kwargs), None
    except NotImplementedError:
        return None, failed("Not implemented yet: replace the `raise NotImplementedError` line under "
                            "# YOUR CODE HERE with your code, run that cell, then run this check again.")
    except Exception as exc:  # the learner's bug, reported briefly
        tb = traceback.extract_tb(exc.__traceback__)
        where = next((f"line {f.lineno}: {f.line}" for f in reversed(tb) if f.filename.startswith("<ipython")
                      or "ipykernel" in f.filename), None)
        detail = [f"{type(exc).__name__}: {exc}"] + ([f"in your code, {where}"] if where else [])
        return None, failed("Your function raised an error.", *detail)


def learner_array(value, what: str = "an array"):
    """A learner's return value as a float64 numpy array (numpy, torch tensors, lists, scalars).
    Returns ``(array, None)`` or ``(None, CheckResult)`` saying what was wrong."""
    import numpy as np

    try:
        import torch

        if isinstance(value, torch.Tensor):
            value = value.detach().cpu().double().numpy()
    except ImportError:  # pragma: no cover
        pass
    if value is None:
        return None, failed("Your function returned None: did you forget the `return` statement?")
    try:
        return np.asarray(value, dtype=np.float64), None
    except (TypeError, ValueError):
        return None, failed(f"Your function returned a {type(value).__name__}; return {what}.")


def _code_objects(code):
    yield code
    for const in code.co_consts:
        if hasattr(const, "co_names"):
            yield from _code_objects(const)


def referenced_objects(fn, _seen=None) -> list:
    """What the learner's function ``fn`` can reach by name: the globals and builtins its code (and
    its nested functions', lambdas', comprehensions') names resolve to, the modules it imports in
    its body (as module-name strings), its closure cells, and, recursively, the same for every
    learner-defined function among them (a helper the learner wrote in the notebook). Used to
    enforce an exercise's stated rule ("only numpy"), whatever alias the learner gave a module."""
    import builtins
    import dis

    seen = set() if _seen is None else _seen
    if id(fn) in seen or not hasattr(fn, "__code__"):
        return []
    seen.add(id(fn))
    glb = getattr(fn, "__globals__", {})
    out: list = []
    for code in _code_objects(fn.__code__):
        for ins in dis.get_instructions(code):
            if ins.opname == "IMPORT_NAME":
                out.append(str(ins.argval))  # `import ot` inside the function body
            elif ins.opname in ("LOAD_GLOBAL", "LOAD_NAME", "STORE_GLOBAL"):  # not attributes (x.T)
                name = str(ins.argval)
                if name in glb:
                    out.append(glb[name])
                elif hasattr(builtins, name):
                    out.append(getattr(builtins, name))
    for cell in fn.__closure__ or ():
        try:
            out.append(cell.cell_contents)
        except ValueError:  # an empty cell
            pass
    for obj in list(out):
        if callable(obj) and getattr(obj, "__module__", None) in ("__main__", None) and hasattr(obj, "__code__"):
            out.extend(referenced_objects(obj, seen))
    return out


def _origin(obj) -> str | None:
    import types

    if isinstance(obj, str):
        return obj
    if isinstance(obj, types.ModuleType):
        return obj.__name__
    return getattr(obj, "__module__", None)


def _learner_functions(fn, seen=None) -> list:
    """``fn`` and every learner-defined function it reaches by name (recursively)."""
    seen = set() if seen is None else seen
    if id(fn) in seen or not hasattr(fn, "__code__"):
        return []
    seen.add(id(fn))
    out = [fn]
    for obj in referenced_objects(fn):
        if callable(obj) and getattr(obj, "__module__", None) in ("__main__", None) and hasattr(obj, "__code__"):
            out.extend(_learner_functions(obj, seen))
    return out


def forbidden_use(fn, prefixes=(), rule: str = "", names=()):
    """``None`` if ``fn`` (with the helpers it calls) reaches nothing from the modules named by
    ``prefixes`` (e.g. ``("ot", "scipy")``: the modules and anything defined in them) and uses no
    attribute or global called one of ``names`` (e.g. ``"sliced_wasserstein_distance"``, however it
    is reached), else a failed CheckResult that names ``rule`` and what was used."""
    import types

    used = []
    for f in _learner_functions(fn):
        for code in _code_objects(f.__code__):
            for name in code.co_names:
                if name in names and name not in used:
                    used.append(name)
    for obj in referenced_objects(fn):
        origin = _origin(obj)
        if origin and any(origin == p or origin.startswith(p + ".") for p in prefixes):
            if isinstance(obj, str):
                label = f"import {origin}"
            elif isinstance(obj, types.ModuleType):
                label = f"the module {origin}"
            else:
                label = f"{origin}.{getattr(obj, '__name__', '?')}"
            if label not in used:
                used.append(label)
    if not used:
        return None
    return failed(f"This exercise's rule: {rule}. Your function uses {', '.join(used)}.",
                  "Write it with the tools the exercise allows; the library is what the checker compares you with.")


def iterates(fn) -> bool:
    """Whether ``fn`` (or a helper it calls) contains a loop: ``for``/``while`` or a comprehension,
    i.e. the shape of a numerical method (gradient steps, Newton iterations) rather than a closed form."""
    import dis

    for f in _learner_functions(fn):
        for code in _code_objects(f.__code__):
            if any(ins.opname.startswith(("JUMP_BACKWARD", "FOR_ITER")) for ins in dis.get_instructions(code)):
                return True
    return False
