"""Lesson 04 exercises: Kantorovich-Rubinstein duality and the critic.

- the critic loss is checked by :func:`wgan_lessons.exercises.wgan.check_critic_loss`;
- :func:`check_c_transform`: one potential from POT's two, f(z) = min_j ( ||z - y_j|| - v_j ), the step
  that turns the dual linear program of W1 into the supremum over 1-Lipschitz functions.

The checker runs the learner's function on seeded cases (random potentials, and POT's optimal v, on
which f(y_j) = -v_j must hold), never raises, and names the mistake a wrong value matches.
"""

from __future__ import annotations

import numpy as np

from wgan_lessons.exercises.base import CheckResult, call_learner, failed, forbidden_use, learner_array, passed

__all__ = ["check_c_transform"]

RULE = ("write the c-transform yourself with numpy, torch or ot.dist: do not call the course's "
        "wgan_lessons.duality (c_transform, or a DualPotential's f)")


def _case(k: int, m: int, seed: int, optimal: bool):
    """Points z (k, 2), y (m, 2) and a potential v (m,): random, or POT's optimal v for W1 between
    a cloud x and y (then the z include the y, where f(y_j) = -v_j)."""
    rng = np.random.default_rng(seed)
    y = rng.normal(0.0, 1.0, (m, 2)) + np.array([1.0, 0.0])
    if optimal:
        import ot

        x = rng.normal(0.0, 0.7, (m + 3, 2))
        a, b = np.full(len(x), 1.0 / len(x)), np.full(m, 1.0 / m)
        _, log = ot.emd(a, b, ot.dist(x, y, metric="euclidean"), log=True)
        v = np.asarray(log["v"], dtype=float)
        z = np.concatenate([y, rng.normal(0.0, 1.5, (k - m, 2))]) if k > m else y.copy()
    else:
        v = rng.normal(0.0, 0.8, m)
        z = rng.normal(0.0, 1.5, (k, 2))
    return z, y, v


_CASES = ((9, 6, 0, False), (12, 12, 1, False), (20, 8, 2, True), (15, 15, 3, True))  # (k, m, seed, optimal)


def check_c_transform(fn) -> CheckResult:
    """Check ``fn(z, y, v) -> f``: for points z (k, 2), y (m, 2) and a potential v (m,), the (k,) values

        f(z_i) = min_j ( ||z_i - y_j||_2 - v_j ),

    the c-transform of v for the cost ||.||_2. The rule: no call into ``wgan_lessons.duality``.
    """
    from scipy.spatial.distance import cdist

    broken = forbidden_use(fn, ("wgan_lessons",), RULE, names=("c_transform",))
    if broken is not None:
        return broken
    for k, m, seed, optimal in _CASES:
        z, y, v = _case(k, m, seed, optimal)
        case = f"case k={k} points z, m={m} points y" + (" (v: POT's optimal potential)" if optimal else "")
        value, err = call_learner(fn, z.copy(), y.copy(), v.copy())
        if err is not None:
            return err
        f, err = learner_array(value, "an array of k values, one per point z")
        if err is not None:
            return err
        d = cdist(z, y)  # (k, m)
        ref = (d - v[None, :]).min(axis=1)  # (k,)
        if f.shape != ref.shape:
            if f.shape == (m,) and m != k:
                return failed(f"Your result has shape {f.shape}, one value per point y_j; expected one per point z, "
                              f"shape ({k},).", "Take the minimum over j, the axis of the y's: for the (k, m) "
                              "matrix of ||z_i - y_j|| - v_j that is axis=1.", case)
            if f.shape == (k, m):
                return failed(f"Your result has shape {f.shape}: the whole (k, m) matrix of ||z_i - y_j|| - v_j. "
                              "Take its minimum over j (axis=1), one value per point z.", case)
            if f.size == 1:
                return failed("Your result is one number: you took the minimum over the whole matrix. Take it "
                              "over j only (axis=1), one value per point z.", case)
            return failed(f"Your result has shape {f.shape}; expected ({k},), one value per point z.", case)
        if not np.isfinite(f).all():
            return failed("Your result contains NaN or inf.", case)
        if np.allclose(f, ref, rtol=1e-6, atol=1e-8):
            continue
        sq = d ** 2
        candidates = [
            ((d - v).max(axis=1), "You took the maximum over j. The c-transform is the minimum: the dual "
                                  "constraint f(z) + v_j <= ||z - y_j|| must hold for every j, so f(z) can be at "
                                  "most the smallest of ||z - y_j|| - v_j."),
            ((d + v).min(axis=1), "The sign of v is flipped: it is ||z - y_j|| - v_j (the constraint u_i + v_j <= "
                                  "C_ij gives u_i <= C_ij - v_j)."),
            (-(d - v).min(axis=1), "You returned -f (a minus sign too many, or max_j (v_j - ||z - y_j||), which is "
                                   "the same): f is the minimum of ||z - y_j|| - v_j itself."),
            ((sq - v).min(axis=1), "You used the squared distance ||z - y_j||^2 (ot.dist's default, "
                                   "metric='sqeuclidean'). W1's cost is the distance itself: "
                                   "metric='euclidean', or np.linalg.norm of the differences."),
            (d.min(axis=1), "You left out v: that is the distance to the nearest y_j. Subtract v_j before "
                            "taking the minimum."),
            (d.min(axis=1) - v.max(), "You took the minimum of the distances and subtracted v separately; "
                                      "subtract v_j inside, then take the minimum over j."),
            ((cdist(z, y, "cityblock") - v).min(axis=1), "You used the Manhattan (L1) distance; the cost of this "
                                                         "lesson is the Euclidean norm ||z - y_j||_2."),
            (np.argmin(d - v, axis=1).astype(float), "You returned the index of the minimum (argmin), not the "
                                                     "minimum itself."),
        ]
        for cand, message in candidates:
            if cand.shape == f.shape and np.allclose(f, cand, rtol=1e-6, atol=1e-8) \
                    and not np.allclose(cand, ref, rtol=1e-6, atol=1e-8):
                return failed(message, case)
        worst = int(np.argmax(np.abs(f - ref)))
        return failed("Your values differ from min_j ( ||z - y_j|| - v_j ).",
                      f"{case}: at z_{worst} you have {f[worst]:.6g}, expected {ref[worst]:.6g}")
    return passed(f"Correct on {len(_CASES)} cases: f(z) = min_j ( ||z - y_j|| - v_j ), a 1-Lipschitz function, "
                  "and with POT's optimal v it gives f(y_j) = -v_j on the support.")
