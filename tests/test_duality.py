"""wgan_lessons.duality (lesson 04): the dual potentials, the c-transform, a critic trained between two fixed
distributions, and what the lesson measures. Every formula against an independent reference (SciPy's LP solver,
brute-force loops, a closed form, finite differences), seeded and small. The plot helpers of lesson 04 are at the end.
"""

import itertools

import numpy as np
import pytest
import torch
from scipy.optimize import linprog
from scipy.stats import pearsonr
from torch import nn
from torch.testing import assert_close

from wgan_lessons import duality
from wgan_lessons.duality import (CriticConfig, c_transform, compare_potentials, critic_estimate, critic_values,
                                  dual_potential, gradient_norms, max_slope, random_interpolates, ring_and_blob,
                                  train_critic)


def _t(x):
    return torch.as_tensor(np.asarray(x, dtype=np.float64))


def _clouds(n=7, m=5, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 2)), rng.normal(size=(m, 2)) + np.array([1.5, 0.5])


def _primal_lp(x, y):
    """W1 between uniform clouds by SciPy's general LP solver (HiGHS), independent of POT."""
    n, m = len(x), len(y)
    cost = np.sqrt(((x[:, None] - y[None]) ** 2).sum(-1))
    a_eq = np.vstack([np.kron(np.eye(n), np.ones((1, m))), np.kron(np.ones((1, n)), np.eye(m))])
    b_eq = np.concatenate([np.full(n, 1 / n), np.full(m, 1 / m)])
    return linprog(cost.ravel(), A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs").fun


# ----------------------------------------------------------------------------- the dual potential


def test_dual_potential_value_is_the_lp_optimum_and_the_pair_is_feasible_and_tight():
    x, y = _clouds()
    pot = dual_potential(x, y)
    assert_close(_t(pot.w1), _t(_primal_lp(x, y)), rtol=0, atol=1e-9)
    assert_close(_t(pot.dual_value), _t(pot.w1), rtol=0, atol=1e-10)  # strong duality: a.u + b.v = W1
    cost = np.sqrt(((x[:, None] - y[None]) ** 2).sum(-1))
    slack = cost - pot.u[:, None] - pot.v[None, :]
    assert slack.min() > -1e-10 and pot.max_violation() < 1e-10  # feasible
    assert_close(_t(slack[pot.plan > 1e-12]), torch.zeros(int((pot.plan > 1e-12).sum()), dtype=torch.float64),
                 rtol=0, atol=1e-10)  # complementary slackness
    assert_close(_t(pot.plan.sum(1)), _t(np.full(len(x), 1 / len(x))))
    assert_close(_t(pot.plan.sum(0)), _t(np.full(len(y), 1 / len(y))))


def test_a_translated_cloud_is_exactly_its_shift_away():
    """Closed form: W1(mu, mu + delta) = ||delta|| (the linear f(z) = -<z, delta>/||delta|| attains it)."""
    x, _ = _clouds(9, 1, seed=3)
    delta = np.array([0.6, -0.8])
    pot = dual_potential(x, x + delta)
    assert_close(_t(pot.w1), _t(1.0), rtol=0, atol=1e-10)
    f = lambda z: -(z @ delta)  # noqa: E731  1-Lipschitz, |delta| = 1
    assert_close(_t(f(x).mean() - f(x + delta).mean()), _t(1.0), rtol=0, atol=1e-12)


def test_c_transform_matches_brute_force_loops():
    x, y = _clouds(6, 4, seed=1)
    rng = np.random.default_rng(2)
    v = rng.normal(size=4)
    z = rng.normal(size=(5, 2))
    want = [min(np.hypot(*(zk - yj)) - vj for yj, vj in zip(y, v)) for zk in z]
    assert_close(_t(c_transform(z, y, v)), _t(want), rtol=0, atol=1e-12)
    assert_close(_t(c_transform(torch.tensor(z), torch.tensor(y), torch.tensor(v))), _t(want), rtol=0, atol=1e-12)


def test_c_transform_of_the_optimal_v_is_an_optimal_1_lipschitz_potential():
    x, y = _clouds(8, 6, seed=4)
    pot = dual_potential(x, y)
    fx, fy = pot(x), pot(y)
    assert_close(_t(fx), _t(pot.u), rtol=0, atol=1e-10)  # u = f on the x's
    assert_close(_t(fy), _t(-pot.v), rtol=0, atol=1e-10)  # v = -f on the y's
    assert_close(_t(fx.mean() - fy.mean()), _t(_primal_lp(x, y)), rtol=0, atol=1e-9)
    z = np.random.default_rng(5).normal(size=(40, 2)) * 2
    assert max_slope(pot(z), z) <= 1 + 1e-12  # 1-Lipschitz anywhere in the plane, not only on the support


def test_c_transform_works_in_chunks():
    """Many y's make c_transform work through z in chunks (about 2e6 distances at a time): same values."""
    from scipy.spatial.distance import cdist

    rng = np.random.default_rng(0)
    y, v = rng.normal(size=(40_000, 2)), rng.normal(size=40_000)
    z = rng.normal(size=(120, 2))  # chunks of 50 points
    assert_close(_t(c_transform(z, y, v)), _t((cdist(z, y) - v).min(1)), rtol=0, atol=1e-12)


def test_potential_gradient_is_a_unit_vector_and_matches_finite_differences():
    x, y = _clouds(6, 5, seed=6)
    pot = dual_potential(x, y)
    z = np.random.default_rng(7).normal(size=(25, 2)) * 1.5
    g = pot.grad(z)
    h = 1e-6
    fd = np.stack([(pot(z + h * e) - pot(z - h * e)) / (2 * h) for e in np.eye(2)], axis=1)
    assert_close(_t(g), _t(fd), rtol=0, atol=1e-5)
    assert_close(_t(np.linalg.norm(g, axis=1)), torch.ones(25, dtype=torch.float64))


@pytest.mark.parametrize("bad, match", [
    ((np.zeros(5), np.zeros((5, 2))), "shape \\(n, d\\)"),
    ((np.zeros((0, 2)), np.zeros((5, 2))), "empty"),
    ((np.full((3, 2), np.nan), np.zeros((5, 2))), "NaN or inf"),
    ((np.zeros((3, 2)), np.zeros((5, 3))), "different dimensions"),
])
def test_dual_potential_rejects_bad_clouds(bad, match):
    with pytest.raises(ValueError, match=match):
        dual_potential(*bad)


def test_c_transform_rejects_a_v_of_the_wrong_length():
    with pytest.raises(ValueError, match="one value per point of y"):
        c_transform(np.zeros((2, 2)), np.zeros((3, 2)), np.zeros(4))


# ----------------------------------------------------------------------------- training a critic

SMALL = dict(steps=40, width=16, depth=2, log_every=10)


def _pair(n=32, seed=0):
    return ring_and_blob(n=n, seed=seed)


def test_train_critic_is_seeded_and_leaves_the_global_random_state_alone():
    real, fake = _pair()
    torch.manual_seed(123)
    np.random.seed(123)
    before_t, before_np = torch.get_rng_state(), np.random.get_state()[1].copy()
    runs = [train_critic(real, fake, CriticConfig(method=m, seed=3, **SMALL)) for m in ("gp", "gp", "clip", "clip")]
    assert torch.equal(torch.get_rng_state(), before_t)
    assert np.array_equal(np.random.get_state()[1], before_np)
    for a, b in (runs[:2], runs[2:]):
        for key in a.history:  # (the loss at step 0 is NaN: assert_array_equal counts NaN == NaN)
            np.testing.assert_array_equal(a.history[key], b.history[key])
        for p, q in zip(a.critic.parameters(), b.critic.parameters()):
            assert torch.equal(p, q)
    other = train_critic(real, fake, CriticConfig(method="gp", seed=4, **SMALL))
    assert other.history["estimate"] != runs[0].history["estimate"]


def test_recording_never_changes_training():
    real, fake = _pair()
    a = train_critic(real, fake, CriticConfig(method="gp", seed=1, **{**SMALL, "log_every": 1}))
    b = train_critic(real, fake, CriticConfig(method="gp", seed=1, **{**SMALL, "log_every": 40}))
    for p, q in zip(a.critic.parameters(), b.critic.parameters()):
        assert torch.equal(p, q)
    assert a.history["estimate"][-1] == b.history["estimate"][-1]
    assert b.history["step"] == [0, 40] and len(a.history["step"]) == 41


def test_history_estimate_is_the_mean_difference_of_the_final_critic():
    real, fake = _pair()
    run = train_critic(real, fake, CriticConfig(method="gp", seed=0, **SMALL))
    with torch.no_grad():
        want = run.critic(real).double().mean() - run.critic(fake).double().mean()
    assert_close(_t(run.estimate), want, rtol=1e-5, atol=1e-6)
    assert_close(_t(critic_estimate(run.critic, real, fake)), want, rtol=1e-5, atol=1e-6)
    assert_close(_t(run(real.numpy())), run.critic(real).detach().double(), rtol=0, atol=0)
    assert all(p >= 0 for p in run.history["penalty"][1:])


def test_clipped_critic_keeps_every_weight_in_the_box():
    real, fake = _pair()
    run = train_critic(real, fake, CriticConfig(method="clip", clip_value=0.02, seed=0, **SMALL))
    assert max(float(p.detach().abs().max()) for p in run.critic.parameters()) <= 0.02
    assert run.history["penalty"][1:] == [0.0] * (len(run.history["penalty"]) - 1)
    assert run.config.learning_rate == 5e-5  # the paper's RMSProp rate
    assert CriticConfig(method="gp").learning_rate == 1e-3


def test_gp_critic_estimates_a_closed_form_w1():
    """Two Gaussian clouds, the second a translate of the first by 1.5: W1 = 1.5 exactly; a penalised critic
    (300 steps) ends within 10%."""
    g = torch.Generator().manual_seed(0)
    x = 0.3 * torch.randn(64, 2, generator=g)
    y = x + torch.tensor([1.5, 0.0])
    assert_close(_t(dual_potential(x, y).w1), _t(1.5), rtol=0, atol=1e-6)
    run = train_critic(x, y, CriticConfig(method="gp", steps=300, width=32, depth=2, seed=0, log_every=300))
    assert abs(run.estimate / 1.5 - 1) < 0.10, run.estimate


def test_train_critic_takes_samplers_with_a_batch_size():
    from wgan_lessons.data import get_toy

    blob = duality.ring_and_blob(n=200, seed=1)[1]
    run = train_critic(get_toy("ring8"), blob, CriticConfig(method="gp", batch_size=16, eval_size=50, seed=0, **SMALL))
    assert run.real.shape == (50, 2) and run.fake.shape == (200, 2)
    with pytest.raises(ValueError, match="batch_size"):
        train_critic(get_toy("ring8"), blob, CriticConfig(**SMALL))


@pytest.mark.parametrize("kwargs, match", [
    (dict(method="hinge"), "method must be 'gp'"),
    (dict(steps=-1), "steps"),
    (dict(steps=2.5), "steps"),
    (dict(lambda_gp=-1.0), "lambda_gp"),
    (dict(clip_value=0.0), "clip_value"),
    (dict(lr=0), "lr"),
    (dict(betas=(0.5,)), "betas"),
    (dict(betas=(0.5, 1.0)), "betas"),
    (dict(batch_size=0), "batch_size"),
    (dict(log_every=0), "log_every"),
])
def test_critic_config_rejects_bad_values(kwargs, match):
    with pytest.raises(ValueError, match=match):
        CriticConfig(**kwargs)


def test_train_critic_rejects_bad_input():
    real, fake = _pair()
    with pytest.raises(ValueError, match="CriticConfig"):
        train_critic(real, fake, {"method": "gp"})
    with pytest.raises(ValueError, match="different dimensions"):
        train_critic(real, torch.zeros(5, 3), CriticConfig(**SMALL))
    with pytest.raises(ValueError, match="NaN"):
        train_critic(real, torch.full((5, 2), float("nan")), CriticConfig(**SMALL))


# ----------------------------------------------------------------------------- what the lesson measures


def test_gradient_norms_of_a_linear_critic_are_the_norm_of_its_weights():
    lin = nn.Linear(2, 1)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[0.3, -0.4]]))
    critic = nn.Sequential(lin, nn.Flatten(0))
    real, fake = _pair(20)
    out = gradient_norms(critic, real, fake[:15], generator=torch.Generator().manual_seed(0))
    assert out["data"].shape == (35,) and out["between"].shape == (15,)
    assert_close(_t(out["data"]), torch.full((35,), 0.5, dtype=torch.float64), rtol=1e-6, atol=1e-7)
    assert_close(_t(out["between"]), torch.full((15,), 0.5, dtype=torch.float64), rtol=1e-6, atol=1e-7)


def test_gradient_norms_of_a_quadratic_critic_match_the_analytic_gradient():
    class Quad(nn.Module):
        def forward(self, x):
            return 0.5 * (x ** 2).sum(1)  # grad = x

    real, fake = _pair(12)
    g = torch.Generator().manual_seed(5)
    between = random_interpolates(real, fake, generator=torch.Generator().manual_seed(5))
    out = gradient_norms(Quad(), real, fake, generator=g)
    assert_close(_t(out["between"]), between.double().norm(dim=1))
    assert_close(_t(out["data"]), torch.cat([real, fake]).double().norm(dim=1))


def test_random_interpolates_lie_on_segments_between_real_and_fake_points():
    real = torch.tensor([[0.0, 0.0], [0.0, 0.0]])
    fake = torch.tensor([[2.0, 0.0], [2.0, 0.0], [2.0, 0.0]])
    pts = random_interpolates(real, fake, k=50, generator=torch.Generator().manual_seed(0))
    assert pts.shape == (50, 2) and (pts[:, 1] == 0).all() and (pts[:, 0] >= 0).all() and (pts[:, 0] <= 2).all()
    assert len(torch.unique(pts[:, 0])) == 50  # one eps per pair
    again = random_interpolates(real, fake, k=50, generator=torch.Generator().manual_seed(0))
    assert torch.equal(pts, again)


def test_max_slope_matches_brute_force_and_skips_coincident_points():
    rng = np.random.default_rng(0)
    p = rng.normal(size=(9, 2))
    p[3] = p[1]
    f = rng.normal(size=9)
    f[3] = f[1] + 5.0  # a coincident pair with different values: skipped (no finite slope)
    want = max(abs(f[i] - f[j]) / np.linalg.norm(p[i] - p[j]) for i, j in itertools.combinations(range(9), 2)
               if np.linalg.norm(p[i] - p[j]) > 0)
    assert_close(_t(max_slope(f, p)), _t(want), rtol=1e-12, atol=0)
    with pytest.raises(ValueError, match="two distinct points"):
        max_slope([1.0, 2.0], [[0.0, 0.0], [0.0, 0.0]])
    with pytest.raises(ValueError, match="one entry per point"):
        max_slope([1.0], [[0.0, 0.0], [1.0, 0.0]])


def test_compare_potentials_against_scipy_and_closed_forms():
    rng = np.random.default_rng(0)
    ref = rng.normal(size=30)
    f = 2.0 + ref + 0.1 * rng.normal(size=30)
    c = compare_potentials(f, ref)
    assert_close(_t(c["correlation"]), _t(pearsonr(f, ref)[0]), rtol=1e-12, atol=0)
    d = f - ref
    assert_close(_t([c["offset"], c["rms"]]), _t([d.mean(), d.std()]), rtol=1e-12, atol=0)
    assert_close(_t(c["relative_rms"]), _t(d.std() / ref.std()), rtol=1e-12, atol=0)
    exact = compare_potentials(ref - 4.0, ref)
    assert_close(_t([exact["correlation"], exact["offset"], exact["rms"]]), _t([1.0, -4.0, 0.0]), rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="constant"):
        compare_potentials(ref, np.ones(30))
    with pytest.raises(ValueError, match="same number"):
        compare_potentials(ref, ref[:5])


def test_critic_values_and_estimate_check_their_input():
    critic = nn.Sequential(nn.Linear(2, 1), nn.Flatten(0))
    assert critic_values(critic, np.zeros((3, 2))).dtype == np.float64
    with pytest.raises(ValueError, match="shape \\(n, d\\)"):
        critic_values(critic, np.zeros(3))
    with pytest.raises(ValueError, match="different dimensions"):
        critic_estimate(critic, np.zeros((3, 2)), np.zeros((3, 1)))


def test_ring_and_blob_is_the_lessons_pair():
    real, fake = ring_and_blob(n=2000, shift=1.0, blob_std=0.5, seed=0)
    r2, f2 = ring_and_blob(n=2000, shift=1.0, blob_std=0.5, seed=0)
    assert torch.equal(real, r2) and torch.equal(fake, f2)
    radius = real.double().norm(dim=1)
    assert_close(radius.mean(), _t(2 / 1.414), rtol=0, atol=0.01)  # the ring8 of the WGAN-GP toy script
    assert_close(fake.double().mean(0), _t([1.0, 0.0]), rtol=0, atol=0.05)
    assert_close(fake.double().std(0), _t([0.5, 0.5]), rtol=0, atol=0.03)
    with pytest.raises(ValueError, match="n"):
        ring_and_blob(n=0)


def test_measure_critic_claims_rows():
    """Each row: the exact W1 of that seed's clouds (against SciPy's LP), and the two critics' estimates of a
    train_critic run with that seed. (Two worker processes give the same numbers: tests/test_lesson_04_claims.py
    compares their seed-0 row with the lesson's in-process run of section 4.)"""
    rows = duality.measure_critic_claims(seeds=(0, 1), n=16, steps=3, workers=1)
    assert [r["seed"] for r in rows] == [0, 1]
    for r in rows:
        real, fake = ring_and_blob(n=16, seed=r["seed"])
        assert_close(_t(r["w1"]), _t(_primal_lp(real.double().numpy(), fake.double().numpy())), rtol=0, atol=1e-6)
        gp = train_critic(real, fake, CriticConfig(method="gp", steps=3, seed=r["seed"], log_every=3))
        clip = train_critic(real, fake, CriticConfig(method="clip", steps=3, seed=r["seed"], log_every=3))
        assert (r["gp"], r["clip"]) == (gp.estimate, clip.estimate)
        assert_close(_t([r["gp_rel_err"], r["clip_k"]]), _t([(r["gp"] - r["w1"]) / r["w1"], r["clip"] / r["w1"]]))
    s = duality.claims_summary(rows, tolerance=10.0)
    assert s["within"] == 2 and s["seeds"] == 2
    with pytest.raises(ValueError, match="workers"):
        duality.measure_critic_claims(seeds=(0,), workers=0)


# ----------------------------------------------------------------------------- lesson 04's plot helpers


def _axes(ncols=1):
    from wgan_lessons.plots import new_figure

    fig, axes = new_figure(ncols)
    return fig, axes[0]


def test_field_grid_evaluates_the_function_on_the_grid():
    from wgan_lessons.plots import field_grid

    X, Y, Z = field_grid(lambda p: p[:, 0] - 2 * p[:, 1], lim=1.0, n=5, center=(1.0, 0.0))
    assert X.shape == Y.shape == Z.shape == (5, 5)
    assert_close(_t(Z), _t(X - 2 * Y))
    assert X.min() == 0.0 and X.max() == 2.0
    _, _, Zt = field_grid(lambda p: torch.as_tensor(p).sum(1), lim=1.0, n=3)
    assert Zt.shape == (3, 3)
    with pytest.raises(ValueError, match="one value per point"):
        field_grid(lambda p: p, n=3)
    with pytest.raises(ValueError, match="lim > 0"):
        field_grid(lambda p: p[:, 0], lim=0.0)


def test_plot_potential_draws_the_map_and_the_points():
    from wgan_lessons.plots import plot_potential

    x, y = _clouds(6, 5)
    pot = dual_potential(x, y)
    fig, axes = _axes()
    cs = plot_potential(axes[0], pot, x, y, lim=3.0, n=20, title="exact")
    assert cs.levels.min() <= pot(x).min() + 1e-9 or cs.levels.max() >= pot(y).max()
    assert len(axes[0].collections) >= 3 and axes[0].get_title() == "exact"
    assert len(fig.axes) == 2  # the colour bar


def test_plot_estimates_draws_one_curve_per_history_and_the_exact_line():
    from wgan_lessons.plots import plot_estimates

    fig, axes = _axes()
    h = {"step": [0, 10, 20], "estimate": [0.0, 0.5, 0.9]}
    lines = plot_estimates(axes[0], {"gp": h, "clip": h}, exact=1.0, title="t")
    assert len(lines) == 2 and len(axes[0].lines) == 3
    assert list(axes[0].lines[2].get_ydata()) == [1.0, 1.0]
    with pytest.raises(ValueError, match="steps but"):
        plot_estimates(axes[0], {"bad": {"step": [0], "estimate": [1.0, 2.0]}})


def test_plot_grad_norms_histograms_and_the_bound():
    from wgan_lessons.plots import plot_grad_norms

    fig, axes = _axes()
    edges = plot_grad_norms(axes[0], {"data": np.full(10, 0.9), "between": np.linspace(0.5, 1.5, 10)}, bins=10)
    assert len(edges) == 11 and edges[-1] >= 1.5
    assert [ln.get_xdata()[0] for ln in axes[0].lines] == [1.0]
    fig, axes = _axes()
    edges = plot_grad_norms(axes[0], {"clipped": np.full(5, 0.003)}, bound=None)
    assert len(axes[0].lines) == 0 and edges[-1] < 0.01  # no bound drawn; the bins fit the tiny norms


def test_plot_potential_agreement_returns_the_offset():
    from wgan_lessons.plots import plot_potential_agreement

    fig, axes = _axes()
    ref = np.linspace(-1, 1, 20)
    offset = plot_potential_agreement(axes[0], ref + 3.0, ref, title="gp")
    assert_close(_t(offset), _t(3.0))
    assert "correlation 1.0000" in axes[0].get_title()
    with pytest.raises(ValueError, match="same length"):
        plot_potential_agreement(axes[0], ref, ref[:3])
