import numpy as np
import torch
import torch.nn.functional as F

from wgan_lessons.exercises import check_discriminator_loss, check_generator_loss, check_optimal_discriminator


def stub(*args):
    raise NotImplementedError


# ---------------------------------------------------------------- discriminator loss
def test_d_loss_accepts_reference_and_alternatives():
    assert check_discriminator_loss(lambda r, f: F.softplus(-r).mean() + F.softplus(f).mean()).passed
    bce = lambda r, f: (F.binary_cross_entropy_with_logits(r, torch.ones_like(r))
                        + F.binary_cross_entropy_with_logits(f, torch.zeros_like(f)))
    assert check_discriminator_loss(bce).passed
    assert check_discriminator_loss(lambda r, f: -(F.logsigmoid(r).mean() + F.logsigmoid(-f).mean())).passed


def test_d_loss_names_each_mistake():
    cases = {
        "sign is flipped": lambda r, f: -(F.softplus(-r).mean() + F.softplus(f).mean()),
        "swapped": lambda r, f: F.softplus(-f).mean() + F.softplus(r).mean(),
        "sigmoid is applied twice": lambda r, f: (F.softplus(-torch.sigmoid(r)).mean()
                                                  + F.softplus(torch.sigmoid(f)).mean()),
        "as probabilities": lambda r, f: -(torch.log(r).mean() + torch.log(1 - f).mean()),
        "summed": lambda r, f: F.softplus(-r).sum() + F.softplus(f).sum(),
        "confident": lambda r, f: -(torch.log(torch.sigmoid(r)).mean() + torch.log(1 - torch.sigmoid(f)).mean()),
        "shape": lambda r, f: F.softplus(-r) + F.softplus(f),
    }
    for words, fn in cases.items():
        res = check_discriminator_loss(fn)
        assert not res.passed and words in str(res), (words, str(res))


def test_not_implemented_and_crash_are_friendly():
    res = check_discriminator_loss(stub)
    assert not res.passed and "Not implemented yet" in res.message
    res = check_generator_loss(lambda f: f.nonexistent())
    assert not res.passed and "AttributeError" in str(res)
    assert "<div" in res._repr_html_()


# ---------------------------------------------------------------- generator loss
def test_g_loss():
    assert check_generator_loss(lambda f: F.softplus(-f).mean()).passed
    assert check_generator_loss(lambda f: -F.logsigmoid(f).mean()).passed
    assert "saturating" in str(check_generator_loss(lambda f: -F.softplus(f).mean()))
    assert "sign" in str(check_generator_loss(lambda f: -F.softplus(-f).mean()))
    assert "summed" in str(check_generator_loss(lambda f: F.softplus(-f).sum()))
    assert "confident" in str(check_generator_loss(lambda f: -torch.log(torch.sigmoid(f)).mean()))


# ---------------------------------------------------------------- optimal discriminator
def test_optimal_discriminator_numerical_and_mistakes():
    def numerical(pr, pg):  # gradient ascent on per-point logits
        pr, pg = torch.tensor(pr), torch.tensor(pg)
        logit = torch.zeros_like(pr, requires_grad=True)
        opt = torch.optim.Adam([logit], lr=0.1)
        for _ in range(500):
            v = (pr * F.logsigmoid(logit) + pg * F.logsigmoid(-logit)).sum()
            opt.zero_grad()
            (-v).backward()
            opt.step()
        return torch.sigmoid(logit).detach().numpy()

    assert check_optimal_discriminator(numerical).passed
    assert "numerically" in str(check_optimal_discriminator(lambda pr, pg: pr / (pr + pg)))  # the rule (issue 13)
    assert "swapped" in str(check_optimal_discriminator(lambda pr, pg: pg / (pr + pg)))
    assert "outside [0, 1]" in str(check_optimal_discriminator(lambda pr, pg: np.log(pr / pg)))
    assert "shape" in str(check_optimal_discriminator(lambda pr, pg: 0.5))
    assert not check_optimal_discriminator(lambda pr, pg: np.full_like(pr, 0.5)).passed


def test_optimal_discriminator_with_adams_default_learning_rate_gets_the_lesson_hint():
    """Lesson 01, Exercise 1 says: Adam at its default lr 1e-3 is still 0.17 off after 2000 steps (the tail
    logits need |log(p_r/p_g)| ~ 7), lr 0.1 and 500 steps pass. The checker's hint says the same."""
    def adam(lr, steps):
        def fn(pr, pg):
            pr, pg = torch.tensor(pr), torch.tensor(pg)
            logit = torch.zeros_like(pr, requires_grad=True)
            opt = torch.optim.Adam([logit], lr=lr)
            for _ in range(steps):
                v = (pr * F.logsigmoid(logit) + pg * F.logsigmoid(-logit)).sum()
                opt.zero_grad()
                (-v).backward()
                opt.step()
            return torch.sigmoid(logit).detach().numpy()
        return fn

    slow = check_optimal_discriminator(adam(1e-3, 2000))
    assert not slow.passed
    msg = str(slow)
    assert "largest error is 0.169" in msg and "7.1" in msg and "lr = 0.1" in msg, msg
    assert check_optimal_discriminator(adam(0.1, 500)).passed


def test_optimal_discriminator_rule_numerically_is_enforced():
    """Issue 13: the closed form, however written, is named as breaking the exercise's rule."""
    for fn in (lambda pr, pg: pr / (pr + pg), lambda pr, pg: 1.0 / (1.0 + pg / pr),
               lambda pr, pg: torch.sigmoid(torch.log(torch.tensor(pr) / torch.tensor(pg))).numpy()):
        r = check_optimal_discriminator(fn)
        assert not r.passed and "numerically" in r.message, r


def test_optimal_discriminator_accepts_newtons_method():
    """A numerical method that converges to machine precision (Newton on each logit) is not the closed form."""
    def newton(pr, pg):
        logit = np.zeros_like(pr)
        for _ in range(50):  # dV/dl = p_r (1 - s) - p_g s, d2V/dl2 = -(p_r + p_g) s (1 - s)
            s = 1 / (1 + np.exp(-logit))
            logit = logit + (pr * (1 - s) - pg * s) / np.maximum((pr + pg) * s * (1 - s), 1e-300)
        return 1 / (1 + np.exp(-logit))

    r = check_optimal_discriminator(newton)
    assert r.passed, r


def test_generator_loss_naive_log_sigmoid_and_the_half_are_named():
    """The fresh reader's finds: the naive -log(sigmoid(l)).mean() passed (-40 does not underflow in float32),
    and a loss scaled by 1/2 got only "wrong value"."""
    naive = check_generator_loss(lambda l: -torch.log(torch.sigmoid(l)).mean())
    assert not naive.passed and "-200" in naive.message, naive
    half = check_generator_loss(lambda l: 0.5 * F.softplus(-l).mean())
    assert not half.passed and "half" in half.message, half
    assert check_generator_loss(lambda l: F.softplus(-l).mean()).passed
