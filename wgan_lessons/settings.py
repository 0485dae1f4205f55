"""Run-time settings shared by the package and the notebooks.

Nothing here acts on import. The notebooks' *fast mode* is read from the
environment variable ``WGAN_LESSONS_FAST`` each time :func:`fast_mode` is called:
CI sets it so that every lesson runs top to bottom in seconds, while learners get
the full settings.
"""

from __future__ import annotations

import os
import random

import numpy as np
import torch

FAST_ENV = "WGAN_LESSONS_FAST"


def fast_mode() -> bool:
    """True when ``WGAN_LESSONS_FAST`` is set to a true value (1, true, yes, on)."""
    return os.environ.get(FAST_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def scaled(full, fast):
    """Return ``fast`` in fast mode and ``full`` otherwise.

    Lessons write ``steps = scaled(3000, fast=30)`` so the same notebook serves
    learners (full) and CI (fast).
    """
    return fast if fast_mode() else full


def get_device(device: str | torch.device = "auto") -> torch.device:
    """Resolve ``device``: ``'auto'`` picks CUDA, then Apple's MPS, then the CPU.

    Any other value is passed to :class:`torch.device`; asking for CUDA on a
    machine without it raises a ValueError that says so.
    """
    if isinstance(device, torch.device):
        return device
    name = str(device).strip().lower()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        dev = torch.device(name)
    except RuntimeError as exc:
        raise ValueError(f"device: {device!r} is not a device name; use 'auto', 'cpu', 'cuda' or 'mps'") from exc
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("device: 'cuda' was asked for but no CUDA GPU is available; use device='auto' or 'cpu'")
    if dev.type == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ValueError("device: 'mps' was asked for but Apple's MPS is not available; use device='auto' or 'cpu'")
    return dev


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python's, NumPy's and torch's global generators and return a CPU
    ``torch.Generator`` seeded with ``seed``. Notebooks call this once at the top;
    the package itself never touches global seeds (it passes generators around)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)
