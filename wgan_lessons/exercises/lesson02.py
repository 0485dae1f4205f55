"""Lesson 02 exercises: Wasserstein in 1-D.

- :func:`check_w1_sorted`: W1 of two equal-size samples from the sorted samples,
  W1 = (1/n) sum_k |u_(k) - v_(k)|, checked against POT (``wasserstein_1d``).
- :func:`check_w1_from_cdfs`: W1 between two 1-D distributions as the area between their
  CDFs on a uniform grid, W1 = int |F_p(x) - F_q(x)| dx.

Each checker runs the learner's function on seeded cases, never raises, and, when the answer
is wrong, says which common mistake the value matches.
"""

from __future__ import annotations

import math

import numpy as np

from wgan_lessons.exercises.base import CheckResult, call_learner, failed, forbidden_use, learner_array, passed

__all__ = ["check_w1_sorted", "check_w1_from_cdfs"]


def _as_float(value):
    """The learner's result as a Python float: accepts a float, an int, a numpy scalar or 0-d /
    size-1 array, or a torch scalar tensor. Returns ``(x, None)`` or ``(None, CheckResult)``."""
    arr, err = learner_array(value, "one number (a float)")
    if err is not None:
        return None, err
    if arr.size != 1:
        return None, failed(f"Your function returned an array of shape {arr.shape}; return one number (a float).",
                            "Did you forget to average (or sum) over the samples?")
    x = float(arr.reshape(()))
    if not math.isfinite(x):
        return None, failed(f"Your function returned {x}; expected a finite number.")
    return x, None


def _close(x: float, ref: float, rtol: float, atol: float) -> bool:
    return abs(x - ref) <= atol + rtol * abs(ref)


def _diagnose(x: float, ref: float, candidates: list, rtol: float, atol: float, case: str,
              quantity: str) -> CheckResult:
    """A failed verdict naming the first wrong formula that ``x`` matches, or a generic one that
    names ``quantity``, the quantity checked (e.g. 'W1', 'W_2')."""
    for value, message in candidates:
        if _close(x, value, rtol, atol) and not _close(value, ref, rtol, atol):
            return failed(message, f"{case}: your value {x:.6g}, expected {quantity} = {ref:.6g}")
    return failed(f"Your value does not match the reference {quantity}.",
                  f"{case}: your value {x:.6g}, expected {quantity} = {ref:.6g}")


# ----------------------------------------------------------------------------- W1 from sorted samples

_W1_SORTED_CASES = ((7, 0), (50, 1), (200, 2))  # (n, seed)


_NO_ABS_SORTED = (
    "You averaged the differences without the absolute value: mean(sort(u) - sort(v)) (or its absolute "
    "value) is just mean(u) - mean(v), i.e. |mean(u) - mean(v)|, which is 0 for different distributions "
    "with equal means. Take the absolute value of each difference before averaging.")


def _w1_sorted_case(n: int, seed: int):
    rng = np.random.default_rng(seed)
    u = rng.normal(0.0, 1.0, n)
    v = rng.normal(0.4, 1.8, n)  # a different spread, so the CDFs cross and |mean(u) - mean(v)| < W1
    return u, v


def check_w1_sorted(fn) -> CheckResult:
    """Check ``fn(u, v) -> float``: W1 between two 1-D samples of the same size n.

    ``u`` and ``v`` are numpy float64 arrays of shape (n,), in the order they were drawn (not
    sorted). The reference is POT's exact 1-D solver (:func:`wgan_lessons.transport.wasserstein_1d`).
    The result may be a float, a numpy scalar or a torch scalar.
    """
    from wgan_lessons.transport import wasserstein_1d

    broken = forbidden_use(fn, ("ot", "scipy", "wgan_lessons"), "only numpy: no POT, no SciPy, and not the "
                           "course's own reference (wgan_lessons.transport)")
    if broken is not None:
        return broken
    rtol, atol = 1e-5, 1e-8
    for n, seed in _W1_SORTED_CASES:
        u, v = _w1_sorted_case(n, seed)
        value, err = call_learner(fn, u.copy(), v.copy())
        if err is not None:
            return err
        x, err = _as_float(value)
        if err is not None:
            return err
        ref = wasserstein_1d(u, v, p=1)
        if _close(x, ref, rtol, atol):
            continue
        su, sv = np.sort(u), np.sort(v)
        d = su - sv
        candidates = [
            (np.mean(np.abs(u - v)),
             "You forgot to sort: mean |u_i - v_i| pairs the samples in the order they were drawn. "
             "W1 pairs the k-th smallest u with the k-th smallest v: sort both samples first."),
            (np.mean(np.abs(su - v)), "You sorted only u; sort v as well, then pair them up in order."),
            (np.mean(np.abs(u - sv)), "You sorted only v; sort u as well, then pair them up in order."),
            (np.mean(np.abs(su - sv[::-1])),
             "You sorted the two samples in opposite orders: sort both in increasing order."),
            (math.sqrt(np.mean(d**2)),
             "You returned W2, the root of the mean squared difference. W1 is the mean of the "
             "absolute differences |sort(u)_k - sort(v)_k|: no square, no root."),
            (np.mean(d**2),
             "You returned the mean squared difference (W2 squared). W1 averages the absolute "
             "differences, not their squares."),
            (np.mean(d), _NO_ABS_SORTED),
            (abs(np.mean(d)), _NO_ABS_SORTED),
            (np.sum(np.abs(d)),
             "You summed the absolute differences; W1 is their mean (divide by n): each sample "
             "carries mass 1/n."),
            (np.median(np.abs(d)), "You took the median of the absolute differences; W1 is their mean."),
        ]
        return _diagnose(x, ref, candidates, rtol, atol, f"case n={n}", "W1")
    return passed(f"Correct: your W1 matches POT's exact solver on {len(_W1_SORTED_CASES)} random cases.")


# ----------------------------------------------------------------------------- W1 from CDFs

_NO_ABS_CDF = (
    "You integrated F_p - F_q without the absolute value (or took it only after integrating): "
    "int (F_p - F_q) dx = mean(q) - mean(p), and the parts where the CDFs cross cancel. "
    "Take |F_p - F_q| at every grid point, then integrate.")


def _cdf_cases():
    from wgan_lessons.data import Mixture1D, mixture_1d

    return [
        (mixture_1d("bimodal"), mixture_1d("gaussian").shifted(0.5, 1.5)),  # equal-ish means, crossing CDFs
        (mixture_1d("skewed"), mixture_1d("trimodal").shifted(-1.0, 0.8)),
        (Mixture1D((-1.0, 0.5, 3.0), (0.3, 0.6, 0.4), (0.2, 0.5, 0.3)), Mixture1D((2.0,), (0.7,))),
    ]


def check_w1_from_cdfs(fn) -> CheckResult:
    """Check ``fn(p, q, grid) -> float``: W1 = int |F_p(x) - F_q(x)| dx, integrated over ``grid``.

    ``p`` and ``q`` are :class:`wgan_lessons.data.Mixture1D` (use ``p.cdf(grid)``); ``grid`` is a
    uniform numpy grid that covers both. A Riemann sum or the trapezoid rule both pass. The
    reference is :func:`wgan_lessons.transport.grid_divergences` on the same grid.
    """
    from wgan_lessons.transport import grid_divergences

    grid = np.linspace(-10.0, 10.0, 4001)
    dx = grid[1] - grid[0]
    rtol, atol = 2e-3, 1e-4  # the rectangle rule differs from the trapezoid by O(dx) at the ends
    for i, (p, q) in enumerate(_cdf_cases(), start=1):
        value, err = call_learner(fn, p, q, grid.copy())
        if err is not None:
            return err
        x, err = _as_float(value)
        if err is not None:
            return err
        ref = grid_divergences(p, q, grid)["W"]
        if _close(x, ref, rtol, atol):
            continue
        gap = p.cdf(grid) - q.cdf(grid)
        dens = p.pdf(grid) - q.pdf(grid)
        candidates = [
            (np.sum(gap) * dx, _NO_ABS_CDF),
            (abs(np.sum(gap) * dx), _NO_ABS_CDF),
            (np.sum(np.abs(gap)),
             "You summed |F_p - F_q| without multiplying by the grid spacing dx = grid[1] - grid[0]: "
             "an integral is a sum times dx."),
            (np.mean(np.abs(gap)),
             "You averaged |F_p - F_q| over the grid points: multiply the sum by dx instead of "
             "dividing by the number of points."),
            (np.sum(gap**2) * dx, "You integrated (F_p - F_q)^2; W1 integrates |F_p - F_q| (no square)."),
            (math.sqrt(np.sum(gap**2) * dx),
             "You returned sqrt(int (F_p - F_q)^2 dx), which is not W2 either; W1 integrates |F_p - F_q|."),
            (np.sum(np.abs(dens)) * dx,
             "You integrated the densities (pdf), not the CDFs: int |p - q| dx is twice the total "
             "variation. Use p.cdf(grid) and q.cdf(grid)."),
            (0.5 * np.sum(np.abs(dens)) * dx,
             "You computed the total variation from the densities; W1 integrates the gap between the CDFs."),
        ]
        return _diagnose(x, ref, candidates, rtol, atol, f"case {i}", "W1")
    return passed(f"Correct: the area between the CDFs matches the reference on {len(_cdf_cases())} pairs of mixtures.")
