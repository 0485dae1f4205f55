"""Named training settings that the lessons, the training lab and the CLI share.

    python -m wgan_lessons train --preset mode-collapse --seed 1 --out runs/collapse

Each preset is a full :class:`~wgan_lessons.train.TrainConfig`; the claims attached to the
presets (how many modes they cover over 5 seeds) are measured by ``tests/test_presets.py``
and ``scripts/preset_claims.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from wgan_lessons.train import TrainConfig

__all__ = ["Preset", "PRESETS", "METHOD_FIELDS", "CONTRASTED", "differences", "get_preset", "measure_presets",
           "covered_modes", "mode_hops", "claims_table"]


@dataclass(frozen=True)
class Preset:
    name: str
    description: str
    config: TrainConfig


#: The fields that belong to a training *method* (its loss, its constraint or penalty, how many
#: critic steps it takes, its optimiser). Contrasted presets may differ in these and nothing else.
METHOD_FIELDS = ("method", "n_critic", "lambda_gp", "clip_value", "optimizer", "betas")

#: What every preset shares: the data, the networks, the noise, the number of steps, the batch size
#: and the learning rates with their schedule (1e-3 for both networks, decaying linearly to 0), and
#: the precision (bfloat16 autocast where the CPU has AMX, float32 elsewhere). The WGAN-GP settings
#: are the issue-10 recipe (width 256, 3 critic steps, lambda 0.1).
_COMMON = dict(data="ring8", steps=1000, batch_size=256, lr_g=1e-3, lr_d=1e-3, lr_schedule="linear",
               g_width=256, d_width=256, g_depth=3, d_depth=3, z_dim=2, log_every=10, precision="auto")
_WGAN_GP = dict(method="wgan-gp", n_critic=3, lambda_gp=0.1, betas=(0.5, 0.9))

PRESETS: dict[str, Preset] = {
    p.name: p
    for p in [
        Preset(
            "mode-collapse",
            "the non-saturating GAN (Goodfellow et al. 2014, section 3) on ring8, one discriminator step per "
            "generator step and Adam with PyTorch's default betas (0.9, 0.999); everything else as "
            "stable-wgan-gp: the generator piles its samples onto a few modes",
            TrainConfig(method="nsgan", n_critic=1, betas=(0.9, 0.999), **_COMMON),
        ),
        Preset(
            "saturated-gan",
            "the original minimax GAN (saturating generator loss) on ring8, its discriminator trained 5x per "
            "generator step, Adam betas (0.5, 0.999); everything else as stable-wgan-gp: the discriminator "
            "wins and the generator's gradient vanishes (Arjovsky and Bottou 2017)",
            TrainConfig(method="gan", n_critic=5, betas=(0.5, 0.999), **_COMMON),
        ),
        Preset(
            "stable-wgan-gp",
            "WGAN-GP (lambda 0.1, 3 critic steps, Adam betas (0.5, 0.9)) on ring8 with the same data, "
            "networks, steps, batch and learning rates: it covers all 8 modes",
            TrainConfig(**_WGAN_GP, **_COMMON),
        ),
        Preset(
            "sharp-wgan-gp",
            "stable-wgan-gp with narrower networks (3x160 MLPs, each step about twice as fast in float32) "
            "trained 3.5x longer (3500 steps, the learning rates decaying linearly to 0): all 8 modes with "
            "about 95% high-quality samples in about a minute on a 2-core CPU (README, Performance)",
            TrainConfig(**_WGAN_GP, **{**_COMMON, "steps": 3500, "g_width": 160, "d_width": 160}),
        ),
        Preset(
            "wgan-clipping",
            "WGAN with weight clipping as Algorithm 1 of Arjovsky et al. 2017 has it (RMSProp, lr 5e-5 for both "
            "networks, clip_value c = 0.01, 5 critic steps) on ring8, with the networks, noise, batch and steps "
            "of stable-wgan-gp: the clipped critic is a weak, slowly learning W estimate",
            TrainConfig(method="wgan", optimizer="rmsprop", n_critic=5, clip_value=0.01,
                        **{**_COMMON, "lr_g": 5e-5, "lr_d": 5e-5, "lr_schedule": "constant"}),
        ),
    ]
}

#: The presets lesson 01 contrasts: they differ only in :data:`METHOD_FIELDS`.
CONTRASTED = ("mode-collapse", "saturated-gan", "stable-wgan-gp")


def differences(a: str, b: str) -> dict:
    """``{field: (value in a, value in b)}`` for every TrainConfig field where presets ``a`` and ``b``
    differ (after resolving method defaults), e.g. to list what "one change" really changes."""
    from dataclasses import fields

    ca, cb = get_preset(a).resolved(), get_preset(b).resolved()
    return {f.name: (getattr(ca, f.name), getattr(cb, f.name)) for f in fields(ca)
            if getattr(ca, f.name) != getattr(cb, f.name)}


def get_preset(name: str, **overrides) -> TrainConfig:
    """The config of preset ``name``, with ``overrides`` (e.g. ``seed=3``) applied."""
    try:
        cfg = PRESETS[name].config
    except KeyError:
        raise ValueError(f"unknown preset {name!r}; choose one of {sorted(PRESETS)}") from None
    return replace(cfg, **overrides)


def _measure_one(name: str, seed: int, n_samples: int, steps, w1: bool, track_every, stop_at,
                 threads: int | None = None) -> dict:
    """One run of :func:`measure_presets` (a top-level function, so worker processes can run it)."""
    import time

    import torch

    from wgan_lessons.metrics import mode_coverage
    from wgan_lessons.train import Trainer

    if threads:
        torch.set_num_threads(threads)
    overrides = {"seed": seed, "device": "cpu"}
    if steps is not None:
        overrides["steps"] = steps
    tr = Trainer(get_preset(name, **overrides), progress=False)
    end = tr.config.steps if stop_at is None else min(stop_at, tr.config.steps)
    counts, tracked, seconds, cpu_seconds = [], [], 0.0, 0.0
    every = track_every or end
    while tr.step < end:
        t0, c0 = time.perf_counter(), time.process_time()
        tr.run(min(every, end - tr.step))
        seconds += time.perf_counter() - t0
        cpu_seconds += time.process_time() - c0
        if track_every:
            cov = mode_coverage(tr.sample(500, seed=10_000 + tr.step), tr.dist.centers, tr.dist.std)
            counts.append(cov["counts"])
            tracked.append(tr.step)
        if tr.stop_reason:
            break
    if w1:
        m = tr.evaluate(n_samples)
    else:
        m = mode_coverage(tr.sample(n_samples), tr.dist.centers, tr.dist.std)
        m["w1"] = float("nan")
    return {"preset": name, "seed": seed, "step": tr.step, "modes": m["modes"], "hq_fraction": m["hq_fraction"],
            "reverse_kl": m["reverse_kl"], "w1": m["w1"], "seconds": seconds, "cpu_seconds": cpu_seconds,
            "tracked_steps": tracked,
            "counts": counts, "held": [covered_modes(c) for c in counts], "hops": mode_hops(counts),
            "g_grad_norm": tr.history["g_grad_norm"][-1], "d_fake": tr.history["d_fake"][-1]}


def measure_presets(names=("mode-collapse", "stable-wgan-gp"), seeds=(0, 1, 2, 3, 4), n_samples: int = 2500,
                    steps: int | None = None, w1: bool = True, progress: bool = True,
                    track_every: int | None = 100, stop_at: int | None = None, workers: int = 1) -> list[dict]:
    """Train each preset once per seed (on the CPU, so the numbers are reproducible) and measure
    it: modes, hq_fraction, reverse_kl, exact w1 and seconds at the end, the last recorded
    ``g_grad_norm`` and ``d_fake`` (the generator's gradient norm and the mean discriminator output
    on fakes), and, every ``track_every`` generator steps (``tracked_steps``), the HQ samples per mode
    of 500 samples (``counts``), the modes held (``held``: at least half the uniform share of the HQ
    samples, see :func:`covered_modes`) and how often the generator let go of a held mode (``hops``, see
    :func:`mode_hops`). ``steps`` overrides the preset's (fast mode); ``stop_at`` stops each run at
    that generator step without changing its schedule (the first 300 of 1000 steps are those of the
    full run). ``workers > 1`` trains that many runs at a time in separate processes with one torch
    thread each: the same numbers (training on the CPU gives the same weights with 1 or 2 threads on
    the AMD CPUs the lessons were measured on, tested; MKL's Intel kernels round differently with 2: README,
    "What is reproducible"), in less wall time on a multi-core machine, except ``seconds`` (per run). Returns one
    dict per run, in the order of ``names`` x ``seeds``; ``seconds`` is training time only (wall clock),
    ``cpu_seconds`` the CPU time of that training (its process's, all threads): on a shared machine
    the wall time grows with the other programs' load, the CPU time much less."""
    from tqdm.auto import tqdm

    from wgan_lessons.checks import integer

    for name in names:  # every name checked before the first (long) run
        get_preset(name)
    workers = integer(workers, "workers", minimum=1)
    runs = [(name, seed) for name in names for seed in seeds]
    args = [(name, seed, n_samples, steps, w1, track_every, stop_at) for name, seed in runs]
    if workers == 1 or len(runs) < 2:
        return [_measure_one(*a) for a in tqdm(args, desc="presets x seeds", disable=not progress)]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(_measure_one, *a, threads=1) for a in args]
        for f in tqdm(futures, desc="presets x seeds", disable=not progress):
            f.result()
        return [f.result() for f in futures]


def covered_modes(counts, share: float | None = None) -> list:
    """The modes the generator *holds* in one measurement: those with at least ``share`` of the
    high-quality samples (``counts``: HQ samples per mode, as
    :func:`wgan_lessons.metrics.mode_coverage` returns them). ``share`` defaults to half the
    uniform share, 1 / (2K) for K modes (6.25% on ring8), so a stray HQ sample does not make a
    mode held while every mode of a balanced sampler is. [] when no sample is high quality."""
    total, k = sum(counts), len(counts)
    share = 0.5 / k if share is None else share
    return [i for i, c in enumerate(counts) if total and c >= share * total]


def mode_hops(counts_over_time, share: float | None = None) -> int:
    """Mode hopping (Metz et al. 2017, Figure 1), counted: how many times, between consecutive
    measurements, the generator *let go of* a mode it held (see :func:`covered_modes`): a held mode
    whose share of the HQ samples then falls below a quarter of ``share`` (the gap keeps sampling
    noise of a balanced generator from counting). Only measurements where some sample is high
    quality count. A generator that spreads onto more and more modes, or stays on the same ones,
    scores 0; one that moves its samples from mode 3 to mode 5 scores 1.

    ``counts_over_time``: one list of HQ counts per mode per measurement (``measure_presets``'s
    ``counts``)."""
    rows = [list(r) for r in counts_over_time if sum(r)]
    hops = 0
    for a, b in zip(rows, rows[1:]):
        k = len(a)
        s = 0.5 / k if share is None else share
        held = covered_modes(a, s)
        hops += any(b[i] < 0.25 * s * sum(b) for i in held)
    return hops


def claims_table(rows: list[dict]) -> str:
    """A markdown table of :func:`measure_presets` rows. What a run did not measure says so: the exact
    W1 with ``w1=False`` ("not measured", not NaN), the mode hops without ``track_every`` ("not
    tracked", not 0); a column that no row measured is left out."""
    from wgan_lessons.metrics import HQ_PERFECT

    def w1(r):
        return "not measured" if r.get("w1") is None or r["w1"] != r["w1"] else f"{r['w1']:.3f}"

    def hops(r):
        return r["hops"] if r.get("tracked_steps") else "not tracked"

    columns = [("preset", lambda r: r["preset"]), ("seed", lambda r: r["seed"]),
               ("modes (of 8)", lambda r: r["modes"]),
               (f"HQ % (perfect: {100 * HQ_PERFECT:.1f})", lambda r: f"{100 * r['hq_fraction']:.1f}"),
               ("reverse KL", lambda r: f"{r['reverse_kl']:.3f}"), ("exact W1", w1), ("mode hops", hops),
               ("train seconds", lambda r: f"{r['seconds']:.1f}")]
    unmeasured = {"exact W1": "not measured", "mode hops": "not tracked"}
    columns = [(name, fn) for name, fn in columns
               if name not in unmeasured or not rows or any(fn(r) != unmeasured[name] for r in rows)]
    lines = ["| " + " | ".join(name for name, _ in columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(str(fn(r)) for _, fn in columns) + " |" for r in rows]
    return "\n".join(lines)
