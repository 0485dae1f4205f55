"""Comparing training methods at equal training time.

Two methods do different work per generator step: WGAN-GP's critic step has a second backward pass
for the gradient penalty (Gulrajani et al. 2017, Algorithm 1, create_graph=True), weight clipping's
has a clamp (Arjovsky et al. 2017, Algorithm 1), and they take different numbers of critic steps. A
comparison "after 1000 steps each" can therefore favour the method with the more expensive step.
Lesson 06 compares them at equal *training time* instead, made concrete and reproducible like this:

1. :func:`seconds_per_step` measures the seconds per generator step of both presets **in the same
   process**, in alternating short chunks (so that a change in the machine's load hits both alike),
   with the thread count the runs use;
2. :func:`equal_time_steps` turns the ratio into a step count: the other method gets
   ``round(reference_steps * t_reference / t_other)`` generator steps, the number that takes it as
   long as the reference preset's full run.

The step count is printed and can be passed on (``measure_presets(steps=...)``); the ratio depends on
the machine (and on its load while it is measured), the method of measuring does not.
"""

from __future__ import annotations

import statistics
import time

__all__ = ["seconds_per_step", "equal_time_steps", "measure_at_equal_time"]


def seconds_per_step(names=("wgan-clipping", "stable-wgan-gp"), steps: int = 10, rounds: int = 5,
                     warmup: int = 3, threads: int | None = 1, seed: int = 0) -> dict:
    """Seconds per generator step of each preset in ``names``, measured in this process.

    Each preset gets a fresh CPU :class:`~wgan_lessons.train.Trainer` (seed ``seed``); after
    ``warmup`` untimed steps, the presets train ``steps`` generator steps each, in turn, for
    ``rounds`` rounds. Returns ``{"seconds_per_step": {name: median over rounds},
    "ratios": [per round: seconds per step of names[0] / names[1]], "ratio": their median,
    "threads": ...}``; comparing within a round, where both ran back to back, keeps most of a shared
    machine's changing load out of the ratio. ``threads``: torch threads while measuring (1, as in
    ``measure_presets(workers=2)``'s worker processes; None keeps the current setting); restored
    afterwards.

    Raises:
        ValueError: an unknown preset name, or a count below 1.
    """
    import torch

    from wgan_lessons.checks import integer
    from wgan_lessons.presets import get_preset
    from wgan_lessons.train import Trainer

    names = tuple(names)
    if len(names) < 1:
        raise ValueError("names: give at least one preset name")
    steps = integer(steps, "steps", minimum=1)
    rounds = integer(rounds, "rounds", minimum=1)
    warmup = integer(warmup, "warmup", minimum=0)
    configs = [get_preset(n, seed=seed, device="cpu") for n in names]  # every name checked first
    before = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(integer(threads, "threads", minimum=1))
    try:
        trainers = [Trainer(c, progress=False) for c in configs]
        for t in trainers:
            t.update_hparams(steps=warmup + steps * rounds)  # the run never ends while measured
            t.run(warmup)
        per_round = {n: [] for n in names}
        for _ in range(rounds):
            for n, t in zip(names, trainers):
                t0 = time.perf_counter()
                t.run(steps)
                per_round[n].append((time.perf_counter() - t0) / steps)
    finally:
        torch.set_num_threads(before)
    out = {"seconds_per_step": {n: statistics.median(v) for n, v in per_round.items()},
           "threads": torch.get_num_threads() if threads is None else threads, "rounds": per_round}
    if len(names) >= 2:
        out["ratios"] = [a / b for a, b in zip(per_round[names[0]], per_round[names[1]])]
        out["ratio"] = statistics.median(out["ratios"])
    return out


def equal_time_steps(name: str = "wgan-clipping", reference: str = "stable-wgan-gp",
                     reference_steps: int | None = None, **measure) -> dict:
    """The number of generator steps of preset ``name`` that take as long as ``reference_steps``
    (default: the reference preset's own ``steps``) of preset ``reference``, from their seconds per
    step measured side by side in this process (:func:`seconds_per_step`; ``measure`` is passed on).

    Returns ``{"steps": that number, "reference_steps": ..., "ratio": t_name / t_reference,
    "ratios": [per round], "seconds_per_step": {...}}``, where steps = round(reference_steps / ratio).
    ``ratio`` is the median of the rounds' ratios, so it need not equal the ratio of the two medians
    in ``seconds_per_step`` (the load of a shared machine changes between rounds, and a round compares
    two runs made back to back).
    """
    from wgan_lessons.checks import integer
    from wgan_lessons.presets import get_preset

    if reference_steps is None:
        reference_steps = get_preset(reference).steps
    reference_steps = integer(reference_steps, "reference_steps", minimum=1)
    m = seconds_per_step((name, reference), **measure)
    return {"steps": max(1, round(reference_steps / m["ratio"])), "reference_steps": reference_steps,
            "ratio": m["ratio"], "ratios": m["ratios"], "seconds_per_step": m["seconds_per_step"],
            "threads": m["threads"]}


def measure_at_equal_time(name: str = "wgan-clipping", reference: str = "stable-wgan-gp", seeds=(0, 1, 2, 3, 4),
                          reference_steps: int | None = None, reference_rows: list[dict] | None = None,
                          n_samples: int = 2500, w1: bool = False, workers: int = 2, probe: dict | None = None,
                          progress: bool = False) -> dict:
    """Train presets ``reference`` and ``name`` on ``seeds`` at equal training time and measure them.

    The step budget of ``name`` comes from :func:`equal_time_steps` (``probe``: its keyword arguments,
    e.g. ``{"steps": 10, "rounds": 5}``): as many steps as ``reference_steps`` (default: the reference
    preset's own) of ``reference`` take. Then every run trains on the CPU and is measured on
    ``n_samples`` samples as :func:`wgan_lessons.presets.measure_presets` does it (same numbers, same
    row format), ``workers`` runs at a time in separate processes with one torch thread each, the
    reference's runs and ``name``'s in one pool. ``reference_rows``: rows of the reference measured
    already (``measure_presets(names=(reference,), ...)`` on the same seeds, full schedule), which are
    then reused instead of trained again.

    Returns ``{"equal_time": equal_time_steps(...)'s dict, "rows": the reference's rows, then name's}``.
    """
    from wgan_lessons.checks import integer
    from wgan_lessons.presets import _measure_one, get_preset

    get_preset(name), get_preset(reference)  # both names checked before anything is measured
    seeds = list(seeds)
    workers = integer(workers, "workers", minimum=1)
    if reference_rows is not None:
        reference_rows = [r for r in reference_rows if r["preset"] == reference]
        have = sorted(r["seed"] for r in reference_rows)
        if have != sorted(seeds):
            raise ValueError(f"reference_rows: need the {reference!r} rows of seeds {sorted(seeds)}, got seeds {have}")
        ref_steps = {r["step"] for r in reference_rows}
        if reference_steps is None and len(ref_steps) == 1:
            reference_steps = ref_steps.pop()
    eq = equal_time_steps(name, reference, reference_steps=reference_steps, **(probe or {}))
    runs = [] if reference_rows is not None else [(reference, s, eq["reference_steps"]) for s in seeds]
    runs += [(name, s, eq["steps"]) for s in seeds]
    args = [(n, s, n_samples, steps, w1, None, None) for n, s, steps in runs]
    from tqdm.auto import tqdm

    if workers == 1 or len(args) < 2:
        rows = [_measure_one(*a) for a in tqdm(args, desc="runs", disable=not progress)]
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = [pool.submit(_measure_one, *a, threads=1) for a in args]
            for f in tqdm(futures, desc="runs", disable=not progress):
                f.result()
            rows = [f.result() for f in futures]
    if reference_rows is not None:
        order = {s: i for i, s in enumerate(seeds)}
        rows = sorted(reference_rows, key=lambda r: order[r["seed"]]) + rows
    return {"equal_time": eq, "rows": rows}
