"""Exercise checkers, one module per lesson, all re-exported here:

    from wgan_lessons.exercises import check_critic_loss
    check_critic_loss(my_critic_loss)

See :mod:`wgan_lessons.exercises.base` for the convention.
"""

from wgan_lessons.exercises.base import CheckResult  # noqa: F401
