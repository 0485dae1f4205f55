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


def sliced_w(x, y, directions, p):
    # Column k of x @ directions.T holds every point's projection on theta_k: (n, K).
    proj_x = np.sort(x @ directions.T, axis=0)
    proj_y = np.sort(y @ directions.T, axis=0)
    # In 1-D the optimal plan pairs sorted with sorted (lesson 02), each point of mass 1/n:
    # W_p^p along direction k is the mean of |gap|^p down column k.
    wpp = np.mean(np.abs(proj_x - proj_y) ** p, axis=0)  # (K,)
    # Average W_p^p over the directions, then one 1/p-th root.
    return float(np.mean(wpp) ** (1 / p))
