"""Model zoo: output shapes, parameter counts and state-dict keys as torchvision's, and
gradients through every block."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad import models, nn
from minigrad.testing._checks import directional_check


def n_params(model) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize(
    "build, expected",
    [
        (models.lenet, 61_706),
        (models.resnet18, 11_689_512),  # torchvision's counts, 1000 classes
        (models.resnet34, 21_797_672),
        (models.resnet50, 25_557_032),
        (models.resnet20, 269_722),  # He et al.: 0.27 M
        (models.resnet56, 853_018),
    ],
)
def test_parameter_counts(build, expected):
    assert n_params(build()) == expected


def test_resnet18_state_dict_keys_are_torchvision_keys():
    keys = list(models.resnet18().state_dict())
    assert keys[:6] == [
        "conv1.weight",
        "bn1.weight",
        "bn1.bias",
        "bn1.running_mean",
        "bn1.running_var",
        "bn1.num_batches_tracked",
    ]
    assert "layer2.0.downsample.0.weight" in keys and "layer2.0.downsample.1.running_var" in keys
    assert "layer4.1.bn2.num_batches_tracked" in keys
    assert keys[-2:] == ["fc.weight", "fc.bias"]
    assert len(keys) == 122


def test_lenet_keys_and_output_shape():
    model = models.lenet()
    assert list(model.state_dict())[:2] == ["0.weight", "0.bias"]
    assert list(model.state_dict())[-1] == "11.bias"
    assert model(mg.randn(3, 1, 28, 28)).shape == (3, 10)


@pytest.mark.parametrize("build", [models.resnet18, models.resnet50])
def test_resnet_forward_shape_on_small_images(build):
    model = build(in_channels=1, num_classes=7, small_input=True)
    model.eval()
    assert model(mg.randn(2, 1, 16, 16)).shape == (2, 7)


def test_cifar_resnet_rejects_bad_depth():
    with pytest.raises(ValueError, match="6n"):
        models.CifarResNet(depth=21)


BLOCKS = [
    ("basic", lambda: models.BasicBlock(4, 4), 4, 4),
    (
        "basic_down",
        lambda: models.BasicBlock(
            4, 8, 2, nn.Sequential(nn.Conv2d(4, 8, 1, stride=2, bias=False), nn.BatchNorm2d(8))
        ),
        4,
        8,
    ),
    ("bottleneck", lambda: models.Bottleneck(16, 4), 16, 16),
    ("preact", lambda: models.PreActBlock(4, 6, stride=2), 4, 6),
    ("se", lambda: models.SqueezeExcitation(8, 2), 8, 8),
    ("depthwise_separable", lambda: models.DepthwiseSeparableConv(4, 6), 4, 6),
    ("mbconv", lambda: models.MBConv(8, 8, expand_ratio=2), 8, 8),
    ("mbconv_stride", lambda: models.MBConv(8, 16, stride=2), 8, 16),
    ("fused_mbconv", lambda: models.FusedMBConv(8, 8, expand_ratio=2), 8, 8),
    ("fused_mbconv_1", lambda: models.FusedMBConv(8, 8, expand_ratio=1), 8, 8),
    ("inception", lambda: models.InceptionBlock(4, 2, 2, 3, 1, 2, 2), 4, 9),
]


@pytest.mark.parametrize("name, build, c_in, c_out", BLOCKS, ids=[b[0] for b in BLOCKS])
def test_block_shapes_and_gradients(name, build, c_in, c_out):
    mg.manual_seed(1)
    block = build().double()
    x = mg.randn(2, c_in, 6, 6, dtype=mg.float64, requires_grad=True)
    y = block(x)
    assert y.shape[:2] == (2, c_out)
    params = [p for p in block.parameters()]
    tensors = [x] + params

    def fn(*ts):
        with mg.no_grad():
            for p, t in zip(params, ts[1:]):
                p.data = t.detach()
        return block(ts[0])

    directional_check(fn, tensors, grad_args=range(len(tensors)), rtol=1e-5, atol=1e-6)


def test_block_gradcheck_full_jacobian():
    mg.manual_seed(2)
    block = models.BasicBlock(2, 2).double()
    x = mg.randn(1, 2, 4, 4, dtype=mg.float64, requires_grad=True)
    assert mg.autograd.gradcheck(block, (x,))


def test_models_train_one_step_and_eval_is_deterministic():
    mg.manual_seed(0)
    model = models.resnet20(in_channels=1)
    x, y = mg.randn(4, 1, 12, 12), mg.tensor([0, 1, 2, 3])
    nn.functional.cross_entropy(model(x), y).backward()
    assert all(p.grad is not None for p in model.parameters())
    model.eval()
    a, b = model(x).detach().numpy(), model(x).detach().numpy()
    assert np.array_equal(a, b)
