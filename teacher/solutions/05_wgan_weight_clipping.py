"""Solutions to the exercises of notebooks/05_wgan_weight_clipping.ipynb.

One function per exercise, with the stub's name and signature. `python -m wgan_lessons teacher
solutions` puts each body (everything after the docstring) in place of the stub's
`# YOUR CODE HERE` / `raise NotImplementedError`; the notebook keeps its own `def` line and
docstring. A body runs in the notebook's namespace, so it may use only what the notebook has
imported before the exercise cell (here `torch`); the import below only makes this file
importable on its own.
"""

import torch


def critic_loss(critic_real, critic_fake):
    # The critic maximises E_r[f] - E_g[f] (its W estimate), so it minimises the negative: E_g[f] - E_r[f].
    return critic_fake.mean() - critic_real.mean()


def critic_step(critic, optimizer, real, fake, clip_value):
    optimizer.zero_grad()                                  # drop gradients left over from before
    loss = critic(fake).mean() - critic(real).mean()       # L = E_g[f] - E_r[f]
    loss.backward()
    optimizer.step()
    with torch.no_grad():                                  # THEN clip every parameter, weights and biases
        for p in critic.parameters():
            p.clamp_(-clip_value, clip_value)
    return loss.item()
