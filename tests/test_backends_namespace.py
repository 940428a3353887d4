"""``minigrad.backends`` mirrors ``torch.backends``: PyTorch scripts set and read its flags."""

import minigrad as torch  # as a user's script imports it


def test_cudnn_flags_are_kept():
    torch.backends.cudnn.benchmark = True
    torch.backends.cudnn.deterministic = True
    try:
        assert torch.backends.cudnn.benchmark is True
        assert torch.backends.cudnn.deterministic is True
        assert torch.backends.cudnn.is_available() is False
    finally:
        torch.backends.cudnn.benchmark = False
        torch.backends.cudnn.deterministic = False


def test_mps_and_others_answer():
    assert torch.backends.mps.is_available() is False
    assert torch.backends.mps.is_built() is False
    assert torch.backends.mkldnn.is_available() is False
    assert isinstance(torch.backends.cuda.is_built(), bool)
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cuda.matmul.allow_tf32 = False


def test_kernels_live_under_a_private_name():
    from minigrad._backends import KERNELS, backend_for

    cpu = backend_for("cpu")
    assert all(callable(getattr(cpu, name)) for name in KERNELS)
    assert not hasattr(torch.backends, "KERNELS")
