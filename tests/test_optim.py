"""minigrad.optim: SGD/Adam/AdamW/Adadelta/Adagrad/RMSprop trajectories against NumPy
re-implementations of PyTorch's documented update rules, parameter groups, state dicts and
argument errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from minigrad.optim import SGD, Adadelta, Adagrad, Adam, AdamW, Optimizer, RMSprop

# -- NumPy references (float64), written from the algorithms in PyTorch's docs --------------


def ref_sgd(p0, grads, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False,
            maximize=False):  # fmt: skip
    """Parameter after each step of torch.optim.SGD fed the gradients ``grads``."""
    p, b, out = np.array(p0, dtype=np.float64), None, []
    for g in grads:
        g = -g if maximize else g
        if weight_decay:
            g = g + weight_decay * p
        if momentum:
            b = g.copy() if b is None else momentum * b + (1 - dampening) * g
            g = g + momentum * b if nesterov else b
        p = p - lr * g
        out.append(p)
    return out


def ref_adam(p0, grads, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
             amsgrad=False, maximize=False, decoupled=False):  # fmt: skip
    """Parameter after each step of torch.optim.Adam (decoupled=True: AdamW). AMSGrad keeps
    the running maximum of the raw second moment and bias-corrects it with the current
    step, as PyTorch's implementation does."""
    b1, b2 = betas
    p = np.array(p0, dtype=np.float64)
    m, v, vmax, out = np.zeros_like(p), np.zeros_like(p), np.zeros_like(p), []
    for t, g in enumerate(grads, start=1):
        g = -g if maximize else g
        if weight_decay and decoupled:
            p = p - lr * weight_decay * p
        elif weight_decay:
            g = g + weight_decay * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        vmax = np.maximum(vmax, v)
        m_hat = m / (1 - b1**t)
        v_hat = (vmax if amsgrad else v) / (1 - b2**t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
        out.append(p)
    return out


def ref_adadelta(p0, grads, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, maximize=False):
    """Parameter after each step of torch.optim.Adadelta (Zeiler's rule, scaled by lr)."""
    p, v, u, out = np.array(p0, dtype=np.float64), 0.0, 0.0, []
    for g in grads:
        g = -g if maximize else g
        g = g + weight_decay * p
        v = rho * v + (1 - rho) * g * g
        delta = np.sqrt(u + eps) / np.sqrt(v + eps) * g
        u = rho * u + (1 - rho) * delta * delta
        p = p - lr * delta
        out.append(p)
    return out


def ref_rmsprop(p0, grads, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                centered=False, maximize=False):  # fmt: skip
    """Parameter after each step of torch.optim.RMSprop (eps added outside the root)."""
    p, v, m, b, out = np.array(p0, dtype=np.float64), 0.0, 0.0, 0.0, []
    for g in grads:
        g = -g if maximize else g
        g = g + weight_decay * p
        v = alpha * v + (1 - alpha) * g * g
        if centered:
            m = alpha * m + (1 - alpha) * g
        avg = np.sqrt(v - m * m) + eps
        if momentum > 0:
            b = momentum * b + g / avg
            p = p - lr * b
        else:
            p = p - lr * g / avg
        out.append(p)
    return out


def ref_adagrad(p0, grads, lr=1e-2, lr_decay=0.0, weight_decay=0.0,
                initial_accumulator_value=0.0, eps=1e-10, maximize=False):  # fmt: skip
    """Parameter after each step of torch.optim.Adagrad (lr decayed as lr / (1 + (t-1) d))."""
    p, out = np.array(p0, dtype=np.float64), []
    s = np.full_like(p, initial_accumulator_value)
    for t, g in enumerate(grads, start=1):
        g = -g if maximize else g
        g = g + weight_decay * p
        s = s + g * g
        p = p - lr / (1 + (t - 1) * lr_decay) * g / (np.sqrt(s) + eps)
        out.append(p)
    return out


def run(opt_cls, p0, grads, dtype=mg.float64, **kwargs):
    """Feeds ``grads`` to a minigrad optimizer and returns the parameter after each step."""
    p = mg.tensor(p0, dtype=dtype, requires_grad=True)
    opt = opt_cls([p], **kwargs)
    out = []
    for g in grads:
        p.grad = mg.tensor(g, dtype=dtype)
        opt.step()
        out.append(p.detach().numpy().copy())
    return out


def close(actual, expected, rtol=1e-12, atol=1e-14):
    for i, (a, e) in enumerate(zip(actual, expected)):
        np.testing.assert_allclose(a, e, rtol=rtol, atol=atol, err_msg=f"step {i + 1}")


def grads_for(shape, n, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=shape), [rng.normal(size=shape) for _ in range(n)]


# -- hand-computed values -----------------------------------------------------------------


def test_sgd_momentum_by_hand():
    # p = 1, g = 2p each step, lr 0.1, momentum 0.9: buffer 2, 3.4, 3.98
    p = mg.tensor([1.0], dtype=mg.float64, requires_grad=True)
    opt = SGD([p], lr=0.1, momentum=0.9)
    values = []
    for _ in range(3):
        opt.zero_grad()
        (p * p).sum().backward()
        opt.step()
        values.append(p.item())
    np.testing.assert_allclose(values, [0.8, 0.46, 0.062], rtol=1e-14)
    np.testing.assert_allclose(opt.state[p]["momentum_buffer"].numpy(), [3.98], rtol=1e-14)


def test_adam_first_step_is_lr_times_sign():
    # step 1: m_hat = g, v_hat = g^2, so the update is lr * g / (|g| + eps)
    p = mg.tensor([1.0, -2.0, 3.0], dtype=mg.float64, requires_grad=True)
    p.grad = mg.tensor([0.5, -4.0, 1e-3], dtype=mg.float64)
    Adam([p], lr=0.01).step()
    g = np.array([0.5, -4.0, 1e-3])
    np.testing.assert_allclose(p.detach().numpy(), [1, -2, 3] - 0.01 * g / (abs(g) + 1e-8))


# -- trajectories against the references -------------------------------------------------

SGD_CASES = [
    dict(lr=0.1),
    dict(lr=0.05, momentum=0.9),
    dict(lr=0.05, momentum=0.9, dampening=0.3),
    dict(lr=0.05, momentum=0.8, nesterov=True),
    dict(lr=0.05, momentum=0.9, weight_decay=0.1, nesterov=True),
    dict(lr=0.02, momentum=0.5, dampening=0.5, weight_decay=0.01, maximize=True),
]


@pytest.mark.parametrize("kwargs", SGD_CASES, ids=lambda k: ",".join(k))
def test_sgd_trajectory(kwargs):
    p0, grads = grads_for((3, 2), 6)
    close(run(SGD, p0, grads, **kwargs), ref_sgd(p0, grads, **kwargs))


ADAM_CASES = [
    dict(lr=0.01),
    dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6),
    dict(lr=0.01, betas=(0.3, 0.9)),  # 1 - beta1 >= 0.5: the other branch of PyTorch's lerp
    dict(lr=0.01, weight_decay=0.1),
    dict(lr=0.01, amsgrad=True),
    dict(lr=0.01, amsgrad=True, weight_decay=0.05, maximize=True),
]


@pytest.mark.parametrize("kwargs", ADAM_CASES, ids=lambda k: ",".join(k))
def test_adam_trajectory(kwargs):
    p0, grads = grads_for((4,), 8, seed=1)
    # shrinking gradients make v fall, so AMSGrad's maximum matters
    grads = [g / (i + 1) ** 2 for i, g in enumerate(grads)]
    close(run(Adam, p0, grads, **kwargs), ref_adam(p0, grads, **kwargs))


@pytest.mark.parametrize("kwargs", [dict(), dict(lr=0.1, weight_decay=0.5, amsgrad=True)])
def test_adamw_trajectory_is_decoupled(kwargs):
    p0, grads = grads_for((2, 3), 6, seed=2)
    expected = ref_adam(p0, grads, decoupled=True, **{"weight_decay": 1e-2, **kwargs})
    close(run(AdamW, p0, grads, **kwargs), expected)
    coupled = ref_adam(p0, grads, **{"weight_decay": 1e-2, **kwargs})
    assert not np.allclose(expected[-1], coupled[-1], rtol=1e-9, atol=0)


@pytest.mark.parametrize(
    "opt_cls, ref, kwargs",
    [(SGD, ref_sgd, dict(lr=0.1, momentum=0.9, nesterov=True)), (Adam, ref_adam, dict(lr=0.1)),
     (AdamW, ref_adam, dict(lr=0.1, weight_decay=0.1))],
)  # fmt: skip
def test_float32_follows_reference_and_keeps_dtype(opt_cls, ref, kwargs):
    p0, grads = grads_for((5,), 5, seed=3)
    got = run(opt_cls, p0, grads, dtype=mg.float32, **kwargs)
    extra = {"decoupled": True} if opt_cls is AdamW else {}
    close(got, ref(p0, grads, **kwargs, **extra), rtol=2e-5, atol=1e-6)
    assert all(a.dtype == np.float32 for a in got)


ADAPTIVE_CASES = [
    (Adadelta, ref_adadelta, {}),
    (Adadelta, ref_adadelta, dict(lr=0.5, rho=0.8, eps=1e-4, weight_decay=0.1, maximize=True)),
    (Adadelta, ref_adadelta, dict(rho=0.0)),
    (Adadelta, ref_adadelta, dict(rho=1.0)),
    (RMSprop, ref_rmsprop, {}),
    (RMSprop, ref_rmsprop, dict(momentum=0.5, maximize=True)),
    (RMSprop, ref_rmsprop, dict(centered=True)),
    (RMSprop, ref_rmsprop,
     dict(lr=0.05, alpha=0.9, eps=1e-3, momentum=0.8, centered=True, weight_decay=0.1)),
    (Adagrad, ref_adagrad, {}),
    (Adagrad, ref_adagrad, dict(lr=0.1, lr_decay=0.3, weight_decay=0.2,
                                initial_accumulator_value=0.5, eps=1e-3, maximize=True)),
]  # fmt: skip


@pytest.mark.parametrize(
    "opt_cls, ref, kwargs", ADAPTIVE_CASES, ids=lambda v: getattr(v, "__name__", None)
)
def test_adaptive_trajectory(opt_cls, ref, kwargs):
    p0, grads = grads_for((3, 2), 8)
    close(run(opt_cls, p0, grads, **kwargs), ref(p0, grads, **kwargs))
    got32 = run(opt_cls, p0, grads, dtype=mg.float32, **kwargs)
    assert got32[-1].dtype == np.float32
    close(got32, ref(p0, grads, **kwargs), rtol=1e-4, atol=1e-5)


# (optimizer, kwargs, four steps from p = [0, 0] with gradient (t * [1, -2]) at step t),
# printed by PyTorch 2.13 in float64
PYTORCH_TRAJECTORIES = [
    (Adagrad, dict(lr=0.1, lr_decay=0.5, initial_accumulator_value=0.1),
     [[-0.09534625891546832, 0.09877295966008093], [-0.15438725128219363, 0.1582529245581503],
      [-0.19433402437797787, 0.198306364795207], [-0.22349732904050587, 0.22750607051813918]]),
    (RMSprop, dict(lr=0.01, alpha=0.9, momentum=0.5, centered=True, weight_decay=0.1),
     [[-0.03333333222222226, 0.03333333277777779], [-0.08138384915293821, 0.0813879830558168],
      [-0.13501188773609715, 0.13502341533100284], [-0.19018496765913245, 0.19020522506010895]]),
]  # fmt: skip


@pytest.mark.parametrize("opt_cls, kwargs, want", PYTORCH_TRAJECTORIES)
def test_adaptive_trajectory_matches_pytorch_numbers(opt_cls, kwargs, want):
    grads = [t * np.array([1.0, -2.0]) for t in range(1, 5)]
    close(run(opt_cls, np.zeros(2), grads, **kwargs), want, rtol=1e-13)


def test_adadelta_float32_defaults_match_pytorch_numbers():
    # PyTorch 2.13, float32, Adadelta() with gradient t * [1, -2] at step t from [0, 0]
    want = [[-0.0031622620299458504, 0.003162273671478033],
            [-0.007202858105301857, 0.007202880457043648],
            [-0.012072039768099785, 0.012072073295712471],
            [-0.01774723455309868, 0.01774728111922741]]  # fmt: skip
    grads = [t * np.array([1.0, -2.0]) for t in range(1, 5)]
    close(run(Adadelta, np.zeros(2), grads, dtype=mg.float32), want, rtol=1e-6, atol=0)


def test_adaptive_defaults_state_layout_and_repr():
    p = mg.tensor([1.0, 2.0], requires_grad=True)
    defaults = {
        Adadelta: dict(lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, maximize=False),
        RMSprop: dict(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                      centered=False, maximize=False),
        Adagrad: dict(lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                      eps=1e-10, maximize=False),
    }  # fmt: skip
    for cls, want in defaults.items():
        group = cls([p]).param_groups[0]
        assert {k: group[k] for k in want} == want, cls.__name__
    # PyTorch creates Adagrad's state at construction, the others' at the first step
    assert set(Adagrad([p]).state_dict()["state"][0]) == {"step", "sum"}
    assert Adadelta([p]).state_dict()["state"] == {}
    for cls, kwargs, keys in (
        (Adadelta, {}, {"step", "square_avg", "acc_delta"}),
        (RMSprop, {}, {"step", "square_avg"}),
        (RMSprop, dict(momentum=0.9, centered=True),
         {"step", "square_avg", "momentum_buffer", "grad_avg"}),
    ):  # fmt: skip
        opt = cls([p], **kwargs)
        p.grad = mg.tensor([1.0, -1.0])
        opt.step()
        state = opt.state_dict()["state"][0]
        assert set(state) == keys and state["step"].item() == 1.0
        assert state["step"].dtype == mg.float32
    text = repr(RMSprop([p], lr=0.5))
    assert text.startswith("RMSprop (\nParameter Group 0\n") and "    lr: 0.5\n" in text
    assert "    centered: False\n" in text
    assert {"Adadelta", "Adagrad", "RMSprop"} <= set(mg.optim.__all__)


def test_adagrad_state_for_a_group_added_later():
    p, q = mg.tensor([1.0], requires_grad=True), mg.tensor([2.0], requires_grad=True)
    opt = Adagrad([p], lr=0.1, initial_accumulator_value=0.5)
    opt.add_param_group({"params": [q], "lr": 0.2})
    q.grad = mg.tensor([1.0])
    opt.step()
    assert opt.state[q]["sum"].item() == 1.5 and opt.state[q]["step"].item() == 1.0
    assert q.item() == pytest.approx(2.0 - 0.2 / (1.5**0.5 + 1e-10))


def test_training_through_backward_matches_reference():
    # loss = sum((p - target)^2), gradient 2 (p - target), computed by minigrad's autograd
    target = np.array([1.0, -1.0, 0.5])
    p = mg.tensor([0.0, 0.0, 0.0], dtype=mg.float64, requires_grad=True)
    opt = Adam([p], lr=0.1, weight_decay=0.01)
    ref_p, m, v = np.zeros(3), np.zeros(3), np.zeros(3)
    for t in range(1, 6):
        opt.zero_grad()
        loss = ((p - mg.tensor(target)) ** 2).sum()
        loss.backward()
        opt.step()
        g = 2 * (ref_p - target) + 0.01 * ref_p
        m, v = 0.9 * m + 0.1 * g, 0.999 * v + 0.001 * g * g
        ref_p = ref_p - 0.1 * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
        np.testing.assert_allclose(p.detach().numpy(), ref_p, rtol=1e-12)


@given(
    data=st.data(),
    lr=st.floats(1e-4, 1.0),
    momentum=st.sampled_from([0.0, 0.5, 0.9]) | st.floats(0.0, 0.99),
    dampening=st.sampled_from([0.0, 0.1]),
    weight_decay=st.sampled_from([0.0, 1e-3, 0.1]),
    nesterov=st.booleans(),
    maximize=st.booleans(),
    steps=st.integers(1, 6),
)
def test_sgd_property(data, lr, momentum, dampening, weight_decay, nesterov, maximize, steps):
    nesterov = nesterov and momentum > 0 and dampening == 0
    p0, grads = grads_for((3,), steps, seed=data.draw(st.integers(0, 2**31 - 1)))
    kw = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
              nesterov=nesterov, maximize=maximize)  # fmt: skip
    close(run(SGD, p0, grads, **kw), ref_sgd(p0, grads, **kw), rtol=1e-11, atol=1e-13)


@given(
    data=st.data(),
    lr=st.floats(1e-4, 0.5),
    beta1=st.floats(0.0, 0.99),
    beta2=st.floats(0.0, 0.999),
    eps=st.sampled_from([1e-8, 1e-6, 1e-3]),
    weight_decay=st.sampled_from([0.0, 1e-2, 0.3]),
    amsgrad=st.booleans(),
    maximize=st.booleans(),
    decoupled=st.booleans(),
    steps=st.integers(1, 6),
)
def test_adam_property(data, lr, beta1, beta2, eps, weight_decay, amsgrad, maximize,
                       decoupled, steps):  # fmt: skip
    p0, grads = grads_for((3,), steps, seed=data.draw(st.integers(0, 2**31 - 1)))
    kw = dict(lr=lr, betas=(beta1, beta2), eps=eps, weight_decay=weight_decay,
              amsgrad=amsgrad, maximize=maximize)  # fmt: skip
    got = run(AdamW if decoupled else Adam, p0, grads, **kw)
    close(got, ref_adam(p0, grads, decoupled=decoupled, **kw), rtol=1e-10, atol=1e-12)


# -- behaviour of the Optimizer base -----------------------------------------------------


def test_param_groups_with_different_lr_and_defaults_filled_in():
    a = mg.tensor([1.0], dtype=mg.float64, requires_grad=True)
    b = mg.tensor([1.0], dtype=mg.float64, requires_grad=True)
    opt = SGD([{"params": [a]}, {"params": b, "lr": 0.5, "momentum": 0.9}], lr=0.1)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    assert opt.param_groups[0]["momentum"] == 0 and opt.param_groups[1]["params"] == [b]
    a.grad, b.grad = mg.tensor([1.0], dtype=mg.float64), mg.tensor([1.0], dtype=mg.float64)
    opt.step()
    assert a.item() == pytest.approx(0.9) and b.item() == pytest.approx(0.5)
    c = mg.tensor([2.0], requires_grad=True)
    opt.add_param_group({"params": [c], "weight_decay": 0.1})
    assert opt.param_groups[2]["lr"] == 0.1 and opt.param_groups[2]["weight_decay"] == 0.1


def test_updates_in_place_and_skips_params_without_grad():
    a = mg.tensor([1.0, 2.0], requires_grad=True)
    b = mg.tensor([3.0], requires_grad=True)
    array_a, array_b = a._array, b._array
    opt = Adam([a, b], lr=0.1)
    a.grad = mg.tensor([1.0, 1.0])
    opt.step()
    assert a._array is array_a and b._array is array_b  # same objects, same memory
    assert b.tolist() == [3.0] and a.tolist() != [1.0, 2.0]
    assert b not in opt.state and set(opt.state_dict()["state"]) == {0}
    step = opt.state[a]["step"]
    assert step.shape == () and step.dtype == mg.float32 and step.item() == 1.0
    assert a.requires_grad and a.is_leaf and a.grad_fn is None


def test_step_bumps_version_so_stale_saved_values_are_caught():
    p = mg.tensor([1.0, 2.0], requires_grad=True)
    y = (p * p).sum()  # saves p for the backward pass
    p.grad = mg.tensor([1.0, 1.0])
    SGD([p], lr=0.1).step()
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.backward()


def test_zero_grad():
    p = mg.tensor([1.0, 2.0], requires_grad=True)
    opt = SGD([p], lr=0.1)
    (p * 3).sum().backward()
    grad = p.grad
    opt.zero_grad(set_to_none=False)
    assert p.grad is grad and p.grad.tolist() == [0.0, 0.0]
    opt.zero_grad()
    assert p.grad is None


def test_closure_runs_with_grad_and_step_returns_its_loss():
    p = mg.tensor([2.0], dtype=mg.float64, requires_grad=True)
    opt = SGD([p], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    with mg.no_grad():
        loss = opt.step(closure)
    assert loss.item() == 4.0 and p.item() == pytest.approx(1.0)
    assert mg.is_grad_enabled()


def test_repr_lists_groups():
    opt = SGD([mg.tensor([1.0], requires_grad=True)], lr=0.1)
    assert repr(opt).startswith("SGD (\nParameter Group 0\n") and "    lr: 0.1\n" in repr(opt)


def test_custom_optimizer_and_required_hyper_parameter():
    from minigrad.optim.optimizer import required, use_grad_for_step

    class Sign(Optimizer):
        def __init__(self, params, lr=required):
            super().__init__(params, dict(lr=lr))

        @use_grad_for_step
        def step(self, closure=None):
            self.grad_mode_inside = mg.is_grad_enabled()
            for group in self.param_groups:
                for p in group["params"]:
                    p._array -= group["lr"] * np.sign(p.grad._array)

    p = mg.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match="required optimization parameter lr"):
        Sign([p])
    opt = Sign([p], lr=0.5)
    p.grad = mg.tensor([3.0])
    opt.step()
    assert p.item() == 0.5 and opt._opt_called
    assert opt.grad_mode_inside is False and mg.is_grad_enabled()


@pytest.mark.parametrize(
    "make, exc, match",
    [
        (lambda p: SGD([], lr=0.1), ValueError, "empty parameter list"),
        (lambda p: SGD(p, lr=0.1), TypeError, "iterable of Tensors or dicts"),
        (lambda p: SGD([{"params": {p}}], lr=0.1), TypeError, "ordered collections"),
        (lambda p: SGD([p, 1.0], lr=0.1), TypeError, "can only optimize Tensors"),
        (lambda p: SGD([p * 2], lr=0.1), ValueError, "non-leaf"),
        (lambda p: SGD([{"params": [p]}, {"params": [p]}]), ValueError, "more than one"),
        (lambda p: SGD([p], lr=-0.1), ValueError, "Invalid learning rate: -0.1"),
        (lambda p: SGD([p], momentum=-0.5), ValueError, "Invalid momentum value"),
        (lambda p: SGD([p], weight_decay=-1), ValueError, "Invalid weight_decay value"),
        (lambda p: SGD([p], nesterov=True), ValueError, "Nesterov momentum requires"),
        (lambda p: SGD([p], momentum=0.9, dampening=0.1, nesterov=True), ValueError,
         "zero dampening"),
        (lambda p: Adam([p], lr=-1), ValueError, "Invalid learning rate"),
        (lambda p: Adam([p], eps=-1e-8), ValueError, "Invalid epsilon value"),
        (lambda p: Adam([p], betas=(1.0, 0.999)), ValueError, "beta parameter at index 0"),
        (lambda p: Adam([p], betas=(0.9, -0.1)), ValueError, "beta parameter at index 1"),
        (lambda p: Adam([p], betas=(0.9,)), ValueError, "pair"),
        (lambda p: AdamW([p], weight_decay=-1e-2), ValueError, "Invalid weight_decay"),
        (lambda p: Adadelta([p], lr=-1), ValueError, "^Invalid learning rate: -1$"),
        (lambda p: Adadelta([p], rho=1.5), ValueError, "^Invalid rho value: 1.5$"),
        (lambda p: Adadelta([p], eps=-1.0), ValueError, "^Invalid epsilon value: -1.0$"),
        (lambda p: Adadelta([p], weight_decay=-1), ValueError, "Invalid weight_decay value: -1"),
        (lambda p: RMSprop([p], lr=-1), ValueError, "^Invalid learning rate: -1$"),
        (lambda p: RMSprop([p], alpha=-0.5), ValueError, "^Invalid alpha value: -0.5$"),
        (lambda p: RMSprop([p], momentum=-0.1), ValueError, "^Invalid momentum value: -0.1$"),
        (lambda p: RMSprop([p], eps=-1e-8), ValueError, "Invalid epsilon value"),
        (lambda p: RMSprop([p], weight_decay=-1), ValueError, "Invalid weight_decay value"),
        (lambda p: Adagrad([p], lr=-1), ValueError, "^Invalid learning rate: -1$"),
        (lambda p: Adagrad([p], lr_decay=-1), ValueError, "^Invalid lr_decay value: -1$"),
        (lambda p: Adagrad([p], initial_accumulator_value=-1), ValueError,
         "^Invalid initial_accumulator_value value: -1$"),
        (lambda p: Adagrad([p], eps=-1), ValueError, "^Invalid epsilon value: -1$"),
        (lambda p: Adagrad([p], weight_decay=-1), ValueError, "Invalid weight_decay value"),
    ],
)  # fmt: skip
def test_argument_errors(make, exc, match):
    p = mg.tensor([1.0], requires_grad=True)
    with pytest.raises(exc, match=match):
        make(p)


def test_add_param_group_errors_and_duplicate_warning():
    p, q = mg.tensor([1.0], requires_grad=True), mg.tensor([2.0], requires_grad=True)
    opt = SGD([p], lr=0.1)
    with pytest.raises(TypeError, match="param_group must be a dict"):
        opt.add_param_group([q])
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [q, p]})
    with pytest.warns(UserWarning, match="duplicate parameters"):
        SGD([q, q], lr=0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        SGD([mg.tensor([1.0], requires_grad=True), mg.tensor([1.0], requires_grad=True)])


# -- state dicts -------------------------------------------------------------------------

ROUND_TRIP = [
    (SGD, dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
    (Adam, dict(lr=0.05, amsgrad=True)),
    (AdamW, dict(lr=0.05, weight_decay=0.1)),
    (Adadelta, dict(lr=0.5, weight_decay=0.01)),
    (RMSprop, dict(lr=0.05, momentum=0.9, centered=True)),
    (Adagrad, dict(lr=0.1, lr_decay=0.1, initial_accumulator_value=0.2)),
]


def _two_groups(opt_cls, kwargs, values):
    params = [mg.tensor(v, dtype=mg.float64, requires_grad=True) for v in values]
    groups = [{"params": params[:2]}, {"params": params[2:], "lr": kwargs["lr"] / 2}]
    return params, opt_cls(groups, **kwargs)


def _step_all(opt, params, grads):
    for p, g in zip(params, grads):
        p.grad = mg.tensor(g, dtype=mg.float64)
    opt.step()


@pytest.mark.parametrize("opt_cls, kwargs", ROUND_TRIP, ids=lambda x: getattr(x, "__name__", ""))
def test_state_dict_round_trip_continues_identically(opt_cls, kwargs):
    rng = np.random.default_rng(0)
    values = [rng.normal(size=s) for s in ((2, 3), (3,), (4,))]
    grads = [[rng.normal(size=v.shape) for v in values] for _ in range(6)]
    params, opt = _two_groups(opt_cls, kwargs, values)
    for g in grads[:3]:
        _step_all(opt, params, g)
    sd = opt.state_dict()
    copies = [mg.tensor(p.detach().numpy().copy(), requires_grad=True) for p in params]
    # the fresh optimizer's hyper-parameters differ: loading restores the saved ones
    fresh = opt_cls([{"params": copies[:2]}, {"params": copies[2:]}], lr=123.0)
    fresh.load_state_dict(sd)
    assert [g["lr"] for g in fresh.param_groups] == [kwargs["lr"], kwargs["lr"] / 2]
    assert fresh.param_groups[0]["params"][0] is copies[0]
    for g in grads[3:]:
        _step_all(opt, params, g)
        _step_all(fresh, copies, g)
        for p, c in zip(params, copies):
            np.testing.assert_array_equal(p.detach().numpy(), c.detach().numpy())


def test_state_dict_layout_matches_pytorch():
    a = mg.tensor([1.0, 2.0], requires_grad=True)
    b = mg.tensor([3.0], requires_grad=True)
    c = mg.tensor([4.0], requires_grad=True)
    opt = Adam([{"params": [a, b]}, {"params": [c], "lr": 0.5}], lr=0.1, amsgrad=True)
    a.grad, c.grad = mg.tensor([1.0, 1.0]), mg.tensor([1.0])
    opt.step()
    sd = opt.state_dict()
    assert set(sd) == {"state", "param_groups"}
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1], [2]]
    assert sd["param_groups"][1]["lr"] == 0.5 and sd["param_groups"][0]["betas"] == (0.9, 0.999)
    assert set(sd["state"]) == {0, 2}
    assert set(sd["state"][0]) == {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"}
    assert sd["state"][0]["exp_avg"] is opt.state[a]["exp_avg"]  # PyTorch returns references
    assert opt.param_groups[0]["params"] == [a, b]  # packing leaves the optimizer alone
    sgd = SGD([a, b], lr=0.1, momentum=0.9)
    sgd.step()
    assert set(sgd.state_dict()["state"]) == {0} and SGD([a], lr=1).state_dict()["state"] == {}


def test_load_state_dict_copies_and_casts():
    p = mg.tensor([1.0, 2.0], dtype=mg.float64, requires_grad=True)
    opt = Adam([p], lr=0.1)
    p.grad = mg.tensor([1.0, -1.0], dtype=mg.float64)
    opt.step()
    sd = opt.state_dict()
    q = mg.tensor([1.0, 2.0], dtype=mg.float32, requires_grad=True)
    other = Adam([q], lr=0.1)
    other.load_state_dict(sd)
    state = other.state[q]
    assert state["exp_avg"].dtype == mg.float32 and state["step"].dtype == mg.float32
    assert state["exp_avg"] is not sd["state"][0]["exp_avg"]
    q.grad = mg.tensor([1.0, 1.0])
    other.step()
    assert opt.state[p]["step"].item() == 1.0 and state["step"].item() == 2.0
    np.testing.assert_allclose(opt.state[p]["exp_avg"].numpy(), [0.1, -0.1])


def test_load_old_style_state_with_python_step():
    p = mg.tensor([1.0], requires_grad=True)
    sd = {"state": {0: {"step": 3, "exp_avg": np.zeros(1), "exp_avg_sq": np.zeros(1)}},
          "param_groups": [{"lr": 0.1, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0,
                            "amsgrad": False, "params": [0]}]}  # fmt: skip
    opt = Adam([p])
    opt.load_state_dict(sd)
    step = opt.state[p]["step"]
    assert isinstance(step, mg.Tensor) and step.item() == 3.0
    assert opt.param_groups[0]["maximize"] is False
    assert opt.state[p]["exp_avg"].dtype == mg.float32


@pytest.mark.parametrize(
    "edit, match",
    [
        (lambda sd: sd["param_groups"].append({"lr": 1, "params": [9]}), "number of parameter"),
        (lambda sd: sd["param_groups"][0]["params"].pop(), "doesn't match the size"),
        (lambda sd: sd["state"][0].update(momentum_buffer=mg.zeros(3)), r"shape \(3,\)"),
        (lambda sd: sd.pop("state"), "'state' and 'param_groups'"),
    ],
)
def test_load_state_dict_errors(edit, match):
    a, b = mg.tensor([1.0, 2.0], requires_grad=True), mg.tensor([1.0], requires_grad=True)
    opt = SGD([a, b], lr=0.1, momentum=0.9)
    a.grad, b.grad = mg.ones(2), mg.ones(1)
    opt.step()
    sd = opt.state_dict()
    edit(sd)
    with pytest.raises(ValueError, match=match):
        SGD([a, b], lr=0.1, momentum=0.9).load_state_dict(sd)


def test_save_and_load_state_dict_with_minigrad_save(tmp_path):
    pytest.importorskip("minigrad.serialization")
    p = mg.tensor([1.0, -2.0], requires_grad=True)
    opt = Adam([p], lr=0.1)
    p.grad = mg.tensor([0.5, 0.5])
    opt.step()
    mg.save(opt.state_dict(), tmp_path / "opt.pt")
    q = mg.tensor(p.detach().numpy().copy(), requires_grad=True)
    other = Adam([q], lr=0.1)
    other.load_state_dict(mg.load(tmp_path / "opt.pt"))
    for o, t in ((opt, p), (other, q)):
        t.grad = mg.tensor([-1.0, 0.25])
        o.step()
    np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())


def _sgd_float32_by_formula(p, g, b, lr, momentum, dampening, weight_decay, nesterov, maximize):
    """torch.optim.SGD's single-tensor update in float32, NumPy operation by operation."""
    f = np.float32
    g = -g if maximize else g
    if weight_decay:
        g = g + f(weight_decay) * p
    if momentum:
        b = g.copy() if b is None else b * f(momentum) + (f(1 - dampening) * g if dampening else g)
        g = g + f(momentum) * b if nesterov else b
    return p + f(-lr) * g, b


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize(
    "kw",
    [dict(momentum=0.0), dict(momentum=0.9, weight_decay=5e-4),
     dict(momentum=0.9, nesterov=True, maximize=True), dict(momentum=0.5, dampening=0.3)],
)  # fmt: skip
def test_sgd_kernel_is_the_float32_formula_bit_for_bit(kw, threads, monkeypatch):
    """The fused CPU update rounds as the operation-by-operation formula does, whatever the
    thread count, and writes back into a non-contiguous parameter."""
    from minigrad import _threads
    from minigrad._backends import backend_for

    monkeypatch.setattr(_threads, "_num_threads", _threads._num_threads)  # restored after
    mg.set_num_threads(threads)
    rng = np.random.default_rng(5)
    full = dict(lr=0.05, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False,
                maximize=False) | kw  # fmt: skip
    p = rng.standard_normal((300, 250), dtype=np.float32)  # above the one-thread size limit
    p_t = p.T  # a non-contiguous view: the update must land in p
    want, want_b, buf = p_t.copy(), None, None
    for _ in range(3):
        g = rng.standard_normal(p_t.shape, dtype=np.float32)
        want, want_b = _sgd_float32_by_formula(want, g, want_b, **full)
        buf = backend_for("cpu").sgd_update(p_t, g, buf, **full)
    np.testing.assert_array_equal(p.T, want)
    if full["momentum"]:
        np.testing.assert_array_equal(buf, want_b)
    else:
        assert buf is None
