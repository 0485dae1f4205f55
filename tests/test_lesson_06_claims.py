"""Lesson 06's measured claim, re-measured on 5 seeds (slow, but runs in CI): on ring8, at equal training
time, WGAN-GP (the stable-wgan-gp preset, 1000 steps) reaches at least as many modes as weight clipping
(the wgan-clipping preset, given the steps that take it as long) in every seed and more in most, and far
more high-quality samples in every seed.

"Equal training time" (wgan_lessons.timing): the seconds per generator step of both presets are measured
side by side in this process, and clipping gets round(1000 / ratio) steps. The stable-wgan-gp rows are
the session's (tests/conftest.py, shared with tests/test_presets.py), so only the 5 clipping runs are
new here (two worker processes, one torch thread each).
"""

import sys
import time

import pytest

from float32 import quoted_numbers
from wgan_lessons.presets import claims_table
from wgan_lessons.timing import measure_at_equal_time

SEEDS = [0, 1, 2, 3, 4]


@pytest.fixture(scope="module")
def equal_time(preset_rows):
    t0 = time.perf_counter()
    res = measure_at_equal_time("wgan-clipping", "stable-wgan-gp", seeds=SEEDS, reference_rows=preset_rows,
                                probe=dict(steps=10, rounds=5), workers=2)
    seconds = time.perf_counter() - t0
    eq = res["equal_time"]
    print(f"\nequal time: ratio {eq['ratio']:.2f}, wgan-clipping {eq['steps']} steps for stable-wgan-gp's "
          f"{eq['reference_steps']}; the clipping runs and the probe took {seconds:.0f} s\n"
          + claims_table(res["rows"]), file=sys.stderr)
    gp = [r for r in res["rows"] if r["preset"] == "stable-wgan-gp"]
    clip = [r for r in res["rows"] if r["preset"] == "wgan-clipping"]
    assert [r["seed"] for r in gp] == SEEDS == [r["seed"] for r in clip]
    return gp, clip, eq


@pytest.mark.slow
def test_clipping_gets_the_steps_that_take_as_long(equal_time):
    gp, clip, eq = equal_time
    assert all(r["step"] == 1000 for r in gp)
    assert all(r["step"] == eq["steps"] == round(1000 / eq["ratio"]) for r in clip)
    # a clipping step does no penalty pass and a GP step fewer critic steps: about the same cost (measured
    # 0.8-1.2); a ratio far outside means the probe measured noise, not the steps
    assert 0.4 < eq["ratio"] < 2.5, eq


@pytest.mark.slow
def test_wgan_gp_reaches_at_least_as_many_modes_in_every_seed_and_more_in_most(equal_time):
    gp, clip, _ = equal_time
    pairs = [(a["modes"], b["modes"]) for a, b in zip(gp, clip)]
    assert all(a >= b for a, b in pairs), pairs
    assert sum(a > b for a, b in pairs) >= 3, pairs  # measured: 4 of 5 (clipping reached 8 in seed 3)


@pytest.mark.slow
def test_wgan_gp_has_far_more_high_quality_samples_in_every_seed(equal_time):
    gp, clip, _ = equal_time
    pairs = [(round(a["hq_fraction"], 3), round(b["hq_fraction"], 3)) for a, b in zip(gp, clip)]
    assert all(a - b >= 0.5 for a, b in pairs), pairs  # measured: 85-90% vs 1.5-15%


@pytest.mark.slow
def test_wgan_gp_is_deterministic_and_has_a_far_lower_reverse_kl(equal_time):
    """Section 8's "what holds on any machine": the WGAN-GP rows (all 8 modes, 85.0 to 90.0% high quality) do not
    depend on the timing probe; the reverse KL is far lower for WGAN-GP in every seed (measured 0.001-0.003 against
    0.30-1.13)."""
    gp, clip, _ = equal_time
    assert sum(r["modes"] == 8 for r in gp) >= 4 and sum(r["hq_fraction"] >= 0.8 for r in gp) >= 4, gp
    pairs = [(a["reverse_kl"], b["reverse_kl"]) for a, b in zip(gp, clip)]
    assert all(10 * a < b for a, b in pairs), pairs


@pytest.mark.slow
@quoted_numbers
def test_the_wgan_gp_numbers_section_8_quotes(equal_time):
    """All 8 modes in 5 of 5 seeds, 85.0 to 90.0% HQ: what the measuring machine printed (tests/float32.py)."""
    gp, _, _ = equal_time
    assert [r["modes"] for r in gp] == [8] * 5
    assert [round(100 * r["hq_fraction"], 1) for r in gp] == [85.0, 86.5, 87.0, 90.0, 88.2]
