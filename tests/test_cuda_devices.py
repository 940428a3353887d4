"""'cuda' above the op layer: modules, init, optimizers, mg.cuda, checkpoints, device mixing.

Runs on a GPU, or in CI under the simulator (MINIGRAD_CUDA_SIM=1, on by default in
conftest), whose device arrays refuse to mix with host arrays as CuPy does. Each test
compares a 'cuda' run with the same run on 'cpu'; shapes stay tiny."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import minigrad as mg
from minigrad import _device, nn
from minigrad.nn import functional as F
from minigrad.nn.parameter import Parameter

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not mg.cuda.is_available(), reason="CUDA is not available"),
]

CPU, CUDA = mg.device("cpu"), mg.device("cuda", 0)


def _host(t) -> np.ndarray:
    return t.detach().cpu().numpy()


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(3, 4)
        self.bn = nn.BatchNorm1d(4)
        self.fc2 = nn.Linear(4, 2)

    def forward(self, x):
        return self.fc2(self.bn(self.fc1(x)).relu())


@pytest.fixture
def no_cuda(monkeypatch):
    """CUDA reported unusable, as on a machine without a GPU."""
    monkeypatch.setattr(_device, "_cuda_problem", lambda: "no CUDA GPU or driver was found")


# -- Module.to / .cuda / .cpu ---------------------------------------------------------------
def test_module_cuda_moves_parameters_grads_and_buffers_in_place():
    net = Net()
    params = list(net.parameters())
    before = [_host(p) for p in params]
    for p in params:
        p.grad = mg.full(tuple(p.shape), 0.5)
    assert net.cuda() is net
    assert [id(p) for p in net.parameters()] == [id(p) for p in params]
    for p, old in zip(params, before):
        assert p.device == CUDA and p.grad.device == CUDA and p.is_leaf and p.requires_grad
        np.testing.assert_array_equal(_host(p), old)
        np.testing.assert_array_equal(_host(p.grad), np.full(old.shape, 0.5, np.float32))
    assert all(b.device == CUDA for b in net.buffers())
    assert net.bn.num_batches_tracked.dtype == mg.int64  # integer buffers move, keep dtype
    assert net.cpu() is net
    assert all(p.device == CPU and p.grad.device == CPU for p in params)
    assert all(b.device == CPU for b in net.buffers())
    for p, old in zip(params, before):
        np.testing.assert_array_equal(_host(p), old)


@pytest.mark.parametrize(
    "call",
    [
        lambda m: m.to("cuda"),
        lambda m: m.to(mg.device("cuda")),
        lambda m: m.to(device="cuda:0"),
        lambda m: m.cuda(0),
        lambda m: m.to(mg.zeros(1, device="cuda")),
    ],
    ids=["str", "device", "kwarg", "index", "tensor"],
)
def test_module_to_spellings(call):
    lin = nn.Linear(2, 3)
    w = lin.weight
    assert call(lin) is lin and lin.weight is w and w.device == CUDA


def test_module_to_device_and_dtype():
    net = Net()
    ref = [_host(p).astype(np.float64) for p in net.parameters()]
    for p in net.parameters():
        p.grad = mg.ones(*p.shape)
    net.to("cuda", mg.float64)
    assert all(p.device == CUDA and p.dtype == mg.float64 for p in net.parameters())
    assert all(p.grad.device == CUDA and p.grad.dtype == mg.float64 for p in net.parameters())
    assert net.bn.running_mean.dtype == mg.float64
    assert net.bn.num_batches_tracked.dtype == mg.int64
    for p, r in zip(net.parameters(), ref):
        np.testing.assert_array_equal(_host(p), r)
    net.to(dtype=mg.float32)
    assert all(p.device == CUDA and p.dtype == mg.float32 for p in net.parameters())
    net.to(device="cpu", dtype=mg.float64)
    assert all(p.device == CPU and p.dtype == mg.float64 for p in net.parameters())


def test_module_to_keeps_tied_weights_and_moves_every_buffer():
    first, second = nn.Linear(3, 3), nn.Linear(3, 3)
    second.weight = first.weight
    first.register_buffer("scratch", mg.zeros(2), persistent=False)
    seq = nn.Sequential(first, second).cuda()
    assert seq[1].weight is seq[0].weight and seq[0].weight.device == CUDA
    assert seq[0].scratch.device == CUDA and "0.scratch" not in seq.state_dict()
    assert len(list(seq.parameters())) == 3


def test_module_built_on_cuda_matches_cpu_for_a_seed():
    mg.manual_seed(7)
    cpu = nn.Conv2d(2, 3, 3)
    mg.manual_seed(7)
    gpu = nn.Conv2d(2, 3, 3, device="cuda")
    assert gpu.weight.device == CUDA and gpu.bias.device == CUDA
    np.testing.assert_array_equal(_host(gpu.weight), _host(cpu.weight))
    np.testing.assert_array_equal(_host(gpu.bias), _host(cpu.bias))


def test_state_dict_of_a_cuda_module_and_loading_across_devices():
    cpu_net = Net()
    gpu_net = copy.deepcopy(cpu_net).cuda()
    sd = gpu_net.state_dict()
    assert all(v.device == CUDA for v in sd.values())
    fresh = Net()  # other random weights
    fresh.load_state_dict(sd)  # cuda checkpoint into a cpu module
    assert all(p.device == CPU for p in fresh.parameters())
    for key, value in fresh.state_dict().items():
        np.testing.assert_array_equal(_host(value), _host(sd[key]))
    target = Net().cuda()
    weight = target.fc1.weight
    target.load_state_dict(cpu_net.state_dict())  # cpu checkpoint into a cuda module
    assert target.fc1.weight is weight and weight.device == CUDA
    for key, value in target.state_dict().items():
        assert value.device == CUDA
        np.testing.assert_array_equal(_host(value), _host(cpu_net.state_dict()[key]))


def test_optimizer_built_before_to_keeps_working():
    def run(move_first: bool):
        mg.manual_seed(1)
        net = Net()
        opt = mg.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
        if move_first:
            net.cuda()
        dev = CUDA if move_first else CPU
        gen = np.random.default_rng(0)
        for _ in range(2):
            for p in net.parameters():
                p.grad = mg.tensor(gen.standard_normal(tuple(p.shape)), dtype=p.dtype, device=dev)
            opt.step()
        buffers = [s["momentum_buffer"] for s in opt.state.values()]
        assert all(b.device == dev for b in buffers)
        return [_host(p) for p in net.parameters()]

    for a, b in zip(run(False), run(True)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_training_steps_match_cpu():
    """Forward, loss, backward and Adam on 'cuda' give the CPU's parameters (float64)."""

    def run(dev):
        mg.manual_seed(3)
        net = Net().double().to(dev)
        opt = mg.optim.Adam(net.parameters(), lr=1e-2)
        gen = np.random.default_rng(0)
        x = mg.tensor(gen.standard_normal((5, 3)), device=dev)
        y = mg.tensor(gen.standard_normal((5, 2)), device=dev)
        for _ in range(3):
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            loss.backward()
            opt.step()
        assert loss.device == mg.device(dev)
        return [_host(p) for p in net.parameters()] + [_host(net.bn.running_var)]

    # The CPU's batch norm sums each channel in one Numba pass, CuPy in its own reduction
    # order: float64 results agree to about 1e-9 after three Adam steps.
    for a, b in zip(run("cpu"), run("cuda")):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-10)


# -- nn.init --------------------------------------------------------------------------------
INITS = [
    ("uniform_", (-0.5, 2.0)),
    ("normal_", (0.1, 0.3)),
    ("trunc_normal_", ()),
    ("constant_", (0.25,)),
    ("ones_", ()),
    ("zeros_", ()),
    ("eye_", ()),
    ("xavier_uniform_", ()),
    ("xavier_normal_", (0.5,)),
    ("kaiming_uniform_", ()),
    ("kaiming_normal_", (0, "fan_out", "relu")),
    ("orthogonal_", ()),
]


@pytest.mark.parametrize("name,args", INITS, ids=[n for n, _ in INITS])
@pytest.mark.parametrize("dtype", [mg.float32, mg.float64])
def test_init_on_cuda_matches_cpu(name, args, dtype):
    out = {}
    for dev in ("cpu", "cuda"):
        mg.manual_seed(11)
        t = mg.empty(4, 6, dtype=dtype, device=dev)
        assert getattr(nn.init, name)(t, *args) is t
        assert t.device == mg.device(dev) and t.dtype == dtype
        out[dev] = _host(t)
    np.testing.assert_array_equal(out["cuda"], out["cpu"])


def test_dirac_and_parameter_init_on_cuda():
    w = mg.empty(4, 2, 3, 3, device="cuda")
    nn.init.dirac_(w, groups=2)
    ref = mg.empty(4, 2, 3, 3)
    nn.init.dirac_(ref, groups=2)
    np.testing.assert_array_equal(_host(w), _host(ref))
    p = Parameter(mg.empty(3, 3, device="cuda"))
    nn.init.kaiming_uniform_(p)  # a leaf that requires grad: written outside autograd
    assert p.is_leaf and p.requires_grad and p.device == CUDA


# -- optimizers -----------------------------------------------------------------------------
OPTIMIZERS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.1, maximize=True)),
    ("Adam", dict(lr=0.01, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, amsgrad=True, maximize=True)),
    ("AdamW", dict(lr=0.01)),
    ("Adadelta", dict(lr=1.0, weight_decay=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True, weight_decay=0.1)),
]
OPT_IDS = [f"{n}-{i}" for i, (n, _) in enumerate(OPTIMIZERS)]


def _grads(seed: int, n: int = 3):
    gen = np.random.default_rng(seed)
    return [[gen.standard_normal((3, 4)), gen.standard_normal(4)] for _ in range(n)]


def _optimize(name, kwargs, dev, grads, w0, opt_state=None):
    params = [Parameter(mg.tensor(w, dtype=mg.float64, device=dev)) for w in w0]
    opt = getattr(mg.optim, name)(params, **kwargs)
    if opt_state is not None:
        opt.load_state_dict(opt_state)
    for step in grads:
        for p, g in zip(params, step):
            p.grad = mg.tensor(g, dtype=mg.float64, device=dev)  # crafted: no ops needed
        opt.step()
    return params, opt


@pytest.mark.parametrize("name,kwargs", OPTIMIZERS, ids=OPT_IDS)
def test_optimizer_steps_on_cuda_match_cpu(name, kwargs):
    w0 = [np.linspace(-1, 1, 12).reshape(3, 4), np.linspace(0.5, -0.5, 4)]
    grads = _grads(0)
    cpu_params, cpu_opt = _optimize(name, kwargs, "cpu", grads, w0)
    gpu_params, gpu_opt = _optimize(name, kwargs, "cuda", grads, w0)
    for a, b in zip(cpu_params, gpu_params):
        assert b.device == CUDA
        np.testing.assert_allclose(_host(b), _host(a), rtol=0, atol=1e-12)
    sd = gpu_opt.state_dict()
    for index, state in sd["state"].items():
        for key, value in state.items():
            want = CPU if key == "step" else CUDA  # PyTorch keeps 'step' on the CPU too
            assert value.device == want, (index, key)
            ref = cpu_opt.state_dict()["state"][index][key]
            np.testing.assert_allclose(_host(value), _host(ref), rtol=0, atol=1e-12)


@pytest.mark.parametrize("name,kwargs", OPTIMIZERS, ids=OPT_IDS)
def test_optimizer_state_moves_to_the_parameters_device(name, kwargs):
    """load_state_dict puts state on each parameter's device (as PyTorch), so training
    resumes on either device from a checkpoint of the other."""
    w0 = [np.linspace(-1, 1, 12).reshape(3, 4), np.linspace(0.5, -0.5, 4)]
    first, rest = _grads(1, 2), _grads(2, 2)
    for src, dst in (("cpu", "cuda"), ("cuda", "cpu")):
        params, opt = _optimize(name, kwargs, src, first, w0)
        resumed_w = [_host(p) for p in params]
        _, resumed = _optimize(name, kwargs, dst, [], resumed_w, opt.state_dict())
        for state in resumed.state.values():
            for key, value in state.items():
                assert value.device == (CPU if key == "step" else mg.device(dst)), key
        moved, _ = _optimize(name, kwargs, dst, rest, resumed_w, opt.state_dict())
        stayed, _ = _optimize(name, kwargs, src, rest, resumed_w, opt.state_dict())
        for a, b in zip(moved, stayed):
            np.testing.assert_allclose(_host(a), _host(b), rtol=0, atol=1e-12)


def test_zero_grad_and_scheduler_on_cuda():
    p = Parameter(mg.ones(3, device="cuda"))
    opt = mg.optim.SGD([p], lr=1.0)
    sched = mg.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    p.grad = mg.ones(3, device="cuda")
    opt.zero_grad(set_to_none=False)
    assert p.grad.device == CUDA and _host(p.grad).tolist() == [0.0, 0.0, 0.0]
    p.grad = mg.ones(3, device="cuda")
    opt.step()
    sched.step()
    opt.step()
    assert _host(p).tolist() == [-0.5, -0.5, -0.5] and opt.param_groups[0]["lr"] == 0.5


# -- minigrad.cuda --------------------------------------------------------------------------
def test_cuda_queries():
    assert mg.cuda.is_available()
    assert mg.cuda.device_count() >= 1
    assert mg.cuda.current_device() == 0
    name = mg.cuda.get_device_name()
    assert isinstance(name, str) and name
    assert mg.cuda.get_device_name(0) == mg.cuda.get_device_name(CUDA) == name
    for dev in (None, 0, "cuda", "cuda:0", CUDA):
        assert mg.cuda.synchronize(dev) is None
    mg.cuda.set_device(0)
    mg.cuda.empty_cache()
    with pytest.raises(RuntimeError, match="cuda:1"):
        mg.cuda.synchronize("cuda:1")
    with pytest.raises(ValueError, match="synchronize: expected a CUDA device, got 'cpu'"):
        mg.cuda.synchronize("cpu")
    with pytest.raises(TypeError, match="get_device_name"):
        mg.cuda.get_device_name(1.5)


def test_cuda_synchronize_after_work():
    x = mg.randn(8, 8, device="cuda")
    y = x @ x
    mg.cuda.synchronize()
    np.testing.assert_allclose(_host(y), _host(x) @ _host(x), rtol=1e-5, atol=1e-5)


def test_cuda_manual_seed_repeats_cuda_draws_and_matches_cpu():
    mg.cuda.manual_seed(5)
    a = mg.randn(3, 4, device="cuda")
    mg.cuda.manual_seed_all(5)
    b = mg.randn(3, 4, device="cuda")
    mg.manual_seed(5)
    c = mg.randn(3, 4)
    assert a.device == CUDA
    np.testing.assert_array_equal(_host(a), _host(b))
    np.testing.assert_array_equal(_host(a), c.numpy())


def test_cuda_queries_without_cuda(no_cuda):
    assert not mg.cuda.is_available() and mg.cuda.device_count() == 0
    for call in (
        mg.cuda.current_device,
        mg.cuda.get_device_name,
        mg.cuda.synchronize,
        lambda: mg.cuda.set_device(0),
    ):
        with pytest.raises(RuntimeError, match="no CUDA GPU or driver was found"):
            call()
    mg.manual_seed(9)
    expected = mg.rand(3).numpy()
    mg.manual_seed(9)
    mg.cuda.manual_seed(1)  # ignored without CUDA, as torch.cuda.manual_seed
    mg.cuda.manual_seed_all(1)
    mg.cuda.empty_cache()
    np.testing.assert_array_equal(mg.rand(3).numpy(), expected)


# -- checkpoints ----------------------------------------------------------------------------
def test_save_and_load_cuda_tensors(tmp_path):
    w = mg.randn(3, 2, device="cuda")
    p = Parameter(mg.randn(2, device="cuda"))
    obj = {"w": w, "p": p, "again": w, "host": np.arange(3), "n": 1}
    mg.save(obj, tmp_path / "gpu.mg")
    out = mg.load(tmp_path / "gpu.mg")  # back where it was saved from
    assert out["w"].device == CUDA and out["p"].device == CUDA
    assert isinstance(out["p"], Parameter) and out["p"].requires_grad
    assert out["again"] is out["w"]
    np.testing.assert_array_equal(_host(out["w"]), _host(w))
    np.testing.assert_array_equal(_host(out["p"]), _host(p))
    assert out["host"].tolist() == [0, 1, 2] and out["n"] == 1
    assert not list(tmp_path.glob("*.mgtmp"))  # written through a renamed temp file


@pytest.mark.parametrize(
    "map_location",
    [
        "cpu",
        mg.device("cpu"),
        {"cuda:0": "cpu"},
        {"cuda": "cpu"},
        {mg.device("cuda"): mg.device("cpu")},
        lambda storage, location: storage,  # torch's idiom: keep it on the CPU
    ],
    ids=["str", "device", "dict", "dict-short", "dict-devices", "callable"],
)
def test_load_cuda_checkpoint_on_cpu(tmp_path, map_location):
    w = Parameter(mg.randn(3, 2, device="cuda"))
    mg.save({"w": w}, tmp_path / "gpu.mg")
    out = mg.load(tmp_path / "gpu.mg", map_location=map_location)["w"]
    assert out.device == CPU and isinstance(out, Parameter)
    np.testing.assert_array_equal(_host(out), _host(w))


def test_load_map_location_to_cuda_and_callable_locations(tmp_path):
    t = mg.randn(4)
    mg.save({"t": t}, tmp_path / "cpu.mg")
    for ml in ("cuda", "cuda:0", CUDA, {"cpu": "cuda:0"}, lambda s, loc: s.cuda()):
        out = mg.load(tmp_path / "cpu.mg", map_location=ml)["t"]
        assert out.device == CUDA
        np.testing.assert_array_equal(_host(out), t.numpy())
    seen = []
    mg.save({"g": mg.ones(2, device="cuda")}, tmp_path / "gpu.mg")
    out = mg.load(tmp_path / "gpu.mg", map_location=lambda s, loc: seen.append(loc))["g"]
    assert seen == ["cuda:0"] and out.device == CUDA  # None: the saved location


def test_load_cuda_checkpoint_without_cuda_needs_map_location(tmp_path, monkeypatch):
    mg.save({"w": mg.ones(2, device="cuda")}, tmp_path / "gpu.mg")
    monkeypatch.setattr(_device, "_cuda_problem", lambda: "no CUDA GPU or driver was found")
    with pytest.raises(RuntimeError, match="map_location='cpu'"):
        mg.load(tmp_path / "gpu.mg")
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        mg.load(tmp_path / "gpu.mg", map_location={"cpu": "cpu"})
    out = mg.load(tmp_path / "gpu.mg", map_location="cpu")["w"]
    assert out.device == CPU and out.tolist() == [1.0, 1.0]


@pytest.mark.parametrize("src,dst", [("cuda", "cpu"), ("cpu", "cuda")])
def test_model_and_optimizer_checkpoint_across_devices(tmp_path, src, dst):
    """Train on one device, save, resume on the other: the same parameters as resuming on
    the first."""
    w0 = [np.linspace(-1, 1, 12).reshape(3, 4), np.linspace(0.5, -0.5, 4)]

    def model(dev, weights):
        lin = nn.Linear(4, 3).double()
        with mg.no_grad():
            lin.weight.copy_(mg.tensor(weights[0]))
            lin.bias.zero_()
            lin.bias.add_(mg.tensor(np.linspace(0.5, -0.5, 3)))
        return lin.to(dev)

    def steps(lin, opt, seed):
        gen = np.random.default_rng(seed)
        for _ in range(2):
            for p in lin.parameters():
                p.grad = mg.tensor(gen.standard_normal(tuple(p.shape)), device=p.device)
            opt.step()

    lin = model(src, w0)
    opt = mg.optim.Adam(lin.parameters(), lr=0.01)
    steps(lin, opt, 0)
    mg.save({"model": lin.state_dict(), "opt": opt.state_dict()}, tmp_path / "ck.mg")
    results = {}
    for dev in (src, dst):
        ck = mg.load(tmp_path / "ck.mg", map_location=dev)
        assert all(v.device == mg.device(dev) for v in ck["model"].values())
        resumed = model(dev, w0)
        ropt = mg.optim.Adam(resumed.parameters(), lr=0.01)
        resumed.load_state_dict(ck["model"])
        ropt.load_state_dict(ck["opt"])
        for state in ropt.state.values():
            assert state["exp_avg"].device == mg.device(dev) and state["step"].device == CPU
        steps(resumed, ropt, 1)
        results[dev] = [_host(p) for p in resumed.parameters()]
    for a, b in zip(results[src], results[dst]):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)


# -- mixing devices, and gradients through .to() --------------------------------------------
def _names_both_devices(err) -> None:
    msg = str(err.value)
    assert "cpu" in msg and "cuda:0" in msg, msg
    assert "host (NumPy) array" not in msg, msg  # the op's error, not the simulator's


def test_ops_mixing_devices_name_both():
    a, b = mg.ones(2, 3), mg.ones(2, 3, device="cuda")
    for call in (lambda: a + b, lambda: b * a, lambda: a @ b.T, lambda: mg.cat([a, b])):
        with pytest.raises(RuntimeError) as err:
            call()
        _names_both_devices(err)


MODULES = {
    "linear": (lambda: nn.Linear(3, 2), (4, 3)),
    "conv2d": (lambda: nn.Conv2d(1, 2, 3), (1, 1, 5, 5)),
    "conv_transpose2d": (lambda: nn.ConvTranspose2d(2, 2, 3), (1, 2, 4, 4)),
    "batchnorm2d": (lambda: nn.BatchNorm2d(2), (2, 2, 3, 3)),
    "batchnorm1d-stats-only": (lambda: nn.BatchNorm1d(3, affine=False), (4, 3)),
    "net": (Net, (4, 3)),
}


@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("name", sorted(MODULES))
def test_cuda_module_fed_a_cpu_batch(name, training):
    layer, shape = MODULES[name]
    m = layer().cuda().train(training)
    with pytest.raises(RuntimeError) as err:
        m(mg.randn(*shape))
    _names_both_devices(err)
    m.cpu()
    with pytest.raises(RuntimeError) as err:  # and the other way round
        m(mg.randn(*shape, device="cuda"))
    _names_both_devices(err)


def test_grad_of_another_device_is_refused():
    p = Parameter(mg.ones(2, device="cuda"))
    with pytest.raises(RuntimeError, match="cpu"):
        p.grad = mg.ones(2)


def test_to_cuda_gradient_flows_back_to_cpu():
    x = mg.tensor([1.0, -2.0, 3.0], requires_grad=True)
    y = x.to("cuda")
    assert y.device == CUDA and y.grad_fn is not None
    y.backward(mg.tensor([1.0, 2.0, 3.0], device="cuda"))
    assert x.grad.device == CPU and x.grad.tolist() == [1.0, 2.0, 3.0]
    z = x.cuda()
    (z * z).sum().backward()
    assert x.grad.device == CPU
    np.testing.assert_allclose(x.grad.numpy(), [3.0, -2.0, 9.0])


def test_to_cpu_gradient_flows_back_to_cuda():
    x = mg.tensor([1.0, -2.0, 3.0], device="cuda", requires_grad=True)
    y = x.cpu() * mg.tensor([2.0, 2.0, 2.0])
    y.sum().backward()
    assert x.grad.device == CUDA and _host(x.grad).tolist() == [2.0, 2.0, 2.0]
    w = mg.tensor([0.5, 1.0], dtype=mg.float64, requires_grad=True)
    three = mg.full((2,), 3.0, dtype=mg.float64, device="cuda")
    out = (w.to("cuda").to("cpu").to("cuda") * three).sum()
    out.backward()
    assert w.grad.device == CPU and w.grad.tolist() == [3.0, 3.0]


# -- data and printing ----------------------------------------------------------------------
def test_dataloader_over_cuda_tensors():
    xs = mg.arange(10, device="cuda").reshape(5, 2).double()
    ys = mg.arange(5, device="cuda")
    loader = mg.data.DataLoader(mg.data.TensorDataset(xs, ys), batch_size=2, shuffle=True)
    seen = []
    for xb, yb in loader:
        assert xb.device == CUDA and yb.device == CUDA
        seen += _host(yb).tolist()
    assert sorted(seen) == [0, 1, 2, 3, 4]


def test_default_collate_of_cuda_samples():
    class Samples(mg.data.Dataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return mg.full((2,), float(i), device="cuda"), i

    batches = list(mg.data.DataLoader(Samples(), batch_size=2))
    assert [tuple(x.shape) for x, _ in batches] == [(2, 2), (2, 2), (1, 2)]
    assert all(x.device == CUDA and y.device == CPU for x, y in batches)  # ints: host tensors
    assert _host(batches[1][0]).tolist() == [[2.0, 2.0], [3.0, 3.0]]
    with pytest.raises(RuntimeError) as err:  # a batch mixing devices
        mg.data.default_collate([mg.ones(2), mg.ones(2, device="cuda")])
    _names_both_devices(err)


def test_cuda_tensor_repr_as_pytorch():
    assert repr(mg.tensor([1.0, 2.5], device="cuda")) == (
        "tensor([1.0000, 2.5000], device='cuda:0')"
    )
    assert repr(mg.arange(3, device="cuda")) == "tensor([0, 1, 2], device='cuda:0')"
    p = Parameter(mg.zeros(2, device="cuda"))
    assert repr(p) == (
        "Parameter containing:\ntensor([0., 0.], device='cuda:0', requires_grad=True)"
    )


def test_classifier_with_dropout_and_cross_entropy_trains_as_on_cpu():
    """A classifier's training steps (dropout masks drawn on the host generator, so equal
    on both devices for one seed) give the CPU's parameters."""

    def run(dev):
        mg.manual_seed(4)
        model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, 3))
        model.double().to(dev)
        opt = mg.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        gen = np.random.default_rng(0)
        x = mg.tensor(gen.standard_normal((6, 4)), device=dev)
        y = mg.tensor(gen.integers(0, 3, 6), device=dev)
        for _ in range(3):
            opt.zero_grad()
            F.cross_entropy(model(x), y).backward()
            opt.step()
        return [_host(p) for p in model.parameters()]

    for a, b in zip(run("cpu"), run("cuda")):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)
