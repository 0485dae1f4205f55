"""Exercise checkers, one module per lesson, all re-exported here:

    from wgan_lessons.exercises import check_discriminator_loss
    check_discriminator_loss(my_discriminator_loss)

See :mod:`wgan_lessons.exercises.base` for the convention.
"""

from wgan_lessons.exercises.base import CheckResult  # noqa: F401
from wgan_lessons.exercises.lesson01 import (  # noqa: F401
    check_discriminator_loss,
    check_generator_loss,
    check_optimal_discriminator,
)
from wgan_lessons.exercises.wgan import check_critic_loss, check_gradient_penalty  # noqa: F401
from wgan_lessons.exercises.lesson02 import check_w1_from_cdfs, check_w1_sorted  # noqa: F401
from wgan_lessons.exercises.lesson03 import (  # noqa: F401
    check_cost_matrix,
    check_parallel_lines,
    check_sliced_w,
    check_wasserstein_pot,
)
from wgan_lessons.exercises.lesson04 import check_c_transform  # noqa: F401
from wgan_lessons.exercises.lesson06 import check_wgan_gp_step  # noqa: F401
from wgan_lessons.exercises.lesson05 import check_critic_step  # noqa: F401
