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


def call_learner(fn, *args, seed: int = 0, **kwargs):
    """Call the learner's function with the global random state isolated (see
    :func:`isolated_random_state`). Returns ``(value, None)``, or ``(None, CheckResult)`` with a
    friendly message instead of a wall of traceback when it raises."""
    try:
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
