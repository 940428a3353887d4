"""minigrad.optim.lr_scheduler: learning-rate sequences against hand-computed values and
closed forms, OneCycleLR phases and momentum, state dicts, warnings and errors."""

from __future__ import annotations

import math
import pickle
import warnings

import numpy as np
import pytest

import minigrad as mg
from minigrad.optim import SGD, Adam, Optimizer
from minigrad.optim.lr_scheduler import (
    CosineAnnealingLR,
    ExponentialLR,
    LambdaLR,
    LRScheduler,
    MultiStepLR,
    OneCycleLR,
    StepLR,
)


def make_sgd(lr=0.1, groups=1, **kwargs):
    params = [mg.tensor([1.0], requires_grad=True) for _ in range(groups)]
    return SGD([{"params": [p]} for p in params], lr=lr, **kwargs)


def lrs(scheduler, n, group=0):
    """The rate in force for epochs 0..n-1, calling optimizer.step() then scheduler.step()."""
    out = []
    for _ in range(n):
        out.append(scheduler.optimizer.param_groups[group]["lr"])
        scheduler.optimizer.step()
        scheduler.step()
    return out


def test_base_attributes_and_initial_step():
    opt = make_sgd(lr=0.3, groups=2)
    opt.param_groups[1]["lr"] = 0.6
    s = StepLR(opt, step_size=2)
    assert s.last_epoch == 0 and s._step_count == 1
    assert s.base_lrs == [0.3, 0.6] and s.get_last_lr() == [0.3, 0.6]
    assert [g["initial_lr"] for g in opt.param_groups] == [0.3, 0.6]
    assert isinstance(s, LRScheduler)


def test_step_lr_by_hand():
    s = StepLR(make_sgd(lr=0.05), step_size=3, gamma=0.1)
    expected = [0.05] * 3 + [0.005] * 3 + [0.0005] * 3 + [0.00005]
    np.testing.assert_allclose(lrs(s, 10), expected, rtol=1e-12)


def test_multistep_lr_by_hand_with_repeated_milestone():
    s = MultiStepLR(make_sgd(lr=1.0), milestones=[5, 2, 5], gamma=0.5)
    np.testing.assert_allclose(lrs(s, 8), [1, 1, 0.5, 0.5, 0.5, 0.125, 0.125, 0.125])


def test_exponential_and_lambda_lr():
    s = ExponentialLR(make_sgd(lr=2.0), gamma=0.9)
    np.testing.assert_allclose(lrs(s, 6), [2.0 * 0.9**t for t in range(6)], rtol=1e-12)
    opt = make_sgd(lr=1.0, groups=2)
    s = LambdaLR(opt, [lambda e: 1 / (e + 1), lambda e: e])
    assert lrs(s, 4, group=0) == pytest.approx([1, 1 / 2, 1 / 3, 1 / 4])
    assert [g["lr"] for g in opt.param_groups] == pytest.approx([1 / 5, 4.0])
    with pytest.raises(ValueError, match="Expected 2 lr_lambdas, but got 1"):
        LambdaLR(opt, [lambda e: 1.0])


@pytest.mark.parametrize("base, eta_min, t_max", [(0.1, 0.0, 10), (0.1, 1e-3, 7), (1.0, 0.2, 1)])
def test_cosine_annealing_matches_closed_form(base, eta_min, t_max):
    s = CosineAnnealingLR(make_sgd(lr=base), T_max=t_max, eta_min=eta_min)
    n = 3 * t_max + 2  # past the minimum and back up again
    expected = [eta_min + (base - eta_min) * (1 + math.cos(math.pi * t / t_max)) / 2
                for t in range(n)]  # fmt: skip
    np.testing.assert_allclose(lrs(s, n), expected, rtol=0, atol=1e-12)


def test_cosine_annealing_is_recursive_like_pytorch():
    # an outside change to the rate carries through: lr_t = ratio_t * (lr_{t-1} - eta_min) + eta_min
    opt = make_sgd(lr=1.0)
    s = CosineAnnealingLR(opt, T_max=8, eta_min=0.1)
    lrs(s, 3)
    opt.param_groups[0]["lr"] = 0.5
    got = lrs(s, 3)[1:]
    prev, expected = 0.5, []
    for t in (4, 5):
        ratio = (1 + math.cos(math.pi * t / 8)) / (1 + math.cos(math.pi * (t - 1) / 8))
        prev = ratio * (prev - 0.1) + 0.1
        expected.append(prev)
    np.testing.assert_allclose(got, expected, rtol=1e-14)


def test_resume_with_last_epoch():
    opt = make_sgd(lr=1.0)
    with pytest.raises(KeyError, match="initial_lr"):
        CosineAnnealingLR(opt, T_max=10, last_epoch=4)
    opt.param_groups[0]["initial_lr"] = 1.0
    s = CosineAnnealingLR(opt, T_max=10, last_epoch=4)
    assert s.last_epoch == 5
    assert s.get_last_lr()[0] == pytest.approx((1 + math.cos(math.pi * 5 / 10)) / 2, abs=1e-15)


# -- OneCycleLR ----------------------------------------------------------------------------


def test_one_cycle_phases_and_sgd_momentum():
    opt = make_sgd(lr=0.1)
    s = OneCycleLR(opt, max_lr=1.0, total_steps=10)  # phase ends at steps 2 and 9
    group = opt.param_groups[0]
    assert group["initial_lr"] == 0.04 and group["min_lr"] == pytest.approx(4e-6)
    moms = []
    lr = []
    for _ in range(10):
        lr.append(group["lr"])
        moms.append(group["momentum"])
        opt.step()
        s.step()
    assert lr[0] == pytest.approx(0.04) and moms[0] == pytest.approx(0.95)
    assert lr[1] == pytest.approx(0.52) and moms[1] == pytest.approx(0.90)  # halfway up
    assert lr[2] == pytest.approx(1.0) and moms[2] == pytest.approx(0.85)  # the peak
    pct = 3 / 7
    assert lr[5] == pytest.approx(4e-6 + (1 - 4e-6) / 2 * (math.cos(math.pi * pct) + 1))
    assert lr[9] == pytest.approx(4e-6) and moms[9] == pytest.approx(0.95)
    assert all(a > b for a, b in zip(lr[2:], lr[3:]))


def test_one_cycle_raises_past_total_steps():
    opt = make_sgd()
    s = OneCycleLR(opt, max_lr=1.0, epochs=2, steps_per_epoch=3)
    assert s.total_steps == 6
    for _ in range(6):
        opt.step()
        s.step()
    pct = (6 - 0.8) / (5 - 0.8)  # step total_steps is still allowed: pct runs past 1
    min_lr = 0.04 / 1e4
    assert s.get_last_lr()[0] == pytest.approx(
        min_lr + (1 - min_lr) / 2 * (math.cos(math.pi * pct) + 1)
    )
    opt.step()
    with pytest.raises(ValueError, match="Tried to step 7 times. The specified number of total"):
        s.step()


def test_one_cycle_adam_beta1_linear_and_per_group_max_lr():
    params = [mg.tensor([1.0], requires_grad=True) for _ in range(2)]
    opt = Adam([{"params": [p]} for p in params], betas=(0.5, 0.99))
    s = OneCycleLR(opt, max_lr=[1.0, 2.0], total_steps=10, anneal_strategy="linear",
                   base_momentum=0.8, max_momentum=0.9)  # fmt: skip
    assert opt.param_groups[1]["lr"] == pytest.approx(0.08)
    assert opt.param_groups[0]["betas"] == (0.9, 0.99)
    for _ in range(5):
        opt.step()
        s.step()
    pct = 3 / 7  # step 5 of the second phase (steps 2..9), linear
    assert s.get_last_lr() == pytest.approx([1 + (4e-6 - 1) * pct, 2 + (8e-6 - 2) * pct])
    assert opt.param_groups[0]["betas"] == pytest.approx((0.8 + 0.1 * pct, 0.99))


def test_one_cycle_three_phase():
    opt = make_sgd()
    s = OneCycleLR(opt, max_lr=1.0, total_steps=10, three_phase=True)  # ends 2, 4, 9
    got = lrs(s, 10)
    assert got[2] == pytest.approx(1.0) and got[3] == pytest.approx(0.52)
    assert got[4] == pytest.approx(0.04) and got[9] == pytest.approx(4e-6)
    assert opt.param_groups[0]["momentum"] == pytest.approx(0.95)


class _NoMomentum(Optimizer):
    def __init__(self, params):
        super().__init__(params, dict(lr=0.1))

    def step(self, closure=None):
        return None


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(), "either total_steps OR"),
        (dict(total_steps=0), "positive integer total_steps"),
        (dict(total_steps=2.5), "positive integer total_steps"),
        (dict(epochs=0, steps_per_epoch=3), "positive integer epochs"),
        (dict(epochs=2, steps_per_epoch=-1), "positive integer steps_per_epoch"),
        (dict(total_steps=10, pct_start=1.5), "pct_start"),
        (dict(total_steps=10, pct_start=1), "pct_start"),
        (dict(total_steps=10, anneal_strategy="exp"), "anneal_strategy"),
        (dict(total_steps=10, max_lr=[1.0, 2.0]), "max_lr must have the same length"),
    ],
)
def test_one_cycle_argument_errors(kwargs, match):
    kwargs = {"max_lr": 1.0, **kwargs}
    with pytest.raises(ValueError, match=match):
        OneCycleLR(make_sgd(), **kwargs)


def test_one_cycle_zero_length_phase_is_a_clear_error():
    with pytest.raises(ValueError, match="phase 0 of the schedule has zero length"):
        OneCycleLR(make_sgd(), max_lr=1.0, total_steps=10, pct_start=0.1)


def test_one_cycle_needs_momentum_unless_disabled():
    opt = _NoMomentum([mg.tensor([1.0], requires_grad=True)])
    with pytest.raises(ValueError, match="must support momentum"):
        OneCycleLR(opt, max_lr=1.0, total_steps=5)
    s = OneCycleLR(opt, max_lr=1.0, total_steps=5, cycle_momentum=False)
    assert s.get_last_lr() == pytest.approx([0.04])


# -- state dicts, warnings, errors -----------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda o: StepLR(o, step_size=2, gamma=0.5),
        lambda o: MultiStepLR(o, milestones=[3, 5]),
        lambda o: CosineAnnealingLR(o, T_max=6, eta_min=0.01),
        lambda o: OneCycleLR(o, max_lr=1.0, total_steps=12),
    ],
)
def test_state_dict_resume_continues_the_sequence(make):
    opt = make_sgd(lr=0.1)
    s = make(opt)
    lrs(s, 4)
    sd = s.state_dict()
    assert "optimizer" not in sd and sd["last_epoch"] == 4 and "base_lrs" in sd
    pickle.dumps(sd)
    opt_sd = opt.state_dict()
    expected = lrs(s, 5)
    opt2 = make_sgd(lr=7.0)
    s2 = make(opt2)
    opt2.load_state_dict(opt_sd)
    s2.load_state_dict(sd)
    assert lrs(s2, 5) == pytest.approx(expected, rel=1e-14)


def test_lambda_lr_state_dict_keeps_callable_objects_only():
    class Decay:
        def __init__(self):
            self.factor = 0.5

        def __call__(self, epoch):
            return self.factor**epoch

    fn = Decay()
    s = LambdaLR(make_sgd(groups=2), [fn, lambda e: 1.0])
    sd = s.state_dict()
    assert sd["lr_lambdas"] == [{"factor": 0.5}, None]
    sd["lr_lambdas"][0]["factor"] = 0.25
    s.load_state_dict(sd)
    assert fn.factor == 0.25 and "lr_lambdas" in sd


def test_warns_when_scheduler_steps_before_optimizer():
    opt = make_sgd()
    s = StepLR(opt, step_size=1)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        s.step()
    opt = make_sgd()
    s = StepLR(opt, step_size=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lrs(s, 3)
    with pytest.warns(UserWarning, match="get_last_lr"):
        s.get_lr()


def test_step_with_epoch_uses_closed_form():
    s = StepLR(make_sgd(lr=1.0), step_size=2, gamma=0.5)
    s.optimizer.step()
    with pytest.warns(UserWarning, match="epoch parameter"):
        s.step(5)
    assert s.last_epoch == 5 and s.get_last_lr() == [0.25]


@pytest.mark.parametrize(
    "make, exc, match",
    [
        (lambda o: StepLR(object(), step_size=1), TypeError, "object is not an Optimizer"),
        (lambda o: StepLR(o, step_size=0), ValueError, "step_size must be a positive"),
        (lambda o: CosineAnnealingLR(o, T_max=0), ValueError, "T_max must be positive"),
    ],
)
def test_scheduler_argument_errors(make, exc, match):
    with pytest.raises(exc, match=match):
        make(make_sgd())


def test_scheduler_drives_the_optimizer_update():
    p = mg.tensor([1.0], dtype=mg.float64, requires_grad=True)
    opt = SGD([p], lr=1.0)
    s = StepLR(opt, step_size=1, gamma=0.5)
    for _ in range(3):
        p.grad = mg.tensor([1.0], dtype=mg.float64)
        opt.step()
        s.step()
    assert p.item() == pytest.approx(1.0 - (1.0 + 0.5 + 0.25))
