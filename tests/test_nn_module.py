"""``minigrad.nn.Module``, ``Parameter`` and the containers: registration, traversal order,
modes, conversion, ``state_dict``/``load_state_dict`` and ``repr``, each checked against
PyTorch's documented behaviour (expected keys and strings are written out by hand)."""

from __future__ import annotations

import copy
import pickle
from collections import OrderedDict

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn


class Net(nn.Module):
    """A small CNN with a persistent and a non-persistent buffer of its own."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 4, 3, padding=1),
            nn.BatchNorm2d(4),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Conv2d(4, 8, 3, stride=2, bias=False),
        )
        self.head = nn.Linear(8, 3)
        self.register_buffer("scale", mg.ones(1))
        self.register_buffer("tmp", mg.zeros(1), persistent=False)

    def forward(self, x):
        return self.head(self.features(x).flatten(1)) * self.scale


NET_KEYS = [
    "scale",
    "features.0.weight",
    "features.0.bias",
    "features.1.weight",
    "features.1.bias",
    "features.1.running_mean",
    "features.1.running_var",
    "features.1.num_batches_tracked",
    "features.4.weight",
    "head.weight",
    "head.bias",
]

NET_REPR = """Net(
  (features): Sequential(
    (0): Conv2d(1, 4, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
    (1): BatchNorm2d(4, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)
    (2): ReLU(inplace=True)
    (3): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
    (4): Conv2d(4, 8, kernel_size=(3, 3), stride=(2, 2), bias=False)
  )
  (head): Linear(in_features=8, out_features=3, bias=True)
)"""


# -- Parameter ------------------------------------------------------------------------
def test_parameter_basics():
    data = mg.tensor([1.0, 2.0])
    p = nn.Parameter(data)
    assert isinstance(p, mg.Tensor) and isinstance(p, nn.Parameter)
    assert p.requires_grad and p.is_leaf
    p.detach()._array[0] = 5.0  # shares memory with data, as PyTorch's Parameter does
    assert data.tolist() == [5.0, 2.0]
    assert not nn.Parameter(data, requires_grad=False).requires_grad
    assert nn.Parameter().shape == (0,)
    assert not isinstance(p * 2, nn.Parameter)  # results of ops are plain tensors


def test_parameter_repr():
    assert repr(nn.Parameter(mg.tensor([1.0, 2.0]))) == (
        "Parameter containing:\ntensor([1., 2.], requires_grad=True)"
    )
    assert repr(nn.Parameter(mg.tensor([1.0, 2.0]), requires_grad=False)) == (
        "Parameter containing:\ntensor([1., 2.])"
    )
    assert repr(nn.Parameter()) == "Parameter containing:\ntensor([], requires_grad=True)"


def test_parameter_of_non_leaf_is_a_leaf():
    x = mg.ones(3, requires_grad=True)
    p = nn.Parameter(x * 2)
    assert p.is_leaf and p.grad_fn is None and p.requires_grad


def test_parameter_errors():
    with pytest.raises(TypeError, match="Parameter: expected data to be a Tensor"):
        nn.Parameter([1.0, 2.0])
    with pytest.raises(RuntimeError, match="only floating point"):
        nn.Parameter(mg.tensor([1, 2]))


def test_parameter_deepcopy_and_pickle():
    p = nn.Parameter(mg.tensor([1.0, 2.0]))
    p.grad = mg.ones(2)
    q = copy.deepcopy(p)
    assert type(q) is nn.Parameter and q.requires_grad and q.grad is None
    assert q.tolist() == [1.0, 2.0] and not np.shares_memory(q._array, p._array)
    r = pickle.loads(pickle.dumps(nn.Parameter(mg.tensor([3.0]), requires_grad=False)))
    assert type(r) is nn.Parameter and not r.requires_grad and r.tolist() == [3.0]


# -- registration ---------------------------------------------------------------------
def test_registration_order_and_lookup():
    m = nn.Module()
    m.b = nn.Parameter(mg.zeros(1))
    m.a = nn.Linear(2, 2)
    m.register_buffer("buf", mg.zeros(2))
    m.c = nn.Parameter(mg.zeros(2))
    m.plain = 3
    assert [n for n, _ in m.named_parameters()] == ["b", "c", "a.weight", "a.bias"]
    assert list(m._parameters) == ["b", "c"] and list(m._modules) == ["a"]
    assert m.buf is m._buffers["buf"] and m.plain == 3 and "plain" in m.__dict__
    assert [n for n, _ in m.named_parameters(recurse=False)] == ["b", "c"]
    assert [n for n, _ in m.named_parameters(prefix="model")] == [
        "model.b", "model.c", "model.a.weight", "model.a.bias",
    ]  # fmt: skip
    assert list(m.children()) == [m.a]
    with pytest.raises(AttributeError, match="'Module' object has no attribute 'missing'"):
        _ = m.missing


def test_reassignment_moves_between_tables():
    m = nn.Module()
    m.x = nn.Parameter(mg.zeros(1))
    m.x = None  # stays a registered (empty) parameter, as PyTorch
    assert "x" in m._parameters and m.x is None and list(m.parameters()) == []
    with pytest.raises(TypeError, match="cannot assign '.*Linear' as parameter 'x'"):
        m.x = nn.Linear(1, 1)  # a parameter slot takes only a Parameter or None
    m.z = nn.Linear(1, 1)
    m.z = nn.Parameter(mg.zeros(1))  # a Parameter replaces the module slot
    assert "z" not in m._modules and m._parameters["z"] is m.z
    m.w = nn.Parameter(mg.zeros(1))
    del m.w
    m.w = nn.Linear(1, 1)
    assert "w" not in m._parameters and m._modules["w"] is m.w
    m.register_buffer("y", mg.zeros(1))
    m.y = mg.ones(2)  # assigning a tensor to a buffer name updates the buffer
    assert m._buffers["y"].tolist() == [1.0, 1.0]
    m.y = nn.Parameter(mg.zeros(3))
    assert "y" not in m._buffers and "y" in m._parameters
    del m.y, m.x, m.w
    assert "y" not in m._parameters and "x" not in m._parameters and "w" not in m._modules
    with pytest.raises(AttributeError):
        del m.y


def test_assignment_errors():
    lin = nn.Linear(2, 2)
    with pytest.raises(TypeError, match=(
        r"cannot assign 'minigrad.FloatTensor' as parameter 'weight' "
        r"\(minigrad.nn.Parameter or None expected\)"
    )):  # fmt: skip
        lin.weight = mg.zeros(2, 2)
    seq = nn.Sequential(nn.ReLU())
    with pytest.raises(TypeError, match="cannot assign 'int' as child module '0'"):
        setattr(seq, "0", 3)
    lin.register_buffer("b2", mg.zeros(1))
    with pytest.raises(TypeError, match="cannot assign 'list' as buffer 'b2'"):
        lin.b2 = [1.0]

    class NoInit(nn.Module):
        def __init__(self, value):
            self.x = value

    with pytest.raises(AttributeError, match=r"cannot assign module before Module.__init__\(\)"):
        NoInit(nn.ReLU())
    with pytest.raises(AttributeError, match=r"cannot assign parameters before Module"):
        NoInit(nn.Parameter(mg.zeros(1)))


def test_register_errors():
    m = nn.Linear(2, 2)
    with pytest.raises(KeyError) as info:
        m.register_parameter("a.b", None)
    assert info.value.args[0] == 'parameter name can\'t contain "."'
    with pytest.raises(KeyError) as info:
        m.register_parameter("", None)
    assert info.value.args[0] == 'parameter name can\'t be empty string ""'
    with pytest.raises(KeyError) as info:
        m.register_parameter("training", None)
    assert info.value.args[0] == "attribute 'training' already exists"
    with pytest.raises(TypeError, match="parameter name should be a string. Got int"):
        m.register_parameter(1, None)
    with pytest.raises(
        TypeError,
        match=r"cannot assign 'minigrad.FloatTensor' object to "
        r"parameter 'z' \(minigrad.nn.Parameter or None",
    ):
        m.register_parameter("z", mg.zeros(2))
    with pytest.raises(TypeError, match=r"cannot assign 'list' object to buffer 'w'"):
        m.register_buffer("w", [1])
    with pytest.raises(KeyError, match="attribute 'weight' already exists"):
        m.register_buffer("weight", mg.zeros(1))
    with pytest.raises(TypeError, match="int is not a Module subclass"):
        m.add_module("x", 3)
    with pytest.raises(KeyError) as info:
        m.add_module("a.b", nn.ReLU())
    assert info.value.args[0] == 'module name can\'t contain ".", got: a.b'
    with pytest.raises(KeyError, match="attribute 'bias' already exists"):
        m.add_module("bias", nn.ReLU())


def test_non_leaf_parameter_is_rejected():
    p = nn.Parameter(mg.ones(2))
    q = object.__new__(nn.Parameter)  # a Parameter with history (cannot be built normally)
    q._init(p._array, p.device)
    q.grad_fn = (p * 2).grad_fn
    m = nn.Module()
    with pytest.raises(ValueError, match="Cannot assign non-leaf Tensor to parameter 'w'"):
        m.register_parameter("w", q)


def test_register_module_and_forward_missing():
    m = nn.Module()
    m.register_module("act", nn.ReLU())
    assert m.act is m._modules["act"]
    with pytest.raises(
        NotImplementedError, match='Module \\[Module\\] is missing the required "forward"'
    ):
        m(mg.zeros(1))


# -- traversal ------------------------------------------------------------------------
def test_shared_parameters_and_modules_are_deduplicated():
    shared = nn.Linear(2, 2)
    m = nn.Sequential(shared, nn.ReLU(), shared)
    assert [n for n, _ in m.named_parameters()] == ["0.weight", "0.bias"]
    assert len(list(m.named_parameters(remove_duplicate=False))) == 4
    assert [n for n, _ in m.named_modules()] == ["", "0", "1"]
    assert [n for n, _ in m.named_modules(remove_duplicate=False)] == ["", "0", "1", "2"]
    assert [n for n, _ in m.named_children()] == ["0", "1"]
    # state_dict is not deduplicated: tied weights appear under every name (as PyTorch)
    assert list(m.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    tied = nn.Module()
    tied.a = nn.Linear(2, 2)
    tied.b = nn.Linear(2, 2)
    tied.b.weight = tied.a.weight
    assert [n for n, _ in tied.named_parameters()] == ["a.weight", "a.bias", "b.bias"]


def test_named_modules_and_buffers_order():
    net = Net()
    assert [n for n, _ in net.named_modules()] == [
        "", "features", "features.0", "features.1", "features.2", "features.3", "features.4",
        "head",
    ]  # fmt: skip
    assert [n for n, _ in net.named_buffers()] == [
        "scale", "tmp", "features.1.running_mean", "features.1.running_var",
        "features.1.num_batches_tracked",
    ]  # fmt: skip
    assert len(list(net.buffers())) == 5 and len(list(net.modules())) == 8
    assert [n for n, _ in net.named_parameters()] == [
        k for k in NET_KEYS if "running" not in k and "num_batches" not in k and k != "scale"
    ]
    assert net.get_submodule("features.1") is net.features[1]
    assert net.get_parameter("features.0.bias") is net.features[0].bias
    with pytest.raises(AttributeError, match="has no attribute `nope`"):
        net.get_submodule("features.nope")


def test_dir_lists_members_but_not_numeric_names():
    net = Net()
    names = dir(net)
    assert {"features", "head", "scale", "tmp", "forward", "training"} <= set(names)
    assert names == sorted(names)
    seq_names = dir(net.features)
    assert "0" not in seq_names and "append" in seq_names


# -- modes, gradients, apply ----------------------------------------------------------
def test_train_eval_propagate():
    net = Net()
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.features.train()
    assert net.features[1].training and not net.training and not net.head.training
    net.train()
    assert all(m.training for m in net.modules())
    with pytest.raises(ValueError, match="training mode is expected to be boolean"):
        net.train("yes")


def test_zero_grad_and_requires_grad_():
    lin = nn.Linear(3, 2)
    lin(mg.ones(4, 3)).sum().backward()
    assert lin.weight.grad is not None
    g = lin.weight.grad
    lin.zero_grad(set_to_none=False)
    assert lin.weight.grad is g and not g._array.any()
    lin.zero_grad()
    assert lin.weight.grad is None and lin.bias.grad is None
    assert lin.requires_grad_(False) is lin
    assert not any(p.requires_grad for p in lin.parameters())
    lin.requires_grad_()
    assert all(p.requires_grad for p in lin.parameters())


def test_apply_visits_children_first():
    net = Net()
    seen = []
    assert net.apply(lambda m: seen.append(type(m).__name__)) is net
    assert seen == [
        "Conv2d", "BatchNorm2d", "ReLU", "MaxPool2d", "Conv2d", "Sequential", "Linear", "Net",
    ]  # fmt: skip

    def init_weights(m):
        if isinstance(m, nn.Linear):
            nn.init.constant_(m.weight, 0.5)

    net.apply(init_weights)
    assert np.all(net.head.weight.detach().numpy() == 0.5)


def test_forward_hooks():
    lin = nn.Linear(2, 2)
    calls = []
    h1 = lin.register_forward_pre_hook(lambda m, args: (args[0] * 0,))
    h2 = lin.register_forward_hook(lambda m, args, out: calls.append(out.shape) or out + 1)
    out = lin(mg.ones(1, 2))
    np.testing.assert_allclose(out.detach().numpy(), lin.bias.detach().numpy()[None] + 1)
    assert calls == [(1, 2)]
    h1.remove()
    h2.remove()
    out = lin(mg.ones(1, 2))
    assert calls == [(1, 2)]
    assert out.shape == (1, 2)


# -- conversion -----------------------------------------------------------------------
def test_double_float_keep_parameter_objects():
    net = Net()
    params = list(net.parameters())
    net.head(mg.ones(1, 8)).sum().backward()
    assert net.double() is net
    assert [id(p) for p in net.parameters()] == [id(p) for p in params]
    assert all(isinstance(p, nn.Parameter) and p.dtype == mg.float64 for p in net.parameters())
    assert net.head.weight.grad.dtype == mg.float64
    assert net.features[1].running_mean.dtype == mg.float64
    assert net.features[1].num_batches_tracked.dtype == mg.int64  # integers untouched
    assert net.tmp.dtype == mg.float64
    net.float()
    assert all(p.dtype == mg.float32 for p in net.parameters())
    net.to(mg.float64)
    assert net.head.weight.dtype == mg.float64
    net.to(dtype=mg.float32)
    assert net.head.bias.dtype == mg.float32
    assert net.to("cpu") is net and net.cpu() is net
    assert net.head.weight.device == mg.device("cpu")
    y = net(mg.ones(2, 1, 8, 8))
    assert y.shape == (2, 3)


def test_to_rejects_integer_dtype():
    with pytest.raises(TypeError, match="nn.Module.to only accepts floating point"):
        nn.Linear(1, 1).to(mg.int64)


def test_cuda_without_gpu_raises_clear_error(monkeypatch):
    from minigrad import _device

    # as on a machine without a GPU, whether or not this one has one (or the simulator)
    monkeypatch.setattr(_device, "_cuda_problem", lambda: "no CUDA GPU or driver was found")
    lin = nn.Linear(2, 2)
    for call in (lin.cuda, lambda: lin.to("cuda"), lambda: lin.to("cuda", mg.float64)):
        with pytest.raises(RuntimeError, match="device 'cuda.*no CUDA GPU or driver was found"):
            call()
    assert lin.weight.device == mg.device("cpu") and lin.weight.dtype == mg.float32


# -- state_dict -----------------------------------------------------------------------
def test_state_dict_keys_and_order():
    net = Net()
    sd = net.state_dict()
    assert isinstance(sd, OrderedDict)
    assert list(sd) == NET_KEYS
    assert "tmp" not in sd  # non-persistent buffer
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Sequential(nn.BatchNorm1d(3)))
    assert list(seq.state_dict()) == [
        "0.weight", "0.bias", "2.0.weight", "2.0.bias", "2.0.running_mean",
        "2.0.running_var", "2.0.num_batches_tracked",
    ]  # fmt: skip
    named = nn.Sequential(OrderedDict(fc=nn.Linear(2, 2), bn=nn.BatchNorm1d(2, affine=False)))
    assert list(named.state_dict()) == [
        "fc.weight", "fc.bias", "bn.running_mean", "bn.running_var", "bn.num_batches_tracked",
    ]  # fmt: skip
    assert list(nn.BatchNorm2d(3, track_running_stats=False).state_dict()) == ["weight", "bias"]
    assert list(named.state_dict(prefix="model.")) == ["model." + k for k in named.state_dict()]


def test_state_dict_values_are_detached_views():
    lin = nn.Linear(2, 2)
    sd = lin.state_dict()
    w = sd["weight"]
    assert type(w) is mg.Tensor and not w.requires_grad and w.grad_fn is None
    assert np.shares_memory(w._array, lin.weight._array)
    kept = lin.state_dict(keep_vars=True)
    assert kept["weight"] is lin.weight


def test_load_state_dict_round_trip_keeps_objects():
    src, dst = Net(), Net()
    with mg.no_grad():
        src.features[1].running_mean.add_(3.0)
        src.features[1].num_batches_tracked.add_(7)
    params = {n: p for n, p in dst.named_parameters()}
    arrays = {n: p._array for n, p in dst.named_parameters()}
    result = dst.load_state_dict(src.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert repr(result) == "<All keys matched successfully>"
    for name, p in dst.named_parameters():
        assert p is params[name] and p._array is arrays[name]  # copied in place
    for (k, a), (_, b) in zip(src.state_dict().items(), dst.state_dict().items()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=k)
    assert dst.features[1].num_batches_tracked.item() == 7
    x = mg.randn(2, 1, 8, 8)
    np.testing.assert_array_equal(src.eval()(x).detach().numpy(), dst.eval()(x).detach().numpy())


def test_load_state_dict_strict_errors():
    lin = nn.Linear(3, 2)
    before = lin.weight.detach().numpy().copy()
    with pytest.raises(RuntimeError) as info:
        lin.load_state_dict({"weight": mg.zeros(3, 3), "extra": mg.zeros(1)})
    assert str(info.value) == (
        "Error(s) in loading state_dict for Linear:\n"
        '\tMissing key(s) in state_dict: "bias". \n'
        '\tUnexpected key(s) in state_dict: "extra". \n'
        "\tsize mismatch for weight: copying a param with shape minigrad.Size([3, 3]) from "
        "checkpoint, the shape in current model is minigrad.Size([2, 3])."
    )
    np.testing.assert_array_equal(lin.weight.detach().numpy(), before)
    with pytest.raises(RuntimeError) as info:
        lin.load_state_dict({"weight": mg.zeros(2, 3), "bias": mg.zeros(2), "x.y": mg.zeros(1)})
    assert str(info.value) == (
        'Error(s) in loading state_dict for Linear:\n\tUnexpected key(s) in state_dict: "x.y". '
    )
    net = Net()
    with pytest.raises(RuntimeError, match=(
        r'Missing key\(s\) in state_dict: "features\.0\.weight", "head\.bias"\. '
    )):  # fmt: skip
        sd = net.state_dict()
        del sd["features.0.weight"], sd["head.bias"]
        net.load_state_dict(sd)
    with pytest.raises(RuntimeError, match=(
        r'While copying the parameter named "bias", expected minigrad.Tensor or Tensor-like '
        r"object from checkpoint but received <class 'list'>"
    )):  # fmt: skip
        lin.load_state_dict({"weight": mg.zeros(2, 3), "bias": [0.0, 0.0]})
    with pytest.raises(TypeError, match="Expected state_dict to be dict-like"):
        lin.load_state_dict([("weight", mg.zeros(2, 3))])


def test_load_state_dict_non_strict():
    lin = nn.Linear(3, 2)
    result = lin.load_state_dict({"weight": mg.ones(2, 3), "junk": mg.zeros(1)}, strict=False)
    assert result == (["bias"], ["junk"])
    assert result.missing_keys == ["bias"] and result.unexpected_keys == ["junk"]
    assert repr(result) == "_IncompatibleKeys(missing_keys=['bias'], unexpected_keys=['junk'])"
    assert np.all(lin.weight.detach().numpy() == 1.0)
    with pytest.raises(RuntimeError, match="size mismatch for weight"):
        lin.load_state_dict({"weight": mg.ones(3, 3)}, strict=False)


def test_load_state_dict_accepts_numpy_and_casts():
    lin = nn.Linear(2, 2).double()
    w = np.arange(4, dtype=np.float32).reshape(2, 2)
    lin.load_state_dict({"weight": w, "bias": mg.tensor([1.0, 2.0])})
    assert lin.weight.dtype == mg.float64
    np.testing.assert_array_equal(lin.weight.detach().numpy(), w)
    assert not np.shares_memory(lin.weight._array, w)


def test_load_state_dict_without_num_batches_tracked():
    # checkpoints without metadata (e.g. converted from another framework) may omit it
    bn = nn.BatchNorm1d(3)
    sd = {k: v for k, v in bn.state_dict().items() if k != "num_batches_tracked"}
    assert bn.load_state_dict(sd).missing_keys == []
    sd = OrderedDict(sd)
    sd._metadata = {"": {"version": 2}}
    with pytest.raises(
        RuntimeError, match='Missing key\\(s\\) in state_dict: "num_batches_tracked"'
    ):
        bn.load_state_dict(sd)


def test_load_state_dict_assign():
    lin = nn.Linear(2, 2)
    new_w = mg.ones(2, 2)
    lin.load_state_dict({"weight": new_w, "bias": mg.zeros(2)}, assign=True)
    assert isinstance(lin.weight, nn.Parameter) and lin.weight.requires_grad
    assert np.shares_memory(lin.weight._array, new_w._array)


def test_optimizer_style_updates_keep_identity():
    lin = nn.Linear(2, 1)
    w = lin.weight
    lin(mg.ones(3, 2)).sum().backward()
    with mg.no_grad():
        for p in lin.parameters():
            p -= 0.1 * p.grad
    lin.weight.data = lin.weight.data * 2
    assert lin.weight is w and lin.state_dict(keep_vars=True)["weight"] is w


def test_deepcopy_and_pickle_module():
    net = Net()
    alive = net(mg.randn(1, 1, 8, 8)).sum()  # a live graph holds the parameters' accumulators
    clone = copy.deepcopy(net)
    clone(mg.randn(1, 1, 8, 8)).sum().backward()
    assert net.head.weight.grad is None and clone.head.weight.grad is not None
    alive.backward()
    assert net.head.weight.grad is not None
    assert list(clone.state_dict()) == NET_KEYS
    for (n, a), (_, b) in zip(net.named_parameters(), clone.named_parameters()):
        assert a is not b and isinstance(b, nn.Parameter)
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy(), err_msg=n)
    loaded = pickle.loads(pickle.dumps(net))
    assert repr(loaded) == NET_REPR
    x = mg.randn(1, 1, 8, 8)
    net.eval()
    loaded.eval()
    np.testing.assert_allclose(net(x).detach().numpy(), loaded(x).detach().numpy())


# -- repr -----------------------------------------------------------------------------
def test_nested_repr():
    assert repr(Net()) == NET_REPR
    assert repr(nn.Sequential()) == "Sequential()"
    assert repr(nn.ModuleList()) == "ModuleList()"

    class WithExtra(nn.Module):
        def __init__(self):
            super().__init__()
            self.act = nn.ReLU()

        def extra_repr(self):
            return "alpha=1\nbeta=2"

    assert repr(WithExtra()) == "WithExtra(\n  alpha=1\n  beta=2\n  (act): ReLU()\n)"


def test_module_list_repr_compresses_repeats():
    ml = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)] + [nn.ReLU(), nn.ReLU()])
    assert repr(ml) == (
        "ModuleList(\n"
        "  (0-2): 3 x Linear(in_features=2, out_features=2, bias=True)\n"
        "  (3-4): 2 x ReLU()\n"
        ")"
    )
    nested = nn.ModuleList([nn.Sequential(nn.ReLU()), nn.Tanh()])
    assert repr(nested) == (
        "ModuleList(\n  (0): Sequential(\n    (0): ReLU()\n  )\n  (1): Tanh()\n)"
    )


def test_module_dict_repr():
    md = nn.ModuleDict({"a": nn.ReLU(), "b": nn.Linear(1, 1)})
    assert repr(md) == (
        "ModuleDict(\n  (a): ReLU()\n  (b): Linear(in_features=1, out_features=1, bias=True)\n)"
    )


# -- containers -----------------------------------------------------------------------
def test_sequential_indexing_and_forward():
    a, b, c = nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)
    seq = nn.Sequential(a, b, c)
    assert len(seq) == 3 and list(seq) == [a, b, c]
    assert seq[0] is a and seq[-1] is c and seq[-3] is a
    sub = seq[1:]
    assert type(sub) is nn.Sequential and list(sub._modules) == ["1", "2"] and sub[0] is b
    with pytest.raises(IndexError, match="index 3 is out of range"):
        seq[3]
    with pytest.raises(IndexError, match="index -4 is out of range"):
        seq[-4]
    x = mg.randn(4, 2)
    np.testing.assert_allclose(seq(x).detach().numpy(), c(b(a(x))).detach().numpy())


def test_sequential_ordered_dict_and_mutation():
    seq = nn.Sequential(OrderedDict([("conv", nn.Conv2d(1, 2, 3)), ("act", nn.ReLU())]))
    assert list(seq._modules) == ["conv", "act"] and seq.conv is seq[0]
    seq2 = nn.Sequential(nn.ReLU(), nn.Tanh(), nn.Sigmoid())
    assert seq2.append(nn.Identity()) is seq2 and list(seq2._modules) == ["0", "1", "2", "3"]
    del seq2[1]
    assert list(seq2._modules) == ["0", "1", "2"]
    assert [type(m).__name__ for m in seq2] == ["ReLU", "Sigmoid", "Identity"]
    seq2[0] = nn.ELU()
    assert isinstance(seq2[0], nn.ELU)
    seq2.insert(1, nn.Tanh())
    assert [type(m).__name__ for m in seq2] == ["ELU", "Tanh", "Sigmoid", "Identity"]
    assert isinstance(seq2.pop(-1), nn.Identity) and len(seq2) == 3
    seq2.extend([nn.ReLU()])
    assert len(seq2) == 4 and len(seq2 + seq) == 6 and len(seq * 2) == 4
    del seq2[1:3]
    assert [type(m).__name__ for m in seq2] == ["ELU", "ReLU"]
    with pytest.raises(ValueError, match="add operator supports only objects of Sequential"):
        seq + [nn.ReLU()]


def test_module_list():
    layers = nn.ModuleList([nn.Linear(2, 2), nn.ReLU()])
    layers.append(nn.Linear(2, 1))
    layers.extend([nn.Sigmoid()])
    layers.insert(1, nn.Tanh())
    assert [type(m).__name__ for m in layers] == ["Linear", "Tanh", "ReLU", "Linear", "Sigmoid"]
    assert list(layers._modules) == ["0", "1", "2", "3", "4"]
    assert [n for n, _ in layers.named_parameters()] == ["0.weight", "0.bias", "3.weight", "3.bias"]
    assert layers[-1] is layers[4] and type(layers[1:3]) is nn.ModuleList and len(layers[1:3]) == 2
    del layers[0]
    assert list(layers._modules) == ["0", "1", "2", "3"] and isinstance(layers[0], nn.Tanh)
    with pytest.raises(IndexError, match="index 4 is out of range"):
        layers[4]
    with pytest.raises(TypeError, match="ModuleList.extend should be called with an iterable"):
        layers.extend(nn.ReLU())
    with pytest.raises(NotImplementedError):
        layers(mg.zeros(1))

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = nn.ModuleList(nn.Linear(2, 2) for _ in range(2))

    assert list(Model().state_dict()) == [
        "blocks.0.weight", "blocks.0.bias", "blocks.1.weight", "blocks.1.bias",
    ]  # fmt: skip


def test_module_dict():
    md = nn.ModuleDict({"b": nn.ReLU(), "a": nn.Linear(1, 1)})
    assert list(md) == ["b", "a"] and list(md.keys()) == ["b", "a"]  # insertion order kept
    md.update([("c", nn.Tanh())])
    md["d"] = nn.Sigmoid()
    assert "c" in md and len(md) == 4 and isinstance(md["c"], nn.Tanh)
    assert [n for n, _ in md.named_parameters()] == ["a.weight", "a.bias"]
    assert isinstance(md.pop("b"), nn.ReLU) and "b" not in md
    assert [k for k, _ in md.items()] == ["a", "c", "d"] and len(list(md.values())) == 3
    with pytest.raises(ValueError, match="ModuleDict update sequence element #0 has length 1"):
        md.update([("x",)])
    with pytest.raises(TypeError, match="ModuleDict.update should be called with an iterable"):
        md.update(3)
    md.clear()
    assert len(md) == 0


def test_identity_flatten_unflatten():
    x = mg.randn(2, 3, 4, 5)
    assert nn.Identity(54, unused="x")(x) is x
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(0, 2)(x).shape == (24, 5)
    assert repr(nn.Flatten()) == "Flatten(start_dim=1, end_dim=-1)"
    y = nn.Unflatten(1, (3, 20))(nn.Flatten()(x))
    np.testing.assert_array_equal(y.reshape(2, 3, 4, 5).numpy(), x.numpy())
    assert nn.Unflatten(-1, (5, -1))(mg.zeros(2, 10)).shape == (2, 5, 2)
    assert repr(nn.Unflatten(1, (2, 3))) == "Unflatten(dim=1, unflattened_size=(2, 3))"
    with pytest.raises(RuntimeError, match="don't multiply up to the size of dim 1"):
        nn.Unflatten(1, (4, 4))(mg.zeros(2, 10))
    with pytest.raises(TypeError, match="unflattened_size must be tuple of ints"):
        nn.Unflatten(1, 3)
