"""wgan_lessons: the tested engine behind an interactive course on Wasserstein GANs.

One module per concept:

- :mod:`wgan_lessons.data`       toy 2-D/1-D distributions, parallel lines, image data
- :mod:`wgan_lessons.nets`       MLP and DCGAN-style generators and critics
- :mod:`wgan_lessons.losses`     GAN / WGAN losses, the gradient penalty, weight clipping
- :mod:`wgan_lessons.train`      ``TrainConfig`` and the one training loop (``Trainer``/``train``)
- :mod:`wgan_lessons.transport`  exact Wasserstein distances and divergences (POT)
- :mod:`wgan_lessons.metrics`    mode coverage and exact W1 of generated samples
- :mod:`wgan_lessons.plots`      the pictures the lessons draw
- :mod:`wgan_lessons.settings`   fast mode, device choice, seeding

Importing the package has no side effects: nothing is downloaded, seeded or plotted.
"""

__version__ = "0.1.0"
