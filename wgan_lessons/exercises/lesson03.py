"""Lesson 03 exercises: Wasserstein in 2-D with POT.

- :func:`check_cost_matrix`: the ground cost C_ij = ||x_i - y_j||_2^p (and POT's squared default trap).
- :func:`check_wasserstein_pot`: W_p between two point clouds with ``ot.emd2`` (cost, then the root).
- :func:`check_sliced_w`: the sliced W_p of two point clouds along given directions, by hand
  (project, sort, average W_p^p over the directions, then the root), against POT.
- :func:`check_parallel_lines`: the WGAN paper's Example 1, W / JS / KL / TV as functions of theta
  (no longer an exercise of the lesson; kept for teachers who used it).

Each checker runs the learner's function on seeded cases, never raises, and, when the answer
is wrong, says which common mistake the value matches.
"""

from __future__ import annotations

import math

import numpy as np

from wgan_lessons.exercises.base import CheckResult, call_learner, failed, forbidden_use, learner_array, passed
from wgan_lessons.exercises.lesson02 import _as_float, _close, _diagnose

__all__ = ["check_cost_matrix", "check_wasserstein_pot", "check_sliced_w", "check_parallel_lines"]


def _as_array(value):
    """The learner's result as a float64 numpy array (accepts numpy, torch, nested lists)."""
    return learner_array(value, "an array")


def _clouds(n: int, m: int, d: int, seed: int):
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, 1.0, (n, d))
    y = rng.normal(0.0, 1.0, (m, d)) * np.array([0.5] + [1.5] * (d - 1)) + 0.7
    return x, y


# ----------------------------------------------------------------------------- cost matrix

_COST_CASES = ((8, 9, 3, 1.5, 2), (5, 7, 2, 1, 0), (6, 4, 2, 2, 1), (4, 4, 2, 3, 3))  # (n, m, d, p, seed)


def check_cost_matrix(fn) -> CheckResult:
    """Check ``fn(x, y, p) -> C``: the (n, m) cost matrix C_ij = ||x_i - y_j||_2 ** p.

    ``x`` is (n, d) and ``y`` is (m, d), numpy float64; ``p >= 1``. The result may be numpy or torch.
    """
    from scipy.spatial.distance import cdist

    for n, m, d, p, seed in _COST_CASES:
        x, y = _clouds(n, m, d, seed)
        value, err = call_learner(fn, x.copy(), y.copy(), p)
        if err is not None:
            return err
        c, err = _as_array(value)
        if err is not None:
            return err
        dist = cdist(x, y)  # (n, m) Euclidean
        ref = dist**p
        case = f"case n={n}, m={m}, d={d}, p={p}"
        if c.shape != ref.shape:
            if c.shape == ref.shape[::-1]:
                return failed(f"Your matrix has shape {c.shape}, the transpose of the expected (n, m) = {ref.shape}: "
                              "row i is x_i, column j is y_j.", case)
            return failed(f"Your matrix has shape {c.shape}; expected (n, m) = {ref.shape}: one row per x_i, "
                          "one column per y_j.", case)
        if not np.isfinite(c).all():
            return failed("Your matrix contains NaN or inf.", case)
        if np.allclose(c, ref, rtol=1e-6, atol=1e-9):
            continue
        candidates = [
            (dist**2, "This is the squared Euclidean cost, ot.dist's default (metric='sqeuclidean'), whatever p "
                      "is. The cost of W_p is ||x_i - y_j||^p: use ot.dist(x, y, metric='euclidean') ** p."),
            (dist, "These are the Euclidean distances without the power: raise them to the power p."),
            (dist ** (2 * p), "You raised the squared distance to the power p, which gives ||x_i - y_j||^(2p): "
                              "start from the plain Euclidean distance (metric='euclidean')."),
            (cdist(x, y, "cityblock") ** p, "You used the Manhattan (L1) distance sum_k |x_ik - y_jk|; "
                                            "the cost here is the Euclidean norm."),
        ]
        for cand, message in candidates:
            if np.allclose(c, cand, rtol=1e-6, atol=1e-9) and not np.allclose(cand, ref, rtol=1e-6, atol=1e-9):
                return failed(message, case)
        worst = np.unravel_index(np.argmax(np.abs(c - ref)), ref.shape)
        return failed("Your cost matrix differs from ||x_i - y_j||^p.",
                      f"{case}: entry {tuple(int(i) for i in worst)} is {c[worst]:.6g}, expected {ref[worst]:.6g}")
    return passed(f"Correct: your cost matrix matches ||x_i - y_j||^p on {len(_COST_CASES)} cases, p = 1, 1.5, 2, 3.")


# ----------------------------------------------------------------------------- W_p with POT

_W_CASES = ((12, 15, 1, 0), (10, 10, 2, 1), (9, 14, 1, 2), (11, 8, 3, 3))  # (n, m, p, seed)


def check_wasserstein_pot(fn) -> CheckResult:
    """Check ``fn(x, y, p) -> float``: the exact W_p between the uniform empirical measures of the
    point clouds ``x`` (n, 2) and ``y`` (m, 2), e.g. with ``ot.emd2``. The reference is
    :func:`wgan_lessons.transport.wasserstein_2d`."""
    from wgan_lessons.transport import wasserstein_2d

    rtol, atol = 1e-6, 1e-9
    for n, m, p, seed in _W_CASES:
        x, y = _clouds(n, m, 2, seed)
        value, err = call_learner(fn, x.copy(), y.copy(), p)
        if err is not None:
            return err
        w, err = _as_float(value)
        if err is not None:
            return err
        ref = wasserstein_2d(x, y, p=p)
        if _close(w, ref, rtol, atol):
            continue
        w1, w2 = wasserstein_2d(x, y, p=1), wasserstein_2d(x, y, p=2)
        candidates = [
            (ref**p, f"You forgot the root: ot.emd2 returns the optimal cost, which is W_p ** p. "
                     f"Take result ** (1 / p) (here p = {p})."),
            (w2**2, "You returned W2 squared: ot.dist(x, y) uses the squared Euclidean cost by default, and "
                    "ot.emd2 returns the optimal cost without a root. For W_p use "
                    "ot.dist(x, y, metric='euclidean') ** p, then take the 1/p-th root of ot.emd2's result."),
            (w2, "You returned W2 (squared Euclidean cost, then the square root): ot.dist's default cost is "
                 "the squared distance. Use metric='euclidean' and raise it to the power p."),
            (w1, f"You returned W1: for p = {p} the cost matrix is ||x_i - y_j|| ** p, not the plain distance."),
            (w1 ** (1.0 / p), "You took the 1/p-th root of W1: raise the Euclidean cost matrix to the power p "
                              "before calling ot.emd2."),
        ]
        return _diagnose(w, ref, candidates, rtol, atol, f"case n={n}, m={m}, p={p}", f"W_{p}")
    return passed(f"Correct: your W_p matches the exact solver on {len(_W_CASES)} cases (p = 1, 2, 3).")


# ----------------------------------------------------------------------------- sliced W by hand

_SW_CASES = ((12, 3, 2, 0), (20, 7, 1, 1), (15, 5, 3, 2), (25, 10, 2, 3))  # (n, K directions, p, seed)


def _directions(k: int, seed: int) -> np.ndarray:
    """K unit vectors in the plane, one per row, shape (K, 2)."""
    theta = np.random.default_rng(1000 + seed).normal(size=(k, 2))
    return theta / np.linalg.norm(theta, axis=1, keepdims=True)


def _sliced_reference(x, y, directions, p) -> float:
    """POT's sliced W_p with the given directions (``projections`` is (d, K): one column per direction)."""
    import ot

    return float(ot.sliced_wasserstein_distance(x, y, p=p, projections=directions.T))


def check_sliced_w(fn) -> CheckResult:
    """Check ``fn(x, y, directions, p) -> float``: the sliced W_p along the given directions,

        SW_p = ( (1/K) sum_k W_p^p(x theta_k, y theta_k) )^(1/p),

    for two clouds ``x`` and ``y`` of the same size, shape (n, 2), uniform weights, and
    ``directions`` of shape (K, 2), one unit vector theta_k per row. The reference is POT's
    ``ot.sliced_wasserstein_distance(x, y, p=p, projections=directions.T)``.
    """
    from wgan_lessons.transport import wasserstein_2d

    broken = forbidden_use(fn, (), "sliced W by hand: do not call a library's sliced distance "
                           "(POT's ot.sliced_wasserstein_distance, or the course's transport.sliced_wasserstein)",
                           names=("sliced_wasserstein_distance", "max_sliced_wasserstein_distance",
                                  "sliced_wasserstein"))
    if broken is not None:
        return broken
    rtol, atol = 1e-6, 1e-9
    below = True
    for n, k, p, seed in _SW_CASES:
        x, y = _clouds(n, n, 2, seed)
        directions = _directions(k, seed)
        case = f"case n={n}, K={k} directions, p={p}"
        value, err = call_learner(fn, x.copy(), y.copy(), directions.copy(), p)
        if err is not None:
            return err
        sw, err = _as_float(value)
        if err is not None:
            return err
        ref = _sliced_reference(x, y, directions, p)
        exact = wasserstein_2d(x, y, p=p)
        below = below and ref <= exact + 1e-12
        if _close(sw, ref, rtol, atol):
            continue
        px, py = x @ directions.T, y @ directions.T  # (n, K): column k holds the projections on theta_k
        sx, sy = np.sort(px, axis=0), np.sort(py, axis=0)
        wpp = np.mean(np.abs(sx - sy) ** p, axis=0)  # (K,) 1-D W_p^p along each direction
        w1k = np.mean(np.abs(sx - sy), axis=0)  # (K,) 1-D W1 along each direction
        unsorted = np.mean(np.abs(px - py) ** p, axis=0)
        # np.sort's default axis is the last one: sorting each point's K projections, not each direction's n
        wrong_axis = np.mean(np.abs(np.sort(px, axis=-1) - np.sort(py, axis=-1)) ** p)
        root = 1.0 / p
        mean_of_roots = (
            "You averaged W_p over the directions (the root taken on each direction, before averaging). "
            "Sliced W averages W_p^p over the directions and takes the 1/p-th root once, at the end; the "
            "two orders agree only for p = 1. (wgan_lessons.transport.wasserstein_1d returns W_p, "
            "ot.wasserstein_1d returns W_p^p.)")
        candidates = [
            (np.mean(wpp ** root), mean_of_roots),
            (np.mean(wpp), f"You returned SW_p^p, the average of W_p^p without the final root: take its "
                           f"1/p-th root (here p = {p})."),
            (np.mean(wpp ** root) ** root, "You took the 1/p-th root twice: once on each direction and again "
                                           "at the end. Average W_p^p over the directions, then take one root."),
            (np.mean(unsorted) ** root,
             "You paired the projections in the order of the points. In 1-D the optimal plan matches the "
             "k-th smallest with the k-th smallest (lesson 02): sort each projected cloud first, along the "
             "points (axis 0 of x @ directions.T)."),
            (wrong_axis ** root,
             "You sorted along the wrong axis: np.sort's default is the last axis, so np.sort(x @ directions.T) "
             "sorts each point's K projections. Sort each direction's n projections: np.sort(..., axis=0)."),
            (np.sum(wpp) ** root, "You summed W_p^p over the directions; average it (divide by the number "
                                  "of directions K), then take the root."),
            (np.max(wpp) ** root, "You took the largest W_p over the directions (that is the max-sliced "
                                  "distance); sliced W averages W_p^p over all of them."),
            (exact, "You returned the exact W_p of the two clouds (ot.emd2), not the sliced distance: project "
                    "both clouds on each direction, solve each 1-D problem by sorting, then average."),
            (np.mean(w1k) ** root, f"You computed the 1-D W1 on each direction whatever p is: raise the sorted "
                                   f"gaps to the power p (ot.wasserstein_1d's p defaults to 1: pass p={p})."),
            (np.mean(w1k), f"You computed the average 1-D W1 whatever p is: for p = {p} average "
                           f"|gap|^p over the points, then the directions, then take the 1/p-th root."),
        ]
        for cand, message in candidates:
            if _close(sw, cand, rtol, atol) and not _close(cand, ref, rtol, atol):
                return failed(message, f"{case}: your value {sw:.6g}, expected SW_{p} = {ref:.6g}")
        # Does the value depend on the directions at all? Ask again with other directions.
        other = _directions(k, seed + 100)
        value2, err = call_learner(fn, x.copy(), y.copy(), other.copy(), p)
        if err is None:
            sw2, err2 = _as_float(value2)
            if err2 is None and _close(sw2, sw, rtol, atol) and not _close(
                    _sliced_reference(x, y, other, p), ref, rtol, atol):
                return failed("Your value does not change when the directions do: use the directions passed "
                              "in (row k of `directions` is the unit vector theta_k; x @ directions.T projects "
                              "every point on every direction), not directions of your own.",
                              f"{case}: your value {sw:.6g} for both sets of directions, expected SW_{p} = {ref:.6g}")
        return failed(f"Your value does not match the reference SW_{p}.",
                      f"{case}: your value {sw:.6g}, expected SW_{p} = {ref:.6g}")
    return passed(f"Correct: your sliced W_p matches POT's on {len(_SW_CASES)} cases (p = 1, 2, 3)"
                  + (", and on each it is at most the exact W_p of the same clouds: a projection never "
                     "lengthens a distance." if below else "."))


# ----------------------------------------------------------------------------- parallel lines

_THETAS = (0.5, -1.5, 0.0, 2.0, -0.1)
_KEYS = ("W", "JS", "KL", "TV")


def check_parallel_lines(fn) -> CheckResult:
    """Check ``fn(theta) -> dict`` with keys ``"W", "JS", "KL", "TV"``: the closed forms of the
    WGAN paper's Example 1 (P0 = law of (0, Z), P_theta = law of (theta, Z), Z ~ U[0, 1]),
    JS with the 1/2 weights and the natural log, KL = KL(P_theta || P0)."""
    from wgan_lessons.transport import parallel_lines_closed_form

    for theta in _THETAS:
        value, err = call_learner(fn, theta)
        if err is not None:
            return err
        case = f"theta = {theta}"
        if not isinstance(value, dict):
            return failed(f"Your function returned a {type(value).__name__}; return a dict with keys "
                          "'W', 'JS', 'KL', 'TV'.", case)
        missing = [k for k in _KEYS if k not in value]
        if missing:
            return failed(f"Your dict has no key(s) {missing}; return all four: 'W', 'JS', 'KL', 'TV'.", case)
        ref = parallel_lines_closed_form(theta)
        for key in _KEYS:
            try:
                import torch

                v = value[key]
                if isinstance(v, (str, bytes)):
                    raise TypeError(key)
                v = float(v.detach()) if isinstance(v, torch.Tensor) else float(np.asarray(v, dtype=np.float64))
            except (TypeError, ValueError):
                return failed(f"{key} is a {type(value[key]).__name__}; return a number (math.inf for infinity).", case)
            r = ref[key]
            if (math.isinf(r) and v == r) or (math.isfinite(r) and math.isfinite(v) and _close(v, r, 1e-6, 1e-9)):
                continue
            detail = f"{case}: your {key} = {v:.6g}, expected {r:.6g}"
            if theta == 0.0:
                return failed(f"At theta = 0 the two distributions are the same, so every one of W, JS, KL, TV "
                              f"is 0; your {key} is {v:.6g}.", detail)
            if key == "W":
                if _close(v, theta, 1e-6, 1e-9):
                    return failed("W is a distance, never negative: W = |theta|, not theta.", detail)
                if _close(v, theta**2, 1e-6, 1e-9):
                    return failed("theta^2 is W2 squared. W1 = |theta|: every point moves horizontally by |theta|.",
                                  detail)
                return failed("W(P0, P_theta) = |theta|: the best plan moves (0, z) to (theta, z).", detail)
            if key == "JS":
                if _close(v, 1.0, 1e-6, 1e-9):
                    return failed("1 is JS in bits (log base 2). With the natural log, JS = log 2 = 0.693 for "
                                  "disjoint supports.", detail)
                if _close(v, 2 * math.log(2), 1e-6, 1e-9):
                    return failed("2 log 2 is JS without the 1/2 weights; the paper's JS is "
                                  "KL(P0||M)/2 + KL(P_theta||M)/2 = log 2.", detail)
                return failed("For theta != 0 the lines are disjoint, so JS = log 2 (natural log), "
                              "whatever the size of theta.", detail)
            if key == "KL":
                return failed("For theta != 0, P_theta puts all its mass where P0 has none, so "
                              "KL(P_theta || P0) = +inf (return math.inf).", detail)
            if _close(v, abs(theta), 1e-6, 1e-9):
                return failed("TV does not grow with the distance: the supports are disjoint, so TV = 1 "
                              "for every theta != 0.", detail)
            return failed("For theta != 0 the supports are disjoint, so TV = 1.", detail)
    return passed("Correct: W = |theta|, JS = log 2, KL = inf and TV = 1 for theta != 0, and all four are 0 "
                  "at theta = 0.")
