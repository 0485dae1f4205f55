"""Exact Wasserstein distances, their closed forms, and the divergences they are compared with.

Every function accepts numpy arrays or torch tensors and returns Python floats (or numpy
arrays for plans). The heavy lifting is POT's (Flamary et al. 2021), with its traps handled:

- ``ot.wasserstein_1d(u, v, u_w, v_w, p)`` returns W_p **to the power p**: we take the root.
- ``ot.dist(x, y)`` defaults to the **squared** Euclidean cost, so ``ot.emd2(a, b, ot.dist(x, y))``
  is W2 squared, not W1. We build the cost as ``ot.dist(x, y, metric='euclidean') ** p``.
- ``ot.emd``/``ot.emd2`` need weights of equal mass, and stop at ``numItermax`` with only a
  warning: we raise the limit and turn that warning into one that says what to do.

Definitions, for probability measures mu (weights a on points x_i) and nu (weights b on y_j):

    W_p(mu, nu) = ( min_{P in U(a, b)} sum_ij P_ij ||x_i - y_j||^p )^(1/p),
    U(a, b) = { P >= 0 : P 1 = a, P^T 1 = b }.

In 1-D, W_p = ( int_0^1 |F^-1(t) - G^-1(t)|^p dt )^(1/p), and W1 = int |F(x) - G(x)| dx.
"""

from __future__ import annotations

import math
import numbers
import time
import warnings

import numpy as np

__all__ = [
    "wasserstein_1d",
    "wasserstein_1d_torch",
    "wasserstein_2d",
    "sliced_wasserstein",
    "kl_divergence",
    "js_divergence",
    "total_variation",
    "gaussian_w2_1d",
    "gaussian_w2",
    "dirac_w",
    "parallel_lines_closed_form",
    "parallel_lines_bin_edges",
    "parallel_lines_estimate",
    "empirical_cdf",
    "cdf_functions",
    "quantile_functions",
    "grid_divergences",
    "time_call",
]


# ----------------------------------------------------------------------------- input checks


def _to_numpy(x, name: str) -> np.ndarray:
    try:
        import torch

        if isinstance(x, torch.Tensor):
            x = x.detach().cpu().double().numpy()
    except ImportError:  # pragma: no cover
        pass
    arr = np.asarray(x, dtype=np.float64)
    if arr.size == 0:
        raise ValueError(f"{name} is empty: pass at least one sample")
    if np.isnan(arr).any():
        raise ValueError(f"{name} contains NaN")
    if np.isinf(arr).any():
        raise ValueError(f"{name} contains inf")
    return arr


def _points(x, name: str, ndim_hint: int | None = None) -> np.ndarray:
    """Samples as (n, d); a 1-D array is read as n points in 1-D."""
    arr = _to_numpy(x, name)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ValueError(f"{name} must have shape (n, d) or (n,), got {arr.shape}")
    return arr


def _samples_1d(x, name: str) -> np.ndarray:
    arr = _to_numpy(x, name)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D samples, shape (n,), got shape {arr.shape}; "
                         "for points in several dimensions use wasserstein_2d")
    return arr


def _eps_of(x) -> float:
    """Machine epsilon of ``x``'s floating dtype (numpy or torch); float64's for anything else."""
    dtype = getattr(x, "dtype", None)
    try:
        import torch

        if isinstance(dtype, torch.dtype):
            return float(torch.finfo(dtype).eps) if dtype.is_floating_point else float(np.finfo(np.float64).eps)
    except ImportError:  # pragma: no cover
        pass
    if dtype is not None and np.issubdtype(dtype, np.floating):
        return float(np.finfo(dtype).eps)
    return float(np.finfo(np.float64).eps)


def _mass_tolerance(*weights) -> float:
    """Relative tolerance for comparing total masses, fitted to the weights' dtype: each stored
    entry carries a rounding error of up to eps/2 of itself, so two sums of 1 may differ by ~eps.
    float64: 1e-9 (as before); float32: 1.9e-6 (POT's own check allows 1e-6 absolute)."""
    return max([1e-9] + [16 * _eps_of(w) for w in weights if w is not None])


def _weights(w, n: int, name: str, normalize: bool) -> np.ndarray:
    if w is None:
        return np.full(n, 1.0 / n)
    w = _to_numpy(w, name)
    if w.ndim != 1:
        raise ValueError(f"{name} must be a vector of shape ({n},), got shape {w.shape}")
    if w.shape[0] != n:
        raise ValueError(f"{name} has {w.shape[0]} entries but there are {n} samples")
    if (w < 0).any():
        raise ValueError(f"{name} has negative entries: weights must be >= 0")
    total = w.sum()
    if not total > 0:
        raise ValueError(f"{name} sums to {total}: weights that sum to zero cannot be normalised")
    return w / total if normalize else w


def _check_masses(a: np.ndarray, b: np.ndarray, normalize: bool, rel_tol: float = 1e-9,
                  names: tuple = ("a", "b")) -> None:
    """Equal total mass within ``rel_tol`` (see :func:`_mass_tolerance`), unless normalising."""
    sa, sb = float(a.sum()), float(b.sum())
    if not normalize and not math.isclose(sa, sb, rel_tol=rel_tol, abs_tol=1e-12):
        raise ValueError(
            f"{names[0]} and {names[1]} have different total mass ({sa!r} vs {sb!r}, a difference of "
            f"{abs(sa - sb):.3g}, more than the tolerance {rel_tol:.2g} for their dtype); optimal transport "
            "needs equal mass: pass normalize=True to rescale both to 1"
        )


def _check_p(p) -> float:
    # numbers.Real admits numpy scalars (np.int64(2)); bool is excluded, and so are nan and inf.
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not (math.isfinite(p) and p >= 1):
        raise ValueError(f"p must be a finite number >= 1, got {p!r}")
    return float(p)


# ----------------------------------------------------------------------------- distances


def wasserstein_1d(u, v, u_weights=None, v_weights=None, p: float = 1, normalize: bool = True) -> float:
    """W_p between two 1-D empirical measures, exactly, by sorting (POT's ``ot.wasserstein_1d``).

        W_p = ( int_0^1 |F_u^-1(t) - F_v^-1(t)|^p dt )^(1/p)

    POT returns W_p^p; this returns W_p itself.

    Args:
        u: (n,) samples of the first measure. v: (m,) samples of the second.
        u_weights, v_weights: optional non-negative weights, (n,) and (m,).
        p: the order, >= 1.
        normalize: rescale each weight vector to total mass 1 (like ``scipy.stats.wasserstein_distance``).
            With ``False`` the two masses must already be equal.
    """
    import ot

    p = _check_p(p)
    u, v = _samples_1d(u, "u"), _samples_1d(v, "v")
    a = _weights(u_weights, len(u), "u_weights", normalize)
    b = _weights(v_weights, len(v), "v_weights", normalize)
    _check_masses(a, b, normalize, _mass_tolerance(u_weights, v_weights), ("u_weights", "v_weights"))
    if not normalize:  # equal within the dtype's rounding: make them equal for the solver
        b = b * (a.sum() / b.sum())
    wpp = float(ot.wasserstein_1d(u, v, a, b, p=p))
    return max(wpp, 0.0) ** (1.0 / p)


def wasserstein_1d_torch(u, v, p: float = 1):
    """W_p between two 1-D samples as a differentiable torch scalar (POT's torch backend).

        W_p = ( int_0^1 |F_u^-1(t) - F_v^-1(t)|^p dt )^(1/p)

    Gradients flow to ``u`` and ``v`` through the sort, so a parameter that moves the samples
    (a shift, a generator) gets d W_p / d parameter. Uniform weights; the sizes may differ.

    Args:
        u: (n,) tensor. v: (m,) tensor (at least one of them may require grad).
        p: the order, >= 1.

    Returns:
        A 0-d tensor W_p (POT returns W_p^p; the root is taken here).
    """
    import ot
    import torch

    p = _check_p(p)
    if not (isinstance(u, torch.Tensor) and isinstance(v, torch.Tensor)):
        raise ValueError("wasserstein_1d_torch takes torch tensors; use wasserstein_1d for numpy arrays")
    for name, t in (("u", u), ("v", v)):
        if t.ndim != 1:
            raise ValueError(f"{name} must have shape (n,), got {tuple(t.shape)}")
        if t.numel() == 0:
            raise ValueError(f"{name} is empty: pass at least one sample")
        if not torch.isfinite(t).all():
            raise ValueError(f"{name} contains NaN or inf")
    dtype = torch.promote_types(u.dtype, v.dtype)
    with warnings.catch_warnings():  # POT 0.9.x calls .T on a 1-D tensor inside; harmless
        warnings.filterwarnings("ignore", message=r".*x\.T.*", category=UserWarning)
        wpp = ot.wasserstein_1d(u.to(dtype), v.to(dtype), p=p)
    return wpp.clamp_min(0.0) ** (1.0 / p)


def wasserstein_2d(x, y, a=None, b=None, p: float = 1, return_plan: bool = False, normalize: bool = True,
                   num_itermax: int = 1_000_000):
    """Exact W_p between two empirical measures in d dimensions (any d, 2 in the lessons),
    by the network simplex (``ot.emd``).

        W_p = ( min_{P in U(a, b)} sum_ij P_ij ||x_i - y_j||_2^p )^(1/p)

    Trap: POT's ``ot.dist`` uses the *squared* Euclidean cost by default, which makes
    ``ot.emd2(a, b, ot.dist(x, y))`` equal to W2^2. Here the cost is
    ``ot.dist(x, y, metric='euclidean') ** p``, so ``p=1`` really is W1.

    Args:
        x: (n, d) points x_i. y: (m, d) points y_j.
        a: (n,) and b: (m,) non-negative weights (uniform when None).
        p: the order, >= 1.
        return_plan: also return the optimal plan P, (n, m), whose rows sum to a and columns to b.
        normalize: rescale a and b to mass 1; with ``False`` they must have equal mass.
        num_itermax: the simplex's iteration cap (POT's default, 100000, is too small for a few
            thousand points). Hitting it gives a warning that the value may be inexact.

    Returns:
        W_p as a float, or ``(W_p, P)`` when ``return_plan``.
    """
    import ot

    from wgan_lessons.checks import integer

    p = _check_p(p)
    num_itermax = integer(num_itermax, "num_itermax", minimum=1)
    x, y = _points(x, "x"), _points(y, "y")
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"x and y have different dimensions: {x.shape[1]} vs {y.shape[1]}")
    tol = _mass_tolerance(a, b)
    a = _weights(a, len(x), "a", normalize)
    b = _weights(b, len(y), "b", normalize)
    _check_masses(a, b, normalize, tol)
    if not normalize:  # equal within the dtype's rounding: make them equal for the solver
        b = b * (a.sum() / b.sum())
    cost = ot.dist(x, y, metric="euclidean") ** p  # (n, m); NOT the squared default
    # POT warns by itself when it stops at numItermax; we catch that warning and give one that
    # says what to do, so the learner sees one warning for one event.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        plan, log = ot.emd(a, b, cost, numItermax=num_itermax, log=True)
    stopped_early = bool(log.get("warning"))
    for w in caught:
        if stopped_early and "numItermax" in str(w.message):
            continue
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if stopped_early:
        from wgan_lessons.checks import warn_outside

        warn_outside(f"POT's exact solver stopped early ({log['warning']}); the distance may be inexact. "
                     f"Raise num_itermax (now {num_itermax}) or use fewer points.", RuntimeWarning)
    w = max(float(log["cost"]), 0.0) ** (1.0 / p)
    return (w, plan) if return_plan else w


def sliced_wasserstein(x, y, n_projections: int = 200, seed: int | None = 0, p: float = 1, a=None, b=None) -> float:
    """Sliced W_p: the average of 1-D W_p^p over random directions theta on the sphere, to the power 1/p,

        SW_p = ( E_theta[ W_p^p(theta^T # mu, theta^T # nu) ] )^(1/p),

    estimated with ``n_projections`` directions (``ot.sliced_wasserstein_distance``, which
    already takes the root). SW_p <= W_p, and it costs O(n log n) per direction.
    """
    import ot

    p = _check_p(p)
    if not (isinstance(n_projections, int) and n_projections > 0):
        raise ValueError(f"n_projections must be a positive integer, got {n_projections!r}")
    x, y = _points(x, "x"), _points(y, "y")
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"x and y have different dimensions: {x.shape[1]} vs {y.shape[1]}")
    a = _weights(a, len(x), "a", True)
    b = _weights(b, len(y), "b", True)
    return float(ot.sliced_wasserstein_distance(x, y, a, b, n_projections=n_projections, p=p, seed=seed))


# ----------------------------------------------------------------------------- divergences on a grid


def _histograms(p, q):
    p, q = _to_numpy(p, "p"), _to_numpy(q, "q")
    if p.shape != q.shape:
        raise ValueError(f"p and q must live on the same grid, got shapes {p.shape} and {q.shape}")
    p, q = p.reshape(-1), q.reshape(-1)
    for name, h in (("p", p), ("q", q)):
        if (h < 0).any():
            raise ValueError(f"{name} has negative entries: pass histogram counts or density values >= 0")
        if not h.sum() > 0:
            raise ValueError(f"{name} sums to zero and cannot be normalised")
    return p / p.sum(), q / q.sum()


def kl_divergence(p, q) -> float:
    """KL(p || q) = sum_i p_i log(p_i / q_i) (natural log), for histograms or densities on one
    shared uniform grid (each is normalised to sum 1). It is +inf when some p_i > 0 has q_i = 0.

    Computed as p_i (log p_i - log q_i): the ratio p_i / q_i itself overflows to inf when q_i is
    a subnormal float (far Gaussian tails), which would report +inf for a finite KL.
    """
    p, q = _histograms(p, q)
    support = p > 0
    if (q[support] == 0).any():
        return math.inf
    ps, qs = p[support], q[support]
    return float(np.sum(ps * (np.log(ps) - np.log(qs))))


def js_divergence(p, q) -> float:
    """Jensen-Shannon divergence with the 1/2 weights, natural log:
    JS(p, q) = KL(p || m)/2 + KL(q || m)/2 with m = (p + q)/2. It lies in [0, log 2] and
    equals log 2 exactly when p and q have disjoint supports.

    Computed as (1/2) sum_{p_i > 0} p_i (log 2 + log p_i - log(p_i + q_i)) + (the same with p, q
    swapped), never forming m = (p + q)/2: halving a subnormal p_i underflows to 0 and would make
    KL(p || m), and so JS, +inf.
    """
    p, q = _histograms(p, q)
    total = 0.0
    for a, b in ((p, q), (q, p)):
        a, b = a[a > 0], b[a > 0]
        ratio = 2 * a / (a + b)  # in (0, 2]; exactly 1 where a == b, so equal histograms give exactly 0
        safe = ratio > 1e-300
        logs = np.where(safe, np.log(np.where(safe, ratio, 1.0)), math.log(2) + np.log(a) - np.log(a + b))
        total += 0.5 * float(np.sum(a * logs))
    return min(max(total, 0.0), math.log(2))


def total_variation(p, q) -> float:
    """Total variation distance TV(p, q) = (1/2) sum_i |p_i - q_i|, in [0, 1]."""
    p, q = _histograms(p, q)
    return float(0.5 * np.abs(p - q).sum())


# ----------------------------------------------------------------------------- closed forms


def _real(x, name: str) -> float:
    """One finite real number (Python, numpy or torch), or a ValueError naming ``name``."""
    if isinstance(x, bool):
        raise ValueError(f"{name} must be a number, got {x!r}")
    try:
        arr = _to_numpy(x, name)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be one finite number, got {x!r} ({exc})") from None
    if arr.size != 1:
        raise ValueError(f"{name} must be one number, got an array of shape {arr.shape}")
    return float(arr.reshape(()))


def gaussian_w2_1d(m1: float, s1: float, m2: float, s2: float) -> float:
    """W2(N(m1, s1^2), N(m2, s2^2)) = sqrt((m1 - m2)^2 + (s1 - s2)^2).

    Raises:
        ValueError: an argument is not a finite number, or a standard deviation is negative.
    """
    m1, s1, m2, s2 = (_real(v, n) for v, n in ((m1, "m1"), (s1, "s1"), (m2, "m2"), (s2, "s2")))
    for name, s in (("s1", s1), ("s2", s2)):
        if s < 0:
            raise ValueError(f"{name} is a standard deviation and must be >= 0, got {s}")
    return math.sqrt((m1 - m2) ** 2 + (s1 - s2) ** 2)


def _covariance(c, name: str) -> np.ndarray:
    """A covariance matrix, checked: square, finite, symmetric and positive semi-definite, each
    within a tolerance relative to its size (round-off of a float32 estimate passes; a negative
    eigenvalue does not). Singular matrices (a collapsed generator's) are valid."""
    c = np.atleast_2d(_to_numpy(c, name))
    if c.ndim != 2 or c.shape[0] != c.shape[1]:
        raise ValueError(f"{name} must be a square (d, d) covariance matrix, got shape {c.shape}")
    scale = max(float(np.abs(c).max()), np.finfo(float).tiny)
    tol = 1e-6 * scale  # float32 round-off is ~1e-7 relative
    if np.abs(c - c.T).max() > tol:
        raise ValueError(f"{name} is not symmetric (largest |C - C^T| entry {np.abs(c - c.T).max():.3g}); "
                         "a covariance matrix is symmetric")
    lowest = float(np.linalg.eigvalsh(0.5 * (c + c.T)).min())
    if lowest < -tol:
        raise ValueError(f"{name} is not positive semi-definite: it has the eigenvalue {lowest:.4g} < 0, so it "
                         "is not a covariance matrix")
    return 0.5 * (c + c.T)


def _psd_sqrt(c: np.ndarray) -> np.ndarray:
    """The symmetric square root of a PSD matrix by its eigendecomposition (round-off negatives -> 0).
    Unlike scipy.linalg.sqrtm it is exact and silent for singular matrices."""
    lam, vec = np.linalg.eigh(0.5 * (c + c.T))
    return (vec * np.sqrt(np.clip(lam, 0.0, None))) @ vec.T


def gaussian_w2(m1, cov1, m2, cov2) -> float:
    """W2 between N(m1, C1) and N(m2, C2) in n-D (the Bures-Wasserstein formula):

        W2^2 = ||m1 - m2||^2 + tr(C1 + C2 - 2 (C2^{1/2} C1 C2^{1/2})^{1/2}).

    (Dowson and Landau 1982; Givens and Shortt 1984.) Singular covariances are valid (a generator
    collapsed onto a line has one); square roots are taken by eigendecomposition.

    Args:
        m1, m2: (d,) means. cov1, cov2: (d, d) covariance matrices.

    Raises:
        ValueError: naming the argument, when a mean is not finite, the shapes do not match, or a
            covariance is not finite, symmetric and positive semi-definite.
    """
    m1, m2 = _to_numpy(m1, "m1").reshape(-1), _to_numpy(m2, "m2").reshape(-1)
    c1, c2 = _covariance(cov1, "cov1"), _covariance(cov2, "cov2")
    if not (m1.shape[0] == m2.shape[0] == c1.shape[0] == c2.shape[0]):
        raise ValueError(f"means and covariances have mismatched dimensions: m1 {m1.shape[0]}, m2 {m2.shape[0]}, "
                         f"cov1 {c1.shape}, cov2 {c2.shape}")
    r2 = _psd_sqrt(c2)
    cross = _psd_sqrt(r2 @ c1 @ r2)
    w2sq = float(np.sum((m1 - m2) ** 2) + np.trace(c1 + c2 - 2 * cross))
    return math.sqrt(max(w2sq, 0.0))


def dirac_w(x, y) -> float:
    """W_p(delta_x, delta_y) = ||x - y||_2 for every p: the only plan moves all the mass."""
    x, y = _to_numpy(x, "x").reshape(-1), _to_numpy(y, "y").reshape(-1)
    if x.shape != y.shape:
        raise ValueError(f"x and y have different dimensions: {x.shape[0]} vs {y.shape[0]}")
    return float(np.linalg.norm(x - y))


# ----------------------------------------------------------------------------- parallel lines


def parallel_lines_closed_form(theta: float) -> dict:
    """Arjovsky et al. 2017, Example 1: P0 = law of (0, Z), P_theta = law of (theta, Z), Z ~ U[0, 1].

        W(P0, P_theta) = |theta|
        JS(P0, P_theta) = log 2 if theta != 0 else 0   (1/2-weighted JS, natural log)
        KL(P_theta || P0) = +inf if theta != 0 else 0
        TV(P0, P_theta) = 1 if theta != 0 else 0
    """
    theta = _real(theta, "theta")
    apart = theta != 0
    return {
        "W": abs(theta),
        "JS": math.log(2) if apart else 0.0,
        "KL": math.inf if apart else 0.0,
        "TV": 1.0 if apart else 0.0,
    }


def parallel_lines_bin_edges(theta: float, bins: int = 40):
    """The cell edges of the histograms of :func:`parallel_lines_estimate`: a fixed lattice of square
    cells of side h = 1/bins that does not move with theta.

    Rows: z-edges 0, h, 2h, ..., 1, so ``bins`` rows cover the height [0, 1] of the segments.
    Columns: x-edges at (k + 1/2) h for integers k, so column k is the half-open interval
    [(k - 1/2) h, (k + 1/2) h) centred on x = k h (closed on the left, as in ``np.histogram``). The
    line x = 0 of P_0 sits in the middle of column 0; the line x = theta of P_theta sits in column
    floor(theta / h + 1/2). The two lines share a column exactly when -h/2 <= theta < h/2: only
    then can a histogram on these cells not tell them apart. The columns returned run from one
    column left of the left line to one right of the right line (empty columns change no histogram
    divergence), so the edges depend on theta only through how far they reach, never through where
    they lie.

    Returns ``(x_edges, z_edges)``, two increasing 1-D numpy arrays; the cell width is
    ``x_edges[1] - x_edges[0]`` = ``z_edges[1] - z_edges[0]`` = 1/bins.
    """
    from wgan_lessons.data import _check_n

    theta = _real(theta, "theta")
    bins = _check_n(bins, "bins")
    h = 1.0 / bins
    k_lo = math.floor(min(0.0, theta) / h + 0.5) - 1  # the column left of the left line
    k_hi = math.floor(max(0.0, theta) / h + 0.5) + 1  # the column right of the right line
    x_edges = (np.arange(k_lo, k_hi + 2) - 0.5) * h  # edges of columns k_lo .. k_hi
    z_edges = np.linspace(0.0, 1.0, bins + 1)
    return x_edges, z_edges


def parallel_lines_estimate(theta: float, n: int = 500, bins: int = 40, generator=None, paired: bool = True) -> dict:
    """The same four quantities estimated from n samples of each distribution.

    W is the exact W1 between the two point clouds (``wasserstein_2d``); JS, KL(P_theta || P0)
    and TV come from 2-D histograms of both clouds on the cells of
    :func:`parallel_lines_bin_edges`: square cells of side h = 1/bins on a lattice fixed in the
    plane, with one column centred on the line x = 0 of P0.

    ``paired=True`` (the default) draws one set of heights z_1..z_n and uses (0, z_i) and
    (theta, z_i): the two clouds differ only by theta (common random numbers), so the estimate
    of W is |theta| up to round-off and every estimate is 0 at theta = 0, as in the closed form.
    ``paired=False`` draws the heights independently; then W also carries the sampling error
    between two independent uniform samples (about n^-1/2 on the segment), which dominates
    for |theta| below ~ 0.1, and the histogram estimates are not 0 at theta = 0.

    The histogram's blind spot: for -h/2 <= theta < h/2 (theta != 0) both lines fall into the
    same column, and with paired heights into the very same cells, so JS, KL and TV read 0 while
    W reports |theta|. For every other theta the lines occupy different columns and (paired)
    JS = log 2, KL = +inf and TV = 1, the closed form. A histogram cannot see a shift smaller
    than half its cell; W can.
    """
    from wgan_lessons.data import _check_n, parallel_lines

    theta = _real(theta, "theta")
    n = _check_n(n, "n")
    edges = parallel_lines_bin_edges(theta, bins)
    x0 = parallel_lines(0.0, n, generator).double().numpy()  # (n, 2)
    if paired:
        x1 = x0.copy()
        x1[:, 0] = theta
    else:
        x1 = parallel_lines(theta, n, generator).double().numpy()
    h0, _, _ = np.histogram2d(x0[:, 0], x0[:, 1], bins=edges)
    h1, _, _ = np.histogram2d(x1[:, 0], x1[:, 1], bins=edges)
    return {
        "W": wasserstein_2d(x0, x1, p=1),
        "JS": js_divergence(h0, h1),
        "KL": kl_divergence(h1, h0),
        "TV": total_variation(h0, h1),
    }


# ----------------------------------------------------------------------------- 1-D pictures


def _sorted_with_cumweights(x, w, name: str, weights_name: str | None = None):
    x = _samples_1d(x, name)
    a = _weights(w, len(x), weights_name or f"{name}_weights", True)
    order = np.argsort(x, kind="stable")
    return x[order], np.cumsum(a[order])


def empirical_cdf(samples, grid, weights=None) -> np.ndarray:
    """The empirical CDF F(t) = sum_i w_i [x_i <= t] (weights normalised to 1) at each grid point.

    Args:
        samples: (n,) points x_i. grid: (g,) points t. weights: optional (n,) weights >= 0.

    Returns:
        (g,) values in [0, 1], right-continuous (a jump of w_i at x_i).
    """
    xs, cw = _sorted_with_cumweights(samples, weights, "samples", "weights")
    grid = _to_numpy(grid, "grid").reshape(-1)
    idx = np.searchsorted(xs, grid, side="right")  # how many samples are <= t
    return np.where(idx > 0, cw[np.maximum(idx - 1, 0)], 0.0).clip(0.0, 1.0)


def cdf_functions(u, v, u_weights=None, v_weights=None):
    """Both empirical CDFs at the merged sorted sample points, where all their jumps are.

    Between consecutive points x_k < x_{k+1} both CDFs are constant, so the area between them is

        W1 = int |F_u(x) - F_v(x)| dx = sum_k |F_u(x_k) - F_v(x_k)| (x_{k+1} - x_k),   exactly.

    Returns:
        ``(x, F_u, F_v)``, each (n + m,); draw them with ``ax.step(x, F, where='post')``.
    """
    u, v = _samples_1d(u, "u"), _samples_1d(v, "v")
    x = np.sort(np.concatenate([u, v]))
    return x, empirical_cdf(u, x, u_weights), empirical_cdf(v, x, v_weights)


def quantile_functions(u, v, u_weights=None, v_weights=None):
    """Both quantile functions F^-1(t) = min{x : F(x) >= t}, as step functions on the merged
    cumulative levels 0 = t_0 < t_1 < ... < t_K = 1 (where either one jumps). On each
    interval (t_{k-1}, t_k] both are constant, so

        W_p^p = int_0^1 |F_u^-1(t) - F_v^-1(t)|^p dt = sum_k |Q_u[k] - Q_v[k]|^p (t_k - t_{k-1}),   exactly.

    Returns:
        ``(t, Q_u, Q_v)``: t is (K + 1,), Q_u and Q_v are (K,); draw them with ``ax.stairs(Q, t)``.
    """
    us, cu = _sorted_with_cumweights(u, u_weights, "u")
    vs, cv = _sorted_with_cumweights(v, v_weights, "v")
    inner = np.unique(np.concatenate([cu, cv]))
    inner = inner[(inner > 1e-15) & (inner < 1.0 - 1e-15)]  # cumulative sums can end a hair below 1
    inner = inner[np.concatenate([[True], np.diff(inner) > 1e-15])]  # drop round-off slivers
    t = np.concatenate([[0.0], inner, [1.0]])
    mid = 0.5 * (t[:-1] + t[1:])
    q_u = us[np.searchsorted(cu, mid, side="left").clip(0, len(us) - 1)]
    q_v = vs[np.searchsorted(cv, mid, side="left").clip(0, len(vs) - 1)]
    return t, q_u, q_v


def grid_divergences(p, q, grid) -> dict:
    """W1, KL(p || q), JS and TV between two 1-D distributions known by their densities and CDFs
    (e.g. :class:`wgan_lessons.data.Mixture1D`), evaluated on one shared uniform grid.

        W1 = int |F_p - F_q| dx   (trapezoid rule on the grid)
        KL, JS, TV: :func:`kl_divergence`, :func:`js_divergence`, :func:`total_variation`
                    of the density values on the grid (each normalised to sum 1).

    The grid must cover both distributions (mass outside it is ignored) and be fine enough
    to resolve the narrowest component.

    Args:
        p, q: objects with ``.pdf(x)`` and ``.cdf(x)`` taking and returning (g,) arrays.
        grid: (g,) increasing, uniformly spaced points.

    Returns:
        ``{"W": ..., "KL": ..., "JS": ..., "TV": ...}``, floats (KL may be ``inf``).
    """
    grid_in = grid
    grid = _to_numpy(grid, "grid").reshape(-1)
    if grid.size < 2:
        raise ValueError("grid needs at least two points")
    dx = np.diff(grid)
    if not (dx > 0).all():
        raise ValueError("grid must be increasing (np.linspace(lo, hi, n))")
    # a float32 linspace carries rounding of ~eps * max|x| in each point: allow that in the spacing
    rtol = max(1e-6, 8 * _eps_of(grid_in) * float(np.abs(grid).max()) / float(dx[0]))
    spread = float(np.abs(dx - dx[0]).max() / dx[0])
    if spread > rtol:
        raise ValueError(f"grid must be uniformly spaced (np.linspace): its spacing varies by {spread:.3g} "
                         f"(relative), more than {rtol:.2g}")
    dens_p, dens_q = np.asarray(p.pdf(grid), float), np.asarray(q.pdf(grid), float)
    cdf_p, cdf_q = np.asarray(p.cdf(grid), float), np.asarray(q.cdf(grid), float)
    for name, arr in (("p.pdf", dens_p), ("q.pdf", dens_q), ("p.cdf", cdf_p), ("q.cdf", cdf_q)):
        if arr.shape != grid.shape or not np.isfinite(arr).all():
            raise ValueError(f"{name}(grid) must return {grid.shape[0]} finite values, got shape {arr.shape}"
                             + ("" if arr.shape != grid.shape else " with NaN or inf"))
    gap = np.abs(cdf_p - cdf_q)
    return {
        "W": float(np.sum(0.5 * (gap[1:] + gap[:-1]) * dx)),
        "KL": kl_divergence(dens_p, dens_q),
        "JS": js_divergence(dens_p, dens_q),
        "TV": total_variation(dens_p, dens_q),
    }


def time_call(fn, *args, repeat: int = 1, **kwargs):
    """Run ``fn(*args, **kwargs)`` ``repeat`` times; return ``(result, seconds)`` with the fastest
    wall-clock time (``time.perf_counter``) and the last result."""
    if not (isinstance(repeat, int) and repeat >= 1):
        raise ValueError(f"repeat must be a positive integer, got {repeat!r}")
    best, out = math.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn(*args, **kwargs)
        best = min(best, time.perf_counter() - t0)
    return out, best
