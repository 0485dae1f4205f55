"""Solutions to the exercises of notebooks/06_wgan_gp.ipynb.

One function per exercise, with the stub's name and signature. `python -m wgan_lessons teacher
solutions` puts each body (everything after the docstring) in place of the stub's
`# YOUR CODE HERE` / `raise NotImplementedError`; the notebook keeps its own `def` line and
docstring. A body runs in the notebook's namespace, so it may use only what the notebook has
imported before the exercise cell (here `torch`); the import below only makes this file
importable on its own.
"""

import torch


def gradient_penalty(critic, real, fake, lambda_gp):
    # One eps per sample, shaped (B, 1, ..., 1) so that it broadcasts over every other dimension.
    eps = torch.rand((real.shape[0],) + (1,) * (real.ndim - 1), dtype=real.dtype, device=real.device)
    x_hat = (eps * real + (1 - eps) * fake).detach().requires_grad_(True)
    # create_graph=True: the norm stays a function of the critic's weights, so the penalty trains it.
    (grad,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    norms = grad.flatten(start_dim=1).norm(2, dim=1)  # one norm per sample, over every non-batch dimension
    return lambda_gp * ((norms - 1) ** 2).mean()


def train_step(G, D, opt_g, opt_d, real_batches, z_dim, lambda_gp, n_critic):
    for _ in range(n_critic):
        real = next(real_batches)  # a fresh real batch for every critic step
        batch_size = real.shape[0]
        z = torch.randn(batch_size, z_dim)
        with torch.no_grad():  # the critic's step must not reach the generator
            fake = G(z)
        eps = torch.rand((batch_size,) + (1,) * (real.ndim - 1))  # one eps per sample, not per pixel
        x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
        grad = torch.autograd.grad(D(x_hat).sum(), x_hat, create_graph=True)[0]  # keep the graph
        penalty = lambda_gp * ((grad.flatten(start_dim=1).norm(2, dim=1) - 1) ** 2).mean()  # per-sample norm
        loss_d = D(fake).mean() - D(real).mean() + penalty  # fake minus real: the critic's loss
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()

    # then one generator step, after the critic loop
    z = torch.randn(batch_size, z_dim)
    loss_g = -D(G(z)).mean()
    opt_g.zero_grad()
    loss_g.backward()
    opt_g.step()
    return loss_d.item(), loss_g.item()
