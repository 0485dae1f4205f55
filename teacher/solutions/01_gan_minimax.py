"""Solutions to the exercises of notebooks/01_gan_minimax.ipynb.

One function per exercise, with the stub's name and signature. `python -m wgan_lessons teacher
solutions` puts each body (everything after the docstring) in place of the stub's
`# YOUR CODE HERE` / `raise NotImplementedError`; the notebook keeps its own `def` line and
docstring. A body runs in the notebook's namespace, so it may use only what the notebook has
imported before the exercise cell (here `torch`, and `F` in the cell of the two losses); the
imports below only make this file importable on its own.
"""

import torch
import torch.nn.functional as F


def find_optimal_discriminator(p_r, p_g):
    # Maximise V(D) = sum_x p_r(x) log D(x) + p_g(x) log(1 - D(x)) pointwise by gradient ascent,
    # with D = sigmoid(l): log D = logsigmoid(l), log(1 - D) = logsigmoid(-l), stable for any l.
    p_r = torch.as_tensor(p_r, dtype=torch.float64)
    p_g = torch.as_tensor(p_g, dtype=torch.float64)
    logits = torch.zeros_like(p_r, requires_grad=True)  # start from D = 1/2 everywhere
    opt = torch.optim.Adam([logits], lr=0.1)
    for _ in range(500):
        opt.zero_grad()
        log_d = torch.nn.functional.logsigmoid(logits)  # log D
        log_1m_d = torch.nn.functional.logsigmoid(-logits)  # log(1 - D)
        value = (p_r * log_d + p_g * log_1m_d).sum()
        (-value).backward()  # ascent on V = descent on -V
        opt.step()
    return torch.sigmoid(logits).detach().numpy()  # close to D* = p_r / (p_r + p_g)


def discriminator_loss(logits_real, logits_fake):
    # -E_r[log sigmoid(l)] - E_g[log(1 - sigmoid(l~))], with -log sigmoid(l) = softplus(-l)
    # and -log(1 - sigmoid(l)) = softplus(l): finite even for |logit| = 40.
    return F.softplus(-logits_real).mean() + F.softplus(logits_fake).mean()


def generator_loss(logits_fake):
    # The non-saturating loss -E_g[log D(G(z))] = E_g[softplus(-l~)].
    return F.softplus(-logits_fake).mean()
