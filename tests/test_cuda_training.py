"""Training on 'cuda' equals training on the CPU: LeNet and a small residual network take
the same SGD steps (losses and parameters to 1e-5), on a GPU or under the simulator.

Shapes are tiny because the simulator runs every GPU thread as a Python thread."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn
from minigrad.models.blocks import BasicBlock, conv1x1, conv3x3
from minigrad.models.lenet import lenet

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not mg.cuda.is_available(), reason="no GPU and MINIGRAD_CUDA_SIM=0"),
]


def small_resnet() -> nn.Module:
    """Stem, an identity block, a strided block with a 1x1 projection, pool, classifier."""
    down = nn.Sequential(conv1x1(4, 8, stride=2), nn.BatchNorm2d(8))
    return nn.Sequential(
        conv3x3(1, 4),
        nn.BatchNorm2d(4),
        nn.ReLU(inplace=True),
        BasicBlock(4, 4),
        BasicBlock(4, 8, stride=2, downsample=down),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(8, 10),
    )


def _train(make, device: str, shape, steps: int = 2):
    """Losses and final parameters (host arrays) of ``steps`` SGD-momentum steps."""
    mg.manual_seed(0)
    model = make().to(device)
    opt = mg.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4)
    rng = np.random.default_rng(0)
    losses = []
    for _ in range(steps):
        x = mg.tensor(rng.standard_normal(shape).astype(np.float32)).to(device)
        y = mg.tensor(rng.integers(0, 10, shape[0])).to(device)
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    for p in model.parameters():
        assert p.device == mg.device(device)
    params = [p.detach().cpu().numpy() for p in model.parameters()]
    buffers = [b.cpu().numpy() for b in model.buffers()]
    return losses, params, buffers


@pytest.mark.parametrize(
    "make, shape",
    [(lenet, (2, 1, 28, 28)), (small_resnet, (2, 1, 6, 6))],
    ids=["lenet", "small_resnet"],
)
def test_training_steps_on_cuda_equal_the_cpu_steps(make, shape):
    cpu_losses, cpu_params, cpu_buffers = _train(make, "cpu", shape)
    cuda_losses, cuda_params, cuda_buffers = _train(make, "cuda", shape)
    np.testing.assert_allclose(cuda_losses, cpu_losses, rtol=1e-5, atol=1e-5)
    for got, want in zip(cuda_params + cuda_buffers, cpu_params + cpu_buffers):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_a_wrong_target_on_cuda_raises_at_the_next_sync():
    """The class-index check stays on the GPU (no wait per step) and raises at .item()."""
    x = mg.randn(3, 4, device="cuda", requires_grad=True)
    loss = F.cross_entropy(x, mg.tensor([0, 7, 1], device="cuda"))
    with pytest.raises(IndexError, match="target 7 is out of bounds for 4 classes"):
        loss.item()
    assert F.cross_entropy(x, mg.tensor([0, 3, 1], device="cuda")).item() > 0  # queue empty


def test_copy_between_devices_carries_values_and_gradients():
    """Mirrors ``Tensor.copy_`` across devices: values move, the gradient goes back."""
    src = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    dst = mg.zeros(3, device="cuda")
    dst.copy_(src * 2)
    assert dst.device == mg.device("cuda") and dst.tolist() == [2.0, 4.0, 6.0]
    (dst * mg.tensor([1.0, 10.0, 100.0], device="cuda")).sum().backward()
    assert src.grad.device == mg.device("cpu")
    assert src.grad.tolist() == [2.0, 20.0, 200.0]
    back = mg.empty(3)
    back.copy_(dst.detach())
    assert back.tolist() == [2.0, 4.0, 6.0]


def test_synchronize_reads_the_queued_device_checks():
    x = mg.randn(2, 3, device="cuda")
    F.nll_loss(x, mg.tensor([5, 0], device="cuda"))  # no wait here
    with pytest.raises(IndexError, match="target 5 is out of bounds for 3 classes"):
        mg.cuda.synchronize()
    mg.cuda.synchronize()  # the queue is empty again
