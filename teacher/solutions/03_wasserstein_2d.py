"""Solutions to the exercises of notebooks/03_wasserstein_2d.ipynb.

One function per exercise, with the stub's name and signature. `python -m wgan_lessons teacher
solutions` puts each body (everything after the docstring) in place of the stub's
`# YOUR CODE HERE` / `raise NotImplementedError`; the notebook keeps its own `def` line and
docstring. A body runs in the notebook's namespace, so it may use only what the notebook has
imported before the exercise cell (here `np` and `ot`); the imports below only make this file
importable on its own.
"""

import numpy as np
import ot


def cost_matrix(x, y, p):
    # ot.dist's default metric is the *squared* Euclidean distance: ask for the plain one.
    return ot.dist(x, y, metric="euclidean") ** p


def wasserstein_pot(x, y, p):
    # Empty weight lists mean uniform weights; ot.emd2 returns the optimal cost, W_p ** p.
    cost = ot.dist(x, y, metric="euclidean") ** p
    return float(ot.emd2([], [], cost)) ** (1 / p)


def parallel_lines_divergences(theta):
    # WGAN paper, Example 1: P_0 = law of (0, Z), P_theta = law of (theta, Z), Z ~ U[0, 1].
    # Every point moves by |theta|; for theta != 0 the supports are disjoint.
    if theta == 0:
        return {"W": 0.0, "JS": 0.0, "KL": 0.0, "TV": 0.0}
    return {"W": abs(theta), "JS": float(np.log(2)), "KL": np.inf, "TV": 1.0}
