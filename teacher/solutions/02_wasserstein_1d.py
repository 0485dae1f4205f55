"""Solutions to the exercises of notebooks/02_wasserstein_1d.ipynb.

One function per exercise, with the stub's name and signature. `python -m wgan_lessons teacher
solutions` puts each body (everything after the docstring) in place of the stub's
`# YOUR CODE HERE` / `raise NotImplementedError`; the notebook keeps its own `def` line and
docstring. A body runs in the notebook's namespace, so it may use only what the notebook has
imported before the exercise cell (here `np`); the import below only makes this file importable
on its own.
"""

import numpy as np


def w1_sorted(u, v):
    # In 1-D the optimal plan matches the k-th smallest u with the k-th smallest v;
    # each sample carries mass 1/n, so W1 is the mean absolute gap of the sorted samples.
    return float(np.mean(np.abs(np.sort(u) - np.sort(v))))


def w1_from_cdfs(p, q, grid):
    # W1 = int |F_p(x) - F_q(x)| dx, as a Riemann sum on the uniform grid.
    dx = grid[1] - grid[0]
    return float(np.sum(np.abs(p.cdf(grid) - q.cdf(grid))) * dx)
