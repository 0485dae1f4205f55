"""Strict JSON for every file the package writes (RFC 8259: no NaN, no Infinity).

Python's ``json`` writes ``NaN`` and ``Infinity`` by default; browsers, JavaScript tools and strict
parsers reject such files. Training produces such values on purpose: the W estimate of a GAN is
not defined (NaN), and the reverse KL of a generator with no high-quality sample is +inf. So:

- **writing**: a float that is not finite (NaN, +inf, -inf) is written as ``null``; numpy and
  torch scalars and arrays become plain numbers and lists, tuples become lists, paths strings.
  Then ``json.dumps(..., allow_nan=False)`` guarantees the result is strict.
- **reading**: :func:`read_json` parses strictly (a ``NaN`` or ``Infinity`` in the file raises);
  :func:`read_history` turns each ``null`` in a history list back into ``float('nan')``, so a
  history reads back as the lists of floats that :class:`wgan_lessons.train.Trainer` recorded.
  In ``metrics.json`` a ``null`` ``reverse_kl`` means +inf (no high-quality sample).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

__all__ = ["to_jsonable", "dumps", "write_json", "read_json", "read_history"]


def to_jsonable(obj):
    """``obj`` as plain JSON values: non-finite floats -> None, numpy/torch -> Python, tuples -> lists."""
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, int):
        return int(obj)
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    if hasattr(obj, "tolist"):  # numpy scalars and arrays, torch tensors
        return to_jsonable(obj.tolist())
    raise TypeError(f"cannot write a {type(obj).__name__} as JSON")


def dumps(obj, indent: int | None = None) -> str:
    """Strict JSON text of ``obj`` (see the module docstring for how non-finite values are written)."""
    return json.dumps(to_jsonable(obj), indent=indent, allow_nan=False)


def write_json(path, obj, indent: int | None = 1) -> Path:
    """Write ``obj`` to ``path`` as strict JSON (UTF-8) and return the path."""
    path = Path(path)
    path.write_text(dumps(obj, indent=indent) + "\n", encoding="utf-8")
    return path


def _refuse(constant: str):
    raise ValueError(f"not strict JSON: the file contains {constant}")


def read_json(path):
    """Parse ``path`` as strict JSON: ``NaN``, ``Infinity`` and ``-Infinity`` raise a ValueError."""
    return json.loads(Path(path).read_text(encoding="utf-8"), parse_constant=_refuse)


def read_history(path) -> dict:
    """A ``history.json`` as a dict of lists, each ``null`` read back as ``float('nan')``."""
    raw = read_json(path)
    return {k: [math.nan if v is None else v for v in values] for k, values in raw.items()}
