"""Mirrors ``torch.nn.functional``: stateless layers, checking arguments before any kernel.

One module per family; this package re-exports them under PyTorch's names."""

from __future__ import annotations

from minigrad.nn.functional._activation import (  # noqa: F401
    elu,
    elu_,
    gelu,
    hardsigmoid,
    hardswish,
    hardtanh,
    hardtanh_,
    leaky_relu,
    leaky_relu_,
    log_softmax,
    relu,
    relu6,
    relu_,
    sigmoid,
    silu,
    softmax,
    softmin,
    softplus,
    tanh,
)
from minigrad.nn.functional._conv import (  # noqa: F401
    conv1d,
    conv2d,
    conv3d,
    conv_transpose1d,
    conv_transpose2d,
    conv_transpose3d,
)
from minigrad.nn.functional._linear import (  # noqa: F401
    dropout,
    dropout1d,
    dropout2d,
    dropout3d,
    linear,
)
from minigrad.nn.functional._loss import (  # noqa: F401
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    l1_loss,
    mse_loss,
    nll_loss,
)
from minigrad.nn.functional._norm import batch_norm  # noqa: F401
from minigrad.nn.functional._pad import pad  # noqa: F401
from minigrad.nn.functional._pool import (  # noqa: F401
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    adaptive_max_pool1d,
    adaptive_max_pool2d,
    avg_pool1d,
    avg_pool2d,
    avg_pool3d,
    max_pool1d,
    max_pool2d,
    max_pool3d,
)
