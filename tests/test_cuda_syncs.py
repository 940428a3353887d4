"""The host<->device round-trip counter of the CUDA backend (``_backends/cuda/_syncs.py``),
which the GPU benchmark uses to report syncs per training step."""

from __future__ import annotations

import pytest

import minigrad as mg

pytestmark = pytest.mark.cuda


@pytest.fixture
def syncs():
    if not mg.cuda.is_available():
        pytest.skip("CUDA is not available (no GPU, and MINIGRAD_CUDA_SIM=0)")
    from minigrad._backends.cuda import _syncs

    return _syncs


def test_each_host_wait_counts_once(syncs):
    x = mg.ones(3, device="cuda")
    with syncs.count_syncs() as c:
        y = (x * x).sum()
        assert y.item() == 3.0
        assert bool(y)
        assert float(y) == 3.0
        assert x.cpu().tolist() == [1.0, 1.0, 1.0]
        assert x.tolist() == [1.0, 1.0, 1.0]
    assert dict(c.by_kind) == {"item": 3, "to_host": 2}  # bool and float read through item
    assert c.syncs == 5 and c.h2d == 0
    if syncs._arrays.SIMULATOR:  # on a GPU some CuPy types may refuse a wrapper; listed there
        assert not c.unhooked, c.unhooked


def test_device_work_alone_does_not_sync(syncs):
    x = mg.ones(2, 3, device="cuda", requires_grad=True)
    with syncs.count_syncs() as c:
        (x * x).sum().backward()
    assert c.syncs == 0, c


def test_host_copies_and_mask_indexing(syncs):
    x = mg.ones(4, device="cuda")
    with syncs.count_syncs() as c:
        mg.tensor([1.0, 2.0]).to("cuda")
        x._array[x._array > 0]  # the result's size is only known on the device
    assert c.h2d == 1 and dict(c.by_kind) == {"mask-index": 1}


def test_nothing_stays_wrapped(syncs):
    from minigrad._backends.cuda import _arrays

    before = (_arrays.to_host, _arrays.from_host)
    arr_type = type(mg.ones(1, device="cuda")._array)
    item_before = arr_type.item
    with pytest.raises(ZeroDivisionError), syncs.count_syncs():
        1 / 0
    assert (_arrays.to_host, _arrays.from_host) == before
    assert arr_type.item is item_before
    with syncs.count_syncs() as c:
        with pytest.raises(RuntimeError, match="do not nest"), syncs.count_syncs():
            pass
    assert c.syncs == 0
