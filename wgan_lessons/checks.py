"""Argument checks shared by the package: a bad value raises a ``ValueError`` that names the
argument and says what it must be, before any work starts, instead of being truncated (2.7 steps
-> 2), clamped, or turned into NaN deep inside torch.

Each check accepts Python, numpy and one-element torch numbers and returns a plain Python value.
"""

from __future__ import annotations

import math
import numbers
import warnings

__all__ = ["integer", "number", "warn_outside"]


def _plain(value):
    if hasattr(value, "numel") and callable(value.numel) and value.numel() == 1:  # a torch scalar
        return value.item()
    if type(value).__module__ == "numpy" and getattr(value, "size", None) == 1:
        return value.item()
    return value


def integer(value, name: str, minimum: int | None = None) -> int:
    """``value`` as an int (an integral float such as 1e3 is accepted), at least ``minimum``.

    Raises:
        ValueError: naming ``name``, for a bool, a fraction, a string, NaN or a value below ``minimum``.
    """
    v = _plain(value)
    if isinstance(v, float) and math.isfinite(v) and v == int(v):
        v = int(v)
    if isinstance(v, bool) or not isinstance(v, numbers.Integral):
        raise ValueError(f"{name} must be a whole number, got {v!r}")
    v = int(v)
    if minimum is not None and v < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {v}")
    return v


def number(value, name: str, minimum: float | None = None, strict: bool = False) -> float:
    """``value`` as a finite float, at least ``minimum`` (greater than it when ``strict``).

    Raises:
        ValueError: naming ``name``, for a bool, a string, NaN, inf or a value out of range.
    """
    v = _plain(value)
    if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v):
        raise ValueError(f"{name} must be a finite number, got {v!r}")
    v = float(v)
    if minimum is not None and (v <= minimum if strict else v < minimum):
        raise ValueError(f"{name} must be {'>' if strict else '>='} {minimum:g}, got {v:g}")
    return v


def warn_outside(message: str, category=UserWarning) -> None:
    """``warnings.warn`` attributed to the first caller outside this package (the learner's line),
    however deep inside the package the warning was raised."""
    import sys

    level, frame = 2, sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__", "").startswith("wgan_lessons"):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)
