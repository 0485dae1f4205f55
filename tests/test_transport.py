"""Exact Wasserstein distances (wgan_lessons.transport) against independent references,
closed forms and the metric axioms; the POT traps; and the errors bad inputs raise."""

import math

import numpy as np
import ot
import pytest
import scipy.stats
import torch
from torch.testing import assert_close

from wgan_lessons import transport as T
from wgan_lessons.data import Mixture1D, mixture_1d

SEEDS = [0, 1, 2, 3, 4]


def _rng(seed):
    return np.random.default_rng(seed)


# ----------------------------------------------------------------------------- 1-D


@pytest.mark.parametrize("seed", SEEDS)
def test_wasserstein_1d_matches_scipy(seed):
    rng = _rng(seed)
    u, v = rng.normal(0, 1, 40 + seed), rng.normal(0.5, 2.0, 55)
    assert T.wasserstein_1d(u, v) == pytest.approx(scipy.stats.wasserstein_distance(u, v), rel=1e-10, abs=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_wasserstein_1d_weighted_matches_scipy(seed):
    rng = _rng(seed)
    u, v = rng.normal(0, 1, 30), rng.exponential(1.0, 45)
    wu, wv = rng.random(30), 3.0 * rng.random(45)  # different total masses: both get normalised
    ours = T.wasserstein_1d(u, v, wu, wv)
    assert ours == pytest.approx(scipy.stats.wasserstein_distance(u, v, wu, wv), rel=1e-10, abs=1e-12)
    # weights matter: the unweighted value is different on this case
    assert abs(ours - T.wasserstein_1d(u, v)) > 1e-3


def test_wasserstein_1d_accepts_torch_and_column_vectors():
    rng = _rng(0)
    u, v = rng.normal(0, 1, 25), rng.normal(1, 1, 25)
    ref = scipy.stats.wasserstein_distance(u, v)
    assert T.wasserstein_1d(torch.tensor(u), torch.tensor(v)) == pytest.approx(ref, rel=1e-12)
    assert T.wasserstein_1d(u[:, None], v[:, None]) == pytest.approx(ref, rel=1e-12)
    x32 = torch.tensor(u, dtype=torch.float32, requires_grad=True)  # float32 + grad: detached, promoted
    assert T.wasserstein_1d(x32, v) == pytest.approx(ref, rel=1e-6)


@pytest.mark.parametrize("seed", SEEDS)
def test_wasserstein_1d_equals_the_sorting_formula(seed):
    rng = _rng(seed)
    n = 64
    u, v = rng.normal(0, 1, n), rng.normal(-0.3, 1.7, n)
    d = np.sort(u) - np.sort(v)
    assert T.wasserstein_1d(u, v, p=1) == pytest.approx(np.mean(np.abs(d)), rel=1e-10)
    w2 = T.wasserstein_1d(u, v, p=2)
    assert w2 == pytest.approx(math.sqrt(np.mean(d**2)), rel=1e-10)
    # POT's trap: ot.wasserstein_1d returns W_p ** p; ours takes the root
    raw = float(ot.wasserstein_1d(u, v, p=2))
    assert raw == pytest.approx(w2**2, rel=1e-10)
    assert abs(raw - w2) > 1e-3
    w3 = T.wasserstein_1d(u, v, p=3)
    assert w3 == pytest.approx(np.mean(np.abs(d) ** 3) ** (1 / 3), rel=1e-10)


def test_wasserstein_1d_p_accepts_numpy_integers():
    u, v = np.array([0.0, 1.0]), np.array([2.0, 3.0])
    assert T.wasserstein_1d(u, v, p=np.int64(2)) == pytest.approx(2.0, rel=1e-12)


def test_gaussian_w2_1d_on_large_samples():
    # Sampling error of the empirical W2 at n = 50000 is ~1e-2; tolerance 0.03 (closed form 1.8028).
    g = torch.Generator().manual_seed(0)
    m1, s1, m2, s2 = 1.0, 2.0, -0.5, 0.5
    u = (m1 + s1 * torch.randn(50_000, generator=g, dtype=torch.float64)).numpy()
    v = (m2 + s2 * torch.randn(50_000, generator=g, dtype=torch.float64)).numpy()
    exact = T.gaussian_w2_1d(m1, s1, m2, s2)
    assert exact == pytest.approx(math.sqrt(1.5**2 + 1.5**2), rel=1e-12)
    assert T.wasserstein_1d(u, v, p=2) == pytest.approx(exact, abs=0.03)
    # and the quantile "samples" Phi^-1((k + 1/2) / n) are within 1e-3
    n = 20_000
    z = scipy.stats.norm.ppf((np.arange(n) + 0.5) / n)
    assert T.wasserstein_1d(m1 + s1 * z, m2 + s2 * z, p=2) == pytest.approx(exact, abs=1e-3)


# ----------------------------------------------------------------------------- Gaussians, Diracs, translations


def _spd(rng, d):
    a = rng.normal(size=(d, d))
    return a @ a.T + 0.3 * np.eye(d)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("d", [2, 3])
def test_gaussian_w2_matches_pot_bures(seed, d):
    rng = _rng(seed)
    m1, m2 = rng.normal(size=d), rng.normal(size=d)
    c1, c2 = _spd(rng, d), _spd(rng, d)
    ref = float(ot.gaussian.bures_wasserstein_distance(m1, m2, c1, c2))  # POT returns W2, not W2^2
    assert T.gaussian_w2(m1, c1, m2, c2) == pytest.approx(ref, rel=1e-7)
    assert T.gaussian_w2(torch.tensor(m1), torch.tensor(c1), torch.tensor(m2), torch.tensor(c2)) == \
        pytest.approx(ref, rel=1e-7)


def test_gaussian_w2_in_1d_is_the_1d_formula():
    # gaussian_w2 takes variances, gaussian_w2_1d standard deviations
    assert T.gaussian_w2(0.3, 2.0**2, -1.0, 0.5**2) == pytest.approx(T.gaussian_w2_1d(0.3, 2.0, -1.0, 0.5), rel=1e-10)
    assert T.gaussian_w2([1.0], [[9.0]], [1.0], [[1.0]]) == pytest.approx(2.0, rel=1e-10)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("p", [1, 2])
def test_translated_cloud_is_the_shift_length(seed, p):
    rng = _rng(seed)
    x = rng.normal(size=(40, 2))
    shift = rng.normal(size=2) * 3
    # Translation: the identity matching costs ||shift|| per unit of mass and nothing can be cheaper.
    assert T.wasserstein_2d(x, x + shift, p=p) == pytest.approx(np.linalg.norm(shift), abs=1e-9)
    xt = torch.tensor(x, dtype=torch.float64)
    assert T.wasserstein_2d(xt, xt + torch.tensor(shift), p=p) == pytest.approx(np.linalg.norm(shift), abs=1e-9)


@pytest.mark.parametrize("p", [1, 2, 3])
def test_diracs(p):
    x, y = np.array([1.0, -2.0]), np.array([4.0, 2.0])
    assert T.dirac_w(x, y) == pytest.approx(5.0, rel=1e-12)
    assert T.wasserstein_2d(x[None], y[None], p=p) == pytest.approx(5.0, rel=1e-12)
    assert T.wasserstein_1d([3.0], [-1.5], p=p) == pytest.approx(4.5, rel=1e-12)
    assert T.dirac_w(torch.tensor([0.0, 0.0]), [0.0, 0.0]) == 0.0


# ----------------------------------------------------------------------------- the squared-Euclidean trap


def test_p1_is_not_pots_squared_euclidean_default():
    rng = _rng(0)
    x, y = rng.normal(size=(30, 2)), rng.normal(size=(30, 2)) * 2 + 1
    naive = float(ot.emd2([], [], ot.dist(x, y)))  # ot.dist defaults to 'sqeuclidean': this is W2^2
    w1, w2 = T.wasserstein_2d(x, y, p=1), T.wasserstein_2d(x, y, p=2)
    assert naive == pytest.approx(w2**2, rel=1e-9)
    assert abs(naive - w1) > 0.5
    assert w1 == pytest.approx(float(ot.emd2([], [], ot.dist(x, y, metric="euclidean"))), rel=1e-9)
    assert w1 <= w2 + 1e-12  # Jensen: W1 <= W2
    # the simplest case: one point each, 5 apart
    assert T.wasserstein_2d([[0.0, 0.0]], [[3.0, 4.0]], p=1) == pytest.approx(5.0)
    assert float(ot.emd2([], [], ot.dist(np.array([[0.0, 0.0]]), np.array([[3.0, 4.0]])))) == pytest.approx(25.0)


# ----------------------------------------------------------------------------- metric axioms


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("p", [1, 2])
def test_symmetry_and_triangle_inequality_2d(seed, p):
    rng = _rng(seed)
    x = rng.normal(size=(20, 2))
    y = rng.normal(size=(25, 2)) * 1.5 + 1.0
    z = rng.uniform(-2, 2, size=(15, 2))
    wxy, wyx = T.wasserstein_2d(x, y, p=p), T.wasserstein_2d(y, x, p=p)
    assert wxy == pytest.approx(wyx, rel=1e-10)
    assert T.wasserstein_2d(x, z, p=p) <= T.wasserstein_2d(x, y, p=p) + T.wasserstein_2d(y, z, p=p) + 1e-10
    assert T.wasserstein_2d(x, x, p=p) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_symmetry_and_triangle_inequality_1d_weighted(seed):
    rng = _rng(seed)
    u, v, w = rng.normal(size=12), rng.normal(1, 2, size=18), rng.exponential(size=9)
    wu, wv, ww = rng.random(12), rng.random(18), rng.random(9)
    for p in (1, 2):
        assert T.wasserstein_1d(u, v, wu, wv, p=p) == pytest.approx(T.wasserstein_1d(v, u, wv, wu, p=p), rel=1e-10)
        assert T.wasserstein_1d(u, w, wu, ww, p=p) <= \
            T.wasserstein_1d(u, v, wu, wv, p=p) + T.wasserstein_1d(v, w, wv, ww, p=p) + 1e-10


# ----------------------------------------------------------------------------- plans


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("p", [1, 2])
def test_plan_marginals_and_cost(weighted, p):
    rng = _rng(3)
    x, y = rng.normal(size=(9, 2)), rng.normal(size=(13, 2)) + 0.5
    a = rng.random(9) if weighted else None
    b = rng.random(13) if weighted else None
    w, plan = T.wasserstein_2d(x, y, a, b, p=p, return_plan=True)
    a_ref = np.full(9, 1 / 9) if a is None else a / a.sum()
    b_ref = np.full(13, 1 / 13) if b is None else b / b.sum()
    assert plan.shape == (9, 13)
    assert (plan >= 0).all()
    assert_close(plan.sum(1), a_ref, rtol=0, atol=1e-12)
    assert_close(plan.sum(0), b_ref, rtol=0, atol=1e-12)
    cost = np.linalg.norm(x[:, None] - y[None], axis=-1) ** p
    assert float((plan * cost).sum()) ** (1 / p) == pytest.approx(w, rel=1e-10)
    assert T.wasserstein_2d(x, y, a, b, p=p) == pytest.approx(w, rel=1e-12)
    # a vertex of the transport polytope: at most n + m - 1 non-zero entries
    assert (plan > 1e-14).sum() <= 9 + 13 - 1


def test_plan_with_equal_masses_not_normalised():
    x, y = np.array([[0.0, 0.0], [1.0, 0.0]]), np.array([[0.0, 1.0], [1.0, 1.0], [2.0, 1.0]])
    a, b = np.array([1.0, 2.0]), np.array([1.5, 1.0, 0.5])  # both total 3
    w, plan = T.wasserstein_2d(x, y, a, b, return_plan=True, normalize=False)
    assert_close(plan.sum(1), a, rtol=0, atol=1e-12)
    assert_close(plan.sum(0), b, rtol=0, atol=1e-12)


def test_iteration_cap_warns():
    rng = _rng(0)
    with pytest.warns(RuntimeWarning, match="stopped early"):
        T.wasserstein_2d(rng.normal(size=(60, 2)), rng.normal(size=(60, 2)), num_itermax=5)


# ----------------------------------------------------------------------------- parallel lines


@pytest.mark.parametrize("theta", [-1.3, -0.2, 0.05, 1.0])
def test_parallel_lines_closed_form(theta):
    d = T.parallel_lines_closed_form(theta)
    assert d["W"] == pytest.approx(abs(theta))
    assert d["JS"] == pytest.approx(math.log(2))
    assert d["KL"] == math.inf
    assert d["TV"] == 1.0


def test_parallel_lines_closed_form_at_zero():
    assert T.parallel_lines_closed_form(0.0) == {"W": 0.0, "JS": 0.0, "KL": 0.0, "TV": 0.0}


@pytest.mark.parametrize("theta", [-1.0, -0.3, 0.02, 0.5, 2.0])
def test_parallel_lines_estimate_paired(theta):
    est = T.parallel_lines_estimate(theta, n=200, generator=torch.Generator().manual_seed(0))
    assert est["W"] == pytest.approx(abs(theta), abs=1e-9)
    assert est["JS"] == pytest.approx(math.log(2), abs=1e-12)  # |theta| >= h/2 = 0.0125: different columns
    assert est["KL"] == math.inf
    assert est["TV"] == pytest.approx(1.0, abs=1e-12)


def test_parallel_lines_estimate_at_zero_is_zero():
    est = T.parallel_lines_estimate(0.0, n=200, generator=torch.Generator().manual_seed(0))
    assert est == pytest.approx({"W": 0.0, "JS": 0.0, "KL": 0.0, "TV": 0.0}, abs=1e-12)


def test_parallel_lines_estimate_unpaired_carries_sampling_error():
    g = torch.Generator().manual_seed(0)
    est0 = T.parallel_lines_estimate(0.0, n=200, generator=g, paired=False)
    assert 0.0 < est0["W"] < 0.1  # two independent uniform samples: W ~ n^-1/2, not 0
    est = T.parallel_lines_estimate(1.0, n=200, generator=g, paired=False)
    assert 1.0 <= est["W"] < 1.01  # every cost is >= |theta|


def _t(values):
    return torch.tensor(np.asarray(values, dtype=np.float64))


@pytest.mark.parametrize("bins", [40, 41, 100])
def test_parallel_lines_bin_edges_are_a_fixed_lattice(bins):
    """Square cells of side 1/bins; the x-edges sit at (k + 1/2) h whatever theta is, so a column is centred
    on x = 0; the edges reach past both lines; the cell width is computed, not assumed."""
    h = 1.0 / bins
    for theta in (-1.0, -0.3, -0.01, 0.0, 0.01, 0.0125, 0.5, 2.0):
        x_edges, z_edges = T.parallel_lines_bin_edges(theta, bins)
        assert len(z_edges) == bins + 1 and z_edges[0] == 0.0 and z_edges[-1] == 1.0
        assert_close(_t(np.diff(x_edges)), _t(np.full(len(x_edges) - 1, h)))
        assert_close(_t(np.diff(z_edges)), _t(np.full(bins, h)))
        k = x_edges / h - 0.5  # integers on the fixed lattice
        assert_close(_t(k), _t(np.round(k)), rtol=0, atol=1e-9)
        assert x_edges[0] < min(0.0, theta) - h / 2 and x_edges[-1] > max(0.0, theta) + h / 2
        assert np.abs(x_edges + h / 2).min() < 1e-12 and np.abs(x_edges - h / 2).min() < 1e-12  # column 0: [-h/2, h/2)


def _cell_counts(points, h):
    """Independent reference: count points per cell with the cell index (floor(x/h + 1/2), floor(z/h))."""
    counts = {}
    for x, z in points:
        key = (math.floor(x / h + 0.5), math.floor(z / h))
        counts[key] = counts.get(key, 0) + 1
    return counts


@pytest.mark.parametrize("bins", [40, 41, 100])
@pytest.mark.parametrize("paired", [True, False])
def test_parallel_lines_estimate_matches_a_cell_count_reference(bins, paired):
    """JS and TV of parallel_lines_estimate equal those of per-cell counts computed here by hand (dict of cells)."""
    from wgan_lessons.data import parallel_lines

    h = 1.0 / bins
    for theta in (-0.6, -0.004, 0.007, 0.3):
        g = torch.Generator().manual_seed(3)
        est = T.parallel_lines_estimate(theta, n=150, bins=bins, generator=g, paired=paired)
        g = torch.Generator().manual_seed(3)
        x0 = parallel_lines(0.0, 150, g).double().numpy()
        x1 = x0.copy() if paired else parallel_lines(theta, 150, g).double().numpy()
        x1[:, 0] = theta
        c0, c1 = _cell_counts(x0, h), _cell_counts(x1, h)
        cells = sorted(set(c0) | set(c1))
        p = np.array([c0.get(c, 0) for c in cells], dtype=float) / 150
        q = np.array([c1.get(c, 0) for c in cells], dtype=float) / 150
        m = (p + q) / 2
        js = 0.5 * sum(a * math.log(a / b) for a, b in zip(p, m) if a > 0) \
            + 0.5 * sum(a * math.log(a / b) for a, b in zip(q, m) if a > 0)
        tv = 0.5 * np.abs(p - q).sum()
        assert_close(_t([est["JS"], est["TV"]]), _t([js, tv]), rtol=0, atol=1e-12)


@pytest.mark.parametrize("bins", [40, 41, 100])
def test_parallel_lines_histogram_blind_spot_is_half_a_cell(bins):
    """With paired heights the lines share their cells exactly when -h/2 <= theta < h/2 (h = 1/bins): then JS,
    KL and TV read 0 while W reports |theta|; from |theta| >= h/2 on they read log 2, inf and 1."""
    h = 1.0 / bins
    inside = (-h / 2, -0.6 * h / 2, 0.3 * h / 2, 0.99 * h / 2)
    outside = (-1.01 * h / 2, h / 2, 1.01 * h / 2, 3 * h)
    for theta in inside + outside:
        est = T.parallel_lines_estimate(theta, n=200, bins=bins, generator=torch.Generator().manual_seed(0))
        assert_close(_t(est["W"]), _t(abs(theta)), rtol=0, atol=1e-9)
        want = (0.0, 0.0, 0.0) if theta in inside else (math.log(2), math.inf, 1.0)
        got = (est["JS"], est["KL"], est["TV"])
        assert got[1] == want[1], (theta, got)
        assert_close(_t([got[0], got[2]]), _t([want[0], want[2]]), rtol=0, atol=1e-12)


# ----------------------------------------------------------------------------- divergences on a grid


def test_divergences_hand_computed():
    p, q = np.array([0.5, 0.5]), np.array([0.25, 0.75])
    kl = 0.5 * math.log(0.5 / 0.25) + 0.5 * math.log(0.5 / 0.75)
    m = [0.375, 0.625]
    js = 0.5 * (0.5 * math.log(0.5 / m[0]) + 0.5 * math.log(0.5 / m[1])) \
        + 0.5 * (0.25 * math.log(0.25 / m[0]) + 0.75 * math.log(0.75 / m[1]))
    assert T.kl_divergence(p, q) == pytest.approx(kl, rel=1e-12)
    assert T.js_divergence(p, q) == pytest.approx(js, rel=1e-12)
    assert T.total_variation(p, q) == pytest.approx(0.25, rel=1e-12)
    # counts are normalised: [2, 2] vs [1, 3] are the same histograms
    assert T.kl_divergence([2, 2], torch.tensor([1.0, 3.0])) == pytest.approx(kl, rel=1e-12)
    assert T.js_divergence(q, p) == pytest.approx(js, rel=1e-12)  # JS is symmetric, KL is not
    assert abs(T.kl_divergence(q, p) - kl) > 1e-3


def test_divergences_on_disjoint_and_partly_disjoint_supports():
    assert T.kl_divergence([1, 1, 0], [0, 1, 1]) == math.inf
    assert T.kl_divergence([0, 1, 0], [1, 1, 1]) == pytest.approx(math.log(3), rel=1e-12)  # q covers p: finite
    assert T.js_divergence([1, 1, 0, 0], [0, 0, 1, 1]) == pytest.approx(math.log(2), rel=1e-12)
    assert T.total_variation([1, 1, 0, 0], [0, 0, 1, 1]) == pytest.approx(1.0, rel=1e-12)
    assert T.js_divergence([1, 2, 3], [1, 2, 3]) == pytest.approx(0.0, abs=1e-15)


def test_divergences_survive_subnormal_densities():
    # regression: halving the smallest subnormal underflows to 0 and made JS = inf
    assert T.js_divergence([5e-324, 1.0], [0.0, 1.0]) == pytest.approx(0.0, abs=1e-300)
    # regression: 0.5 / 1e-320 overflows to inf and made a finite KL = inf
    kl = 0.5 * (math.log(0.5) - math.log(1e-320)) + 0.5 * math.log(0.5)
    assert T.kl_divergence([0.5, 0.5], [1e-320, 1.0]) == pytest.approx(kl, rel=1e-9)


# ----------------------------------------------------------------------------- sliced W


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("p", [1, 2])
def test_sliced_is_at_most_exact(seed, p):
    rng = _rng(seed)
    x, y = rng.normal(size=(50, 2)), rng.normal(size=(60, 2)) * [0.5, 2.0] + 1.0
    # each projection is 1-Lipschitz, so every projected W_p is <= W_p, for any set of directions
    assert T.sliced_wasserstein(x, y, n_projections=100, seed=seed, p=p) <= T.wasserstein_2d(x, y, p=p) + 1e-12


@pytest.mark.parametrize("p", [1, 2])
def test_sliced_on_a_line_is_a_scaled_1d_w_not_the_1d_w(p):
    # Data on the line t * e: each direction theta sees W_p scaled by |<theta, e>|, so
    # SW_p = (mean |<theta, e>|^p)^(1/p) * W_p(1-D), NOT W_p itself (checked with POT's own directions).
    rng = _rng(0)
    e = np.array([0.6, 0.8])
    s, t = rng.normal(size=80), rng.normal(1.0, 2.0, size=80)
    x, y = np.outer(s, e), np.outer(t, e)
    proj = ot.sliced.get_random_projections(2, 64, seed=0)  # (2, 64), what seed=0 gives inside POT
    factor = np.mean(np.abs(e @ proj) ** p) ** (1 / p)
    w1d = T.wasserstein_1d(s, t, p=p)
    sw = T.sliced_wasserstein(x, y, n_projections=64, seed=0, p=p)
    assert sw == pytest.approx(factor * w1d, rel=1e-10)
    assert T.wasserstein_2d(x, y, p=p) == pytest.approx(w1d, rel=1e-9)  # exact W on the line is the 1-D W
    assert sw < 0.9 * w1d
    # with many directions the factor tends to E|cos| = 2/pi (p=1) or sqrt(E cos^2) = 1/sqrt(2) (p=2)
    limit = 2 / math.pi if p == 1 else 1 / math.sqrt(2)
    assert T.sliced_wasserstein(x, y, n_projections=20_000, seed=1, p=p) / w1d == pytest.approx(limit, rel=0.02)


def test_sliced_in_one_dimension_is_exact():
    rng = _rng(0)
    u, v = rng.normal(size=(30, 1)), rng.normal(2, 1, size=(40, 1))
    assert T.sliced_wasserstein(u, v, n_projections=5, p=1) == pytest.approx(T.wasserstein_1d(u, v), rel=1e-10)


# ----------------------------------------------------------------------------- 1-D helpers for the lessons


@pytest.mark.parametrize("weighted", [False, True])
def test_cdf_and_quantile_areas_are_w(weighted):
    rng = _rng(7)
    u, v = rng.normal(size=33), rng.normal(0.5, 2, size=50)
    wu, wv = (rng.random(33), rng.random(50)) if weighted else (None, None)
    x, fu, fv = T.cdf_functions(u, v, wu, wv)
    assert x.shape == fu.shape == fv.shape == (83,)
    assert fu[-1] == pytest.approx(1.0) and fv[-1] == pytest.approx(1.0)
    area = float(np.sum(np.abs(fu - fv)[:-1] * np.diff(x)))
    assert area == pytest.approx(T.wasserstein_1d(u, v, wu, wv), rel=1e-10)
    t, qu, qv = T.quantile_functions(u, v, wu, wv)
    assert t[0] == 0.0 and t[-1] == 1.0 and qu.shape == qv.shape == (len(t) - 1,)
    for p in (1, 2):
        wpp = float(np.sum(np.abs(qu - qv) ** p * np.diff(t)))
        assert wpp ** (1 / p) == pytest.approx(T.wasserstein_1d(u, v, wu, wv, p=p), rel=1e-10)


def test_empirical_cdf_values():
    f = T.empirical_cdf([3.0, 1.0, 2.0, 2.0], [0.0, 1.0, 1.5, 2.0, 10.0])
    assert_close(f, np.array([0.0, 0.25, 0.25, 0.75, 1.0]), rtol=0, atol=1e-15)
    fw = T.empirical_cdf([0.0, 1.0], [0.5, 1.0], weights=[3.0, 1.0])
    assert_close(fw, np.array([0.75, 1.0]), rtol=0, atol=1e-15)


def test_grid_divergences_closed_forms():
    grid = np.linspace(-12, 16, 8001)
    gauss = Mixture1D((0.0,), (1.0,))
    shifted = T.grid_divergences(gauss, gauss.shifted(2.0), grid)
    assert shifted["W"] == pytest.approx(2.0, abs=1e-6)  # W1 of a translation is the shift
    assert shifted["KL"] == pytest.approx(2.0, rel=1e-4)  # KL(N(0,1) || N(2,1)) = 2^2 / 2
    assert 0 < shifted["JS"] < math.log(2) and 0 < shifted["TV"] < 1
    scaled = T.grid_divergences(gauss, gauss.shifted(0.0, 2.0), grid)
    assert scaled["W"] == pytest.approx(math.sqrt(2 / math.pi), rel=1e-4)  # |2 - 1| * E|Z|
    bimodal = mixture_1d("bimodal")
    assert T.grid_divergences(bimodal, bimodal, grid) == pytest.approx({"W": 0, "KL": 0, "JS": 0, "TV": 0}, abs=1e-12)
    with pytest.raises(ValueError, match="uniformly spaced"):
        T.grid_divergences(gauss, gauss, np.array([0.0, 1.0, 3.0]))


def test_wasserstein_1d_torch_value_and_gradient():
    g = torch.Generator().manual_seed(0)
    u = torch.randn(100, generator=g, dtype=torch.float64)
    z = torch.randn(120, generator=g, dtype=torch.float64)
    s = torch.tensor(10.0, dtype=torch.float64, requires_grad=True)
    w = T.wasserstein_1d_torch(u, z + s)
    assert float(w.detach()) == pytest.approx(T.wasserstein_1d(u.numpy(), (z + 10).numpy()), rel=1e-10)
    w.backward()
    assert float(s.grad) == pytest.approx(1.0, abs=1e-10)  # all of z + s lies to the right: dW1/ds = 1
    s2 = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
    w2 = T.wasserstein_1d_torch(u, z + s2, p=2)
    w2.backward()
    assert float(w2.detach()) == pytest.approx(T.wasserstein_1d(u.numpy(), z.numpy(), p=2), rel=1e-10)
    with pytest.raises(ValueError, match="torch tensors"):
        T.wasserstein_1d_torch(u.numpy(), z)


def test_time_call():
    out, sec = T.time_call(sum, [1, 2, 3], repeat=2)
    assert out == 6 and 0.0 <= sec < 1.0
    with pytest.raises(ValueError, match="repeat"):
        T.time_call(sum, [1], repeat=0)


# ----------------------------------------------------------------------------- bad inputs


def test_mismatched_dimensions():
    x, y = np.zeros((4, 2)), np.zeros((5, 3))
    with pytest.raises(ValueError, match="different dimensions: 2 vs 3"):
        T.wasserstein_2d(x, y)
    with pytest.raises(ValueError, match="different dimensions"):
        T.sliced_wasserstein(x, y)
    with pytest.raises(ValueError, match="different dimensions"):
        T.dirac_w([0.0, 0.0], [0.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="use wasserstein_2d"):
        T.wasserstein_1d(np.zeros((4, 2)), np.zeros(4))
    with pytest.raises(ValueError, match="same grid"):
        T.js_divergence([1, 2], [1, 2, 3])
    with pytest.raises(ValueError, match="mismatched dimensions"):
        T.gaussian_w2(np.zeros(2), np.eye(2), np.zeros(3), np.eye(3))


def test_negative_weights():
    with pytest.raises(ValueError, match="u_weights has negative entries"):
        T.wasserstein_1d([0.0, 1.0], [0.0, 1.0], u_weights=[1.0, -0.5])
    with pytest.raises(ValueError, match="b has negative entries"):
        T.wasserstein_2d(np.zeros((2, 2)), np.ones((2, 2)), b=[-1.0, 2.0])
    with pytest.raises(ValueError, match="negative entries"):
        T.kl_divergence([1.0, -1.0], [1.0, 1.0])


def test_unequal_mass_without_normalize():
    with pytest.raises(ValueError, match="different total mass"):
        T.wasserstein_1d([0.0, 1.0], [0.0, 1.0], [1.0, 1.0], [1.0, 2.0], normalize=False)
    with pytest.raises(ValueError, match="different total mass.*normalize=True"):
        T.wasserstein_2d(np.zeros((2, 2)), np.ones((3, 2)), [0.5, 0.5], [0.5, 0.5, 0.5], normalize=False)
    # equal mass is fine, and the default normalises anything
    assert T.wasserstein_1d([0.0], [2.0], [3.0], [3.0], normalize=False) == pytest.approx(2.0 * 3.0)
    assert T.wasserstein_1d([0.0, 1.0], [0.0, 1.0], [1.0, 1.0], [1.0, 2.0]) > 0


def test_weights_summing_to_zero():
    with pytest.raises(ValueError, match="sums to 0"):
        T.wasserstein_1d([0.0, 1.0], [0.0, 1.0], v_weights=[0.0, 0.0])
    with pytest.raises(ValueError, match="a sums to 0"):
        T.wasserstein_2d(np.zeros((2, 2)), np.ones((2, 2)), a=[0.0, 0.0])
    with pytest.raises(ValueError, match="sums to zero"):
        T.total_variation([0.0, 0.0], [1.0, 1.0])


def test_nan_and_inf():
    with pytest.raises(ValueError, match="v contains NaN"):
        T.wasserstein_1d([0.0, 1.0], [0.0, float("nan")])
    with pytest.raises(ValueError, match="x contains NaN"):
        T.wasserstein_2d(torch.tensor([[float("nan"), 0.0]]), np.zeros((1, 2)))
    with pytest.raises(ValueError, match="a contains NaN"):
        T.wasserstein_2d(np.zeros((2, 2)), np.ones((2, 2)), a=[float("nan"), 1.0])
    with pytest.raises(ValueError, match="contains inf"):
        T.wasserstein_1d([0.0, math.inf], [0.0, 1.0])
    with pytest.raises(ValueError, match="contains NaN"):
        T.wasserstein_1d_torch(torch.tensor([0.0, float("nan")]), torch.tensor([0.0, 1.0]))


def test_empty_input():
    with pytest.raises(ValueError, match="u is empty"):
        T.wasserstein_1d([], [1.0])
    with pytest.raises(ValueError, match="y is empty"):
        T.wasserstein_2d(np.zeros((3, 2)), np.zeros((0, 2)))
    with pytest.raises(ValueError, match="empty"):
        T.sliced_wasserstein(np.zeros((0, 2)), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="empty"):
        T.wasserstein_1d_torch(torch.zeros(0), torch.zeros(2))


def test_weight_length_and_p():
    with pytest.raises(ValueError, match="u_weights has 3 entries but there are 2 samples"):
        T.wasserstein_1d([0.0, 1.0], [0.0, 1.0], u_weights=[1.0, 1.0, 1.0])
    for bad in (0.5, 0, True, float("nan"), float("inf"), "2"):
        with pytest.raises(ValueError, match="p must be a finite number >= 1"):
            T.wasserstein_2d(np.zeros((2, 2)), np.ones((2, 2)), p=bad)
    with pytest.raises(ValueError, match="n_projections"):
        T.sliced_wasserstein(np.zeros((2, 2)), np.ones((2, 2)), n_projections=0)


def test_plot_plan_draws_one_line_per_matched_pair_and_checks_shapes():
    from wgan_lessons.plots import new_figure, plot_plan

    fig, axes = new_figure()
    x = np.array([[0.0, 0.0], [1.0, 0.0]])
    y = np.array([[0.0, 1.0], [1.0, 1.0]])
    lines = plot_plan(axes[0, 0], x, y, np.array([[0.5, 0.0], [0.0, 0.5]]), title="plan")
    segs = lines.get_segments()
    assert len(segs) == 2
    torch.testing.assert_close(torch.tensor(np.array(segs)), torch.tensor(np.stack([x, y], axis=1)))
    with pytest.raises(ValueError, match=r"plan \(n, m\)"):
        plot_plan(axes[0, 0], x, y, np.ones((3, 2)))
