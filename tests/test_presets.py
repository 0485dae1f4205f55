"""The claims lesson 01 makes about the presets, re-measured on 5 seeds (slow, but runs in CI)."""

from dataclasses import fields

import pytest

from float32 import quoted_numbers
from wgan_lessons.presets import (CONTRASTED, METHOD_FIELDS, PRESETS, claims_table, covered_modes, differences,
                                  get_preset, measure_presets, mode_hops)
from wgan_lessons.train import Trainer

SEEDS = [0, 1, 2, 3, 4]


@pytest.fixture(scope="module")
def rows(preset_rows):
    # measured once per session in tests/conftest.py (lesson 06's claims reuse the stable-wgan-gp rows)
    return preset_rows


@pytest.fixture(scope="module")
def saturated():
    """saturated-gan after 300 of its 1000 steps, per seed: (d_fake, g_grad_norm) of the last record."""
    rs = measure_presets(names=("saturated-gan",), seeds=SEEDS, w1=False, progress=False, track_every=None,
                         stop_at=300, workers=2)
    out = [(r["d_fake"], r["g_grad_norm"]) for r in rs]
    assert all(r["step"] == 300 for r in rs)
    print("\nsaturated-gan at step 300 (d_fake, g_grad_norm):", out)
    return out


def test_worker_processes_give_the_same_numbers_as_one_process():
    kw = dict(names=("mode-collapse",), seeds=(0, 1), steps=30, w1=False, progress=False, track_every=10)
    one, two = measure_presets(**kw), measure_presets(**kw, workers=2)
    drop = ("seconds", "cpu_seconds", "w1")  # w1 is NaN here (not measured), and NaN != NaN
    assert [{k: v for k, v in r.items() if k not in drop} for r in one] == \
        [{k: v for k, v in r.items() if k not in drop} for r in two]


def test_stop_at_is_the_start_of_the_full_run():
    import torch

    kw = dict(seed=0, device="cpu", steps=40)
    a = Trainer(get_preset("saturated-gan", **kw), progress=False)
    a.run(15)
    r = measure_presets(names=("saturated-gan",), seeds=(0,), steps=40, stop_at=15, w1=False, progress=False,
                        track_every=None)[0]
    assert r["step"] == 15
    torch.testing.assert_close(torch.tensor(r["g_grad_norm"]), torch.tensor(a.history["g_grad_norm"][-1]))


def _of(rows, name):
    return [r for r in rows if r["preset"] == name]


@pytest.mark.slow
def test_mode_collapse_covers_fewer_modes_than_wgan_gp_in_every_seed(rows):
    """The claim that holds on every machine tried (the measuring one, and MKL's Intel AVX-512 and AVX2 paths,
    session 8): the GAN covers fewer modes than WGAN-GP on the same seed, every seed."""
    pairs = [(a["modes"], b["modes"]) for a, b in zip(_of(rows, "mode-collapse"), _of(rows, "stable-wgan-gp"))]
    assert all(a < b for a, b in pairs), pairs


@pytest.mark.slow
@quoted_numbers
def test_mode_collapse_preset_never_covers_more_than_half_the_modes(rows):
    """Lesson 01: at most 4 of 8 modes in 5 of 5 seeds, where the text was measured. Not on every machine: with
    MKL's Intel AVX2 kernels seed 0 covers 6 (session 8)."""
    modes = [r["modes"] for r in _of(rows, "mode-collapse")]
    assert all(k <= 4 for k in modes), f"modes per seed: {modes}"


@pytest.mark.slow
@quoted_numbers
def test_mode_collapse_preset_collapses_onto_modes_with_high_quality_and_hops(rows):
    """Lesson 01: collapse as VEEGAN / Metz et al. mean it (<= 4 modes, >= 50% HQ, at least one hop) in 2 of 5
    seeds at settings shared with WGAN-GP (seeds 0 and 4, 99.8% / 71.9% HQ), where the text was measured. Not on
    every machine: 1 of 5 with MKL's Intel AVX-512 kernels, none with its AVX2 ones (session 8)."""
    rs = _of(rows, "mode-collapse")
    collapsed = [r["seed"] for r in rs if r["modes"] <= 4 and r["hq_fraction"] >= 0.5 and r["hops"] >= 1]
    assert len(collapsed) >= 2, [(r["seed"], r["modes"], round(r["hq_fraction"], 3), r["hops"]) for r in rs]


@pytest.mark.slow
def test_saturated_gan_freezes_the_generator(saturated):
    """Lesson 01's claim: the saturating loss can freeze the generator (D's mean logit on the fakes below -100, its
    gradient norm below 1e-10 at step 300). In 4 of 5 seeds where the text was measured (the quoted numbers'
    test), in 2 of 5 with MKL's Intel AVX-512 kernels and at least 2 with its AVX2 ones (session 8)."""
    frozen = [d < -100 and g < 1e-10 for d, g in saturated]
    assert sum(frozen) >= 1, saturated


@pytest.mark.slow
@quoted_numbers
def test_the_numbers_lesson_01_quotes_from_its_five_seeds(rows, saturated):
    """Section 7's "when we measured it" and section 5's per-seed lines, re-measured: mode-collapse ends on one
    mode in seeds 0 and 4 (99.8% and 71.9% HQ, reverse KL log 8 = 2.08, after 2 and 3 hops), with 0 modes and
    0% HQ in seeds 1 to 3 (seed 3: 2 hops); stable-wgan-gp let go of modes 4 to 7 times; saturated-gan at step
    300: D's mean logit on the fakes -110.6, -236.1, -308.0, -121.1, -155.0, frozen in seeds 1 to 4, not 0."""
    import math

    mc, gp = _of(rows, "mode-collapse"), _of(rows, "stable-wgan-gp")
    assert [r["modes"] for r in mc] == [1, 0, 0, 0, 1]
    assert [round(100 * r["hq_fraction"], 1) for r in mc] == [99.8, 0.0, 0.0, 0.0, 71.9]
    assert [round(mc[i]["reverse_kl"], 2) for i in (0, 4)] == [round(math.log(8), 2)] * 2 == [2.08, 2.08]
    assert [mc[i]["hops"] for i in (0, 3, 4)] == [2, 2, 3]
    assert all(4 <= r["hops"] <= 7 for r in gp), [r["hops"] for r in gp]
    assert [round(d, 1) for d, _ in saturated] == [-110.6, -236.1, -308.0, -121.1, -155.0]
    assert [d < -100 and g < 1e-10 for d, g in saturated] == [False, True, True, True, True]


@pytest.mark.slow
def test_wgan_gp_preset_covers_all_modes(rows):
    modes = [r["modes"] for r in _of(rows, "stable-wgan-gp")]
    assert sum(k == 8 for k in modes) >= 4, f"modes per seed: {modes}"


@pytest.mark.slow
def test_wgan_gp_preset_has_mostly_high_quality_samples(rows):
    # lesson 01 quotes 85 to 90% (measured); the claim it stands on: at least 80% in 4 of 5 seeds
    hq = [round(r["hq_fraction"], 3) for r in _of(rows, "stable-wgan-gp")]
    assert sum(h >= 0.80 for h in hq) >= 4, f"HQ per seed: {hq}"


@pytest.mark.slow
def test_presets_are_fast_enough_for_a_laptop(rows):
    # About 10-21 s (collapse) and 33-75 s (WGAN-GP) of training per run, in CPU seconds of one torch
    # thread (2-core Intel and AMD machines). CPU time, not wall time: `make test` trains these while other
    # tests run, and the wall time of one run then grew to 193 s. The bound catches a preset that became
    # minutes long.
    for r in rows:
        assert r["cpu_seconds"] < 150, {k: r[k] for k in ("preset", "seed", "seconds", "cpu_seconds")}


def test_contrasted_presets_differ_only_in_what_belongs_to_the_method():
    """Issue 12: "same seed, one change" means every field outside METHOD_FIELDS is shared."""
    for a in CONTRASTED:
        for b in CONTRASTED:
            extra = set(differences(a, b)) - set(METHOD_FIELDS)
            assert not extra, (a, b, {k: differences(a, b)[k] for k in extra})
    assert differences("mode-collapse", "stable-wgan-gp") == {
        "method": ("nsgan", "wgan-gp"), "n_critic": (1, 3), "betas": ((0.9, 0.999), (0.5, 0.9))}
    b, sharp = get_preset("stable-wgan-gp", seed=3), get_preset("sharp-wgan-gp", seed=3)
    assert {f.name: (getattr(b, f.name), getattr(sharp, f.name)) for f in fields(b)
            if getattr(b, f.name) != getattr(sharp, f.name)} == {"steps": (1000, 3500), "g_width": (256, 160),
                                                                  "d_width": (256, 160)}
    assert set(PRESETS) == {"mode-collapse", "saturated-gan", "stable-wgan-gp", "sharp-wgan-gp", "wgan-clipping"}
    # WGAN's Algorithm 1 keeps its paper settings; the rest is shared with stable-wgan-gp
    assert set(differences("wgan-clipping", "stable-wgan-gp")) - set(METHOD_FIELDS) == {"lr_g", "lr_d",
                                                                                        "lr_schedule"}
    clip = get_preset("wgan-clipping").resolved()
    assert (clip.optimizer, clip.lr_d, clip.clip_value, clip.n_critic) == ("rmsprop", 5e-5, 0.01, 5)
    with pytest.raises(ValueError, match="unknown preset"):
        get_preset("nope")


def test_covered_modes_ignores_stray_samples():
    assert covered_modes([90, 5, 0, 5]) == [0]  # default share 1 / (2 K) = 12.5% here
    assert covered_modes([50, 50, 1, 0]) == [0, 1]
    assert covered_modes([13, 12, 11, 14, 12, 13, 12, 13]) == list(range(8))  # a balanced sampler
    assert covered_modes([0, 0, 0]) == []


def test_mode_hops_counts_letting_go_of_a_held_mode():
    assert mode_hops([[0, 0], [100, 0], [100, 0], [60, 40], [0, 100], [0, 0]]) == 1  # 0 -> {0,1} -> 1
    assert mode_hops([[100, 0, 0], [50, 50, 0], [34, 33, 33]]) == 0  # spreading out is not hopping
    assert mode_hops([[100, 0], [0, 100], [100, 0]]) == 2
    balanced = [[60, 55, 48, 52, 61, 45, 50, 58], [45, 62, 55, 47, 50, 60, 52, 49]]
    assert mode_hops(balanced) == 0  # sampling noise around 12.5% per mode is not hopping
    assert mode_hops([]) == 0


def test_claims_table_says_what_was_not_measured():
    base = {"preset": "p", "seed": 0, "modes": 8, "hq_fraction": 0.9, "reverse_kl": 0.01, "seconds": 1.0}
    table = claims_table([{**base, "w1": float("nan"), "hops": 0, "tracked_steps": []},
                          {**base, "w1": 0.123, "hops": 2, "tracked_steps": [50, 100]}])
    first, second = table.splitlines()[2:]
    assert "not measured" in first and "not tracked" in first and "nan" not in first.lower()
    assert "0.123" in second and "| 2 |" in second and "not" not in second


def test_claims_table_leaves_out_a_column_no_row_measured():
    base = {"preset": "p", "seed": 0, "modes": 8, "hq_fraction": 0.9, "reverse_kl": 0.01, "seconds": 1.0}
    table = claims_table([{**base, "w1": None, "hops": 0, "tracked_steps": []}] * 2)
    header, rule, *rows = table.splitlines()
    assert "exact W1" not in header and "mode hops" not in header and "reverse KL" in header
    assert header.count("|") == rule.count("|") == rows[0].count("|") == 7  # 6 columns
    assert "not" not in table
