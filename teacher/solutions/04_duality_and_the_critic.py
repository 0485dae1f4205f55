"""Solutions to the exercises of notebooks/04_duality_and_the_critic.ipynb.

One function per exercise, with the stub's name and signature. `python -m wgan_lessons teacher
solutions` puts each body (everything after the docstring) in place of the stub's
`# YOUR CODE HERE` / `raise NotImplementedError`; the notebook keeps its own `def` line and
docstring. A body runs in the notebook's namespace, so it may use only what the notebook has
imported before the exercise cell (here `np` and `ot`); the imports below only make this file
importable on its own.
"""

import numpy as np
import ot


def critic_loss(critic_real, critic_fake):
    # The critic maximises E_r[f] - E_g[f], so it minimises the negative: E_g[f] - E_r[f].
    # -loss is the W1 estimate; means, not sums, because E[...] is an average.
    return critic_fake.mean() - critic_real.mean()


def c_transform_by_hand(z, y, v):
    # (k, m) matrix of Euclidean distances ||z_i - y_j|| (metric='euclidean': ot.dist's default is squared).
    dist = ot.dist(np.asarray(z, dtype=float), np.asarray(y, dtype=float), metric="euclidean")
    # Subtract v_j from column j, then the minimum over j (axis 1): one value per point z.
    return (dist - np.asarray(v, dtype=float)[None, :]).min(axis=1)
