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


#: :func:`float32_fingerprint` where the lessons' numbers were measured: an AMD EPYC with AVX-512 and torch
#: 2.14.1 from PyPI (whose float32 matrix products are MKL's), session 8. AMD EPYCs without AVX-512 printed the
#: same quoted numbers (earlier sessions; the same MKL path, checked here with torch's and oneDNN's kernels held
#: to AVX2). A machine that gives another fingerprint rounds float32 matrix products differently.
MEASURED_FLOAT32_FINGERPRINT = "994c4bfdd9e71e89"


def float32_fingerprint() -> str:
    """A 16-hex-digit hash of float32 matrix products computed on this machine's CPU, with torch alone.

    Training on the CPU is reproducible bit for bit on one machine (README, "What is reproducible"), but the
    bits depend on the matrix-product kernels the CPU gets: torch's float32 ``mm``/``addmm`` call MKL, which
    picks its kernels by CPU vendor, instruction set and (on its Intel paths) the number of threads. Measured on
    an AMD EPYC with AVX-512 (2026-12-02) with MKL made to take its Intel paths: the presets' weights after 10
    steps differ for Intel with AVX-512 and for Intel with AVX2 only, and those of AMD's path do not change when
    torch's own kernels are held to AVX2 (``ATEN_CPU_CAPABILITY=avx2``). A chaotic training run turns the last
    bit into other printed digits, and sometimes into another outcome.

    The products are a linear layer's forward pass ``x W^T + b`` and its two backward products, for batches
    of 250 to 768 rows and layer sizes 1 to 512 (the presets' layers are 2 -> 256 or 160 -> ... -> 1), on data
    drawn from a private seeded generator (the global random state is untouched). It depends on the CPU, the
    torch build and the number of threads, never on this package's code: a change to the engine that moves the
    lessons' numbers leaves it unchanged, so the tests that compare the quoted numbers still run and catch it.
    """
    import hashlib

    g = torch.Generator().manual_seed(20261202)
    h = hashlib.sha256()
    for m, k, n in ((768, 2, 256), (512, 256, 256), (256, 256, 1), (256, 512, 512), (250, 160, 160)):
        x, w = torch.randn(m, k, generator=g), torch.randn(n, k, generator=g)  # (B, k), (n, k)
        b, gy = torch.randn(n, generator=g), torch.randn(m, n, generator=g)  # (n,), (B, n)
        for t in (torch.addmm(b, x, w.t()), gy @ w, gy.t() @ x):  # y = x W^T + b, dL/dx, dL/dW
            h.update(t.contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


def cpuinfo_field(name: str) -> str:
    """The value of the first ``name`` line of /proc/cpuinfo (``"model name"``, ``"flags"``), or ``""`` where there
    is no such line or file (not Linux)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() == name:
                    return value.strip()
    except OSError:
        pass
    return ""


def numbers_match_the_text() -> tuple[bool, str]:
    """Whether full training runs on this machine print the numbers the lessons quote, and a sentence saying why.

    All three are about the machine, never the code: the lessons' ``device="auto"`` runs train on the CPU (no
    CUDA or MPS device here), the presets train in float32 there (``precision="auto"`` picks bfloat16 on a CPU
    with AMX), and :func:`float32_fingerprint` is :data:`MEASURED_FLOAT32_FINGERPRINT`. Exact computations
    (optimal transport, closed forms) print the text's numbers everywhere; this is about training."""
    from wgan_lessons.train import autocast_dtype

    device = get_device("auto")
    if device.type != "cpu":
        cause = f"training runs use the {device.type.upper()} device here, whose kernels round differently"
    elif autocast_dtype("auto", device) is not None:
        cause = "this CPU has AMX, so the presets train in bfloat16 here, and the text was measured in float32"
    elif (mine := float32_fingerprint()) != MEASURED_FLOAT32_FINGERPRINT:
        import platform

        cpu = cpuinfo_field("model name") or platform.processor() or platform.machine() or "an unknown CPU"
        cause = (f"this machine ({cpu}, torch {torch.__version__}) rounds float32 matrix products differently from "
                 f"the AMD CPU the text was measured on (fingerprint {mine}, the text's {MEASURED_FLOAT32_FINGERPRINT})")
    else:
        return True, ("this machine computes float32 like the CPU the text was measured on: full runs print the "
                      "text's numbers")
    return False, (f"{cause}. Training amplifies that: your runs will print other numbers, and a single run can end "
                   "differently (another number of modes). Nothing is wrong with your setup: read the text's training "
                   "numbers as what one machine printed (exact computations, such as optimal transport, print the "
                   "text's numbers on any machine; README, \"What is reproducible\").")
