"""The numbers that the text of lesson 04 quotes, re-measured with the lesson's own package calls and seeds (full
settings of each experiment). If one of these fails, the lesson's text no longer matches what its cells print:
change the text (and this test) together.

The 5-seed claim (section 8) trains 10 critics of 1000 full-batch steps on 256 + 256 points, in two worker
processes with one torch thread each (``measure_critic_claims(workers=2)``): 111 to 237 s in the lesson on the 2-core
machine while other engineers' runs loaded it; this file took 271 s there (load average 6 to 8), of which the
10 trainings used about 110 s of CPU time, so about a minute on two free cores (not measured on a free machine).
Its seed-0 row is section 4's run (the same numbers in-process and in a worker), so it also holds the numbers that
sections 4 to 6 quote.

Training on the CPU is reproducible bit for bit with the same torch build (README, "What is reproducible"); the
tolerances below are the printed precision of each number. Another torch build may move the trained numbers a
little: then re-run the lesson and update its text and this test together. On a CPU that rounds float32 matrix
products differently (an Intel CPU: tests/float32.py) the trained critics print other digits, so the tests of the
quoted digits skip there; the claims they stand on (at least 4 of 5 within 10%, the ordering of the lambda table,
the clipped critic's K close to its slope) run everywhere.
"""

import numpy as np
import ot
import pytest
import torch
from torch.testing import assert_close

from float32 import quoted_numbers

from wgan_lessons.duality import (CriticConfig, c_transform, claims_summary, dual_potential, gradient_norms,
                                  measure_critic_claims, ring_and_blob, train_critic)

pytestmark = pytest.mark.slow


def _t(values):
    return torch.tensor(values, dtype=torch.float64)


def test_section1_and_2_the_small_example():
    """Sections 1 and 2: lesson 03's example; primal = dual = linprog = 1.305384; the c-transform reproduces u
    and -v, and its slope is exactly 1 on the plan's 5 routes."""
    x = np.array([[0.0, 0.0], [1.0, 2.0], [3.0, 0.5]])
    a = np.array([0.5, 0.3, 0.2])
    y = np.array([[0.5, 1.0], [2.0, 2.5], [3.5, 1.5], [1.5, -0.5]])
    b = np.full(4, 0.25)
    C = ot.dist(x, y, metric="euclidean")
    P, log = ot.emd(a, b, C, log=True)
    u, v = log["u"], log["v"]
    assert_close(_t([np.sum(P * C), a @ u + b @ v]), _t([1.305384, 1.305384]), atol=5e-7, rtol=0)
    f_x, f_y = c_transform(x, y, v), c_transform(y, y, v)
    assert_close(_t(f_x), _t(u), atol=1e-12, rtol=0)
    assert_close(_t(-f_y), _t(v), atol=1e-12, rtol=0)
    i, j = np.nonzero(P > 1e-12)
    assert len(i) == 5
    assert_close(_t((f_x[i] - f_y[j]) / C[i, j]), torch.ones(5, dtype=torch.float64), atol=1e-12, rtol=0)


def test_section3_the_pair_and_its_exact_w1():
    """Section 3: 256 + 256 points (seed 0), exact W1 = 1.2340."""
    real, fake = ring_and_blob(n=256, shift=1.0, blob_std=0.5, seed=0)
    pot = dual_potential(real, fake)
    assert_close(_t(pot.w1), _t(1.2340), atol=5e-5, rtol=0)
    assert_close(_t(pot.dual_value), _t(pot.w1), atol=1e-9, rtol=0)


@pytest.fixture(scope="module")
def five_seeds():
    return measure_critic_claims(seeds=(0, 1, 2, 3, 4), n=256, steps=1000, workers=2)


def test_section8_gp_estimate_within_10_percent_in_at_least_4_of_5_seeds(five_seeds):
    """Section 8's claim: the penalised critic's final estimate ends within 10% of the exact W1 in at least 4 of
    5 seeds (measured: 4, errors from -6.5% to +12.3%); the seed outside is seed 1, whose critic has the largest
    median gradient norm between the clouds, 1.131 (range 1.013 to 1.131); every seed's critic correlates 0.9735 to
    0.9978 with the exact potential on the 2n points (rms difference 0.112 to 0.311 of its spread)."""
    rows = five_seeds
    s = claims_summary(rows, tolerance=0.10)
    assert s["within"] >= 4, [(r["seed"], r["w1"], r["gp"], r["gp_rel_err"]) for r in rows]
    assert_close(_t([r["w1"] for r in rows]), _t([1.2340, 1.2945, 1.0404, 1.1129, 1.1984]), atol=5e-5, rtol=0)


@quoted_numbers
def test_section8_the_quoted_numbers(five_seeds):
    """Section 8's numbers, as the text quotes them (see the test above for the claim)."""
    rows = five_seeds
    s = claims_summary(rows, tolerance=0.10)
    assert s["within"] == 4 and [r["seed"] for r in rows if abs(r["gp_rel_err"]) > 0.10] == [1]
    assert_close(_t([r["gp"] for r in rows]), _t([1.2462, 1.4531, 1.0777, 1.0407, 1.2563]), atol=5e-5, rtol=0)
    assert_close(_t([s["rel_err_min"], s["rel_err_max"]]), _t([-0.065, 0.123]), atol=5e-4, rtol=0)
    medians = [r["gp_grad_median"] for r in rows]
    assert_close(_t([min(medians), max(medians), rows[1]["gp_grad_median"]]), _t([1.013, 1.131, 1.131]),
                 atol=5e-4, rtol=0)
    corr = [r["gp_corr"] for r in rows]
    rms = [r["gp_relative_rms"] for r in rows]
    assert_close(_t([min(corr), max(corr)]), _t([0.9735, 0.9978]), atol=5e-5, rtol=0)
    assert_close(_t([min(rms), max(rms)]), _t([0.112, 0.311]), atol=5e-4, rtol=0)


@quoted_numbers
def test_sections4_to_6_seed_0_is_the_lessons_run(five_seeds):
    """Sections 4 to 6 (seed 0): GP estimate 1.2462 (+1.0%), clipped 0.00426 (K = 0.00345), the GP critic's
    correlation with the exact potential 0.9969, its median gradient norm between the clouds 1.013, the clipped
    critic's 0.003906. The worker's row equals the lesson's in-process run."""
    r = five_seeds[0]
    assert_close(_t(r["gp"]), _t(1.2462), atol=5e-5, rtol=0)
    assert_close(_t(r["gp_rel_err"]), _t(0.010), atol=5e-4, rtol=0)
    assert_close(_t(r["gp_corr"]), _t(0.9969), atol=5e-5, rtol=0)
    assert_close(_t(r["gp_grad_median"]), _t(1.013), atol=5e-4, rtol=0)
    assert_close(_t([r["clip"], r["clip_k"]]), _t([0.00426, 0.00345]), atol=5e-6, rtol=0)
    assert_close(_t(r["clip_grad_median"]), _t(0.003906), atol=5e-7, rtol=0)


def test_sections4_to_6_use_the_papers_critic_settings():
    real, fake = ring_and_blob(n=256, seed=0)
    run = train_critic(real, fake, CriticConfig(method="gp", steps=3, seed=0, log_every=3))
    assert run.config.learning_rate == 1e-3 and run.config.betas == (0.0, 0.9) and run.config.lambda_gp == 10.0


def test_section8_the_clipped_critic_is_a_scaled_estimate(five_seeds):
    """Section 8: the clipped critic's estimate is K * W1 with K from 0.00329 to 0.00393, close to its median
    gradient norm between the clouds (0.00369 to 0.00448); its correlation with the exact potential 0.9653 to
    0.9813."""
    for r in five_seeds:
        assert 0.5 < r["clip_k"] / r["clip_grad_median"] < 1.5, r  # K is about the critic's slope


@quoted_numbers
def test_section8_the_clipped_critics_quoted_numbers(five_seeds):
    rows = five_seeds
    ks = [r["clip_k"] for r in rows]
    meds = [r["clip_grad_median"] for r in rows]
    corr = [r["clip_corr"] for r in rows]
    assert_close(_t([min(ks), max(ks)]), _t([0.00329, 0.00393]), atol=5e-6, rtol=0)
    assert_close(_t([min(meds), max(meds)]), _t([0.00369, 0.00448]), atol=5e-6, rtol=0)
    assert_close(_t([min(corr), max(corr)]), _t([0.9653, 0.9813]), atol=5e-5, rtol=0)


@pytest.fixture(scope="module")
def lambda_table():
    r, g = ring_and_blob(n=128, shift=1.0, seed=0)
    w1 = dual_potential(r, g).w1
    ratios, medians = [], []
    for lam in (0.1, 1.0, 10.0, 100.0):
        run = train_critic(r, g, CriticConfig(method="gp", steps=300, lambda_gp=lam, seed=0, log_every=300))
        ratios.append(run.estimate / w1)
        medians.append(np.median(gradient_norms(run.critic, r, g, generator=torch.Generator().manual_seed(1))["between"]))
    return w1, ratios, medians


def test_section7_lambda_table(lambda_table):
    """Section 7: shift 1.0, 128 points a side, 300 steps: estimate / W1 = 8.367, 1.824, 1.144, 1.026 for lambda
    0.1, 1, 10, 100, each above 1 + W1 / (2 lambda); the median gradient norms between 6.735, 1.703, 1.161, 1.083;
    W1 = 1.2351. What holds on every kernel path tried (session 8: the measuring machine, MKL's Intel AVX-512 and
    AVX2 paths, MKL_CBWR=COMPATIBLE): a small lambda overshoots far above the guide 1 + W1 / (2 lambda), more than a
    larger one, and lambda 10 and 100 end within 15% of W1. "All four rows above the guide" is this run's (the
    quoted test): with the AVX2 path the lambda-10 row ends at 0.978, below its 1.062."""
    w1, ratios, medians = lambda_table
    assert_close(_t(w1), _t(1.2351), atol=5e-5, rtol=0)
    assert ratios[0] > 1 + w1 / (2 * 0.1) and ratios[1] > 1 + w1 / 2, ratios
    assert ratios[0] > ratios[1] > max(ratios[2], ratios[3]), ratios
    assert all(abs(x - 1) < 0.15 for x in ratios[2:]), ratios


@quoted_numbers
def test_section7_the_quoted_numbers(lambda_table):
    w1, ratios, medians = lambda_table
    assert all(x > 1 + w1 / (2 * lam) for x, lam in zip(ratios, (0.1, 1.0, 10.0, 100.0)))  # "in all four rows"
    assert_close(_t(ratios), _t([8.367, 1.824, 1.144, 1.026]), atol=5e-4, rtol=0)
    assert_close(_t(medians), _t([6.735, 1.703, 1.161, 1.083]), atol=5e-4, rtol=0)
