"""mg.get_rng_state / mg.set_rng_state (as torch's): exact round trip of the generator."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg


def test_round_trip_repeats_every_draw_after_it():
    mg.manual_seed(123)
    mg.randn(3)
    state = mg.get_rng_state()
    assert state.dtype == mg.uint8 and tuple(state.shape) == (48,)
    a = [mg.randn(5).numpy(), mg.rand(2, 2).numpy(), mg.randint(0, 9, (4,)).numpy()]
    mg.manual_seed(7)  # move the generator and the seed elsewhere
    mg.randn(11)
    mg.set_rng_state(state)
    b = [mg.randn(5).numpy(), mg.rand(2, 2).numpy(), mg.randint(0, 9, (4,)).numpy()]
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert mg.initial_seed() == 123


def test_state_keeps_a_buffered_half_draw():
    mg.manual_seed(5)
    from minigrad._random import generator

    generator().integers(0, 2**32, dtype=np.uint32)  # leaves half of a 64-bit draw buffered
    state = mg.get_rng_state()
    want = generator().integers(0, 2**32, size=3, dtype=np.uint32)
    mg.set_rng_state(state)
    np.testing.assert_array_equal(generator().integers(0, 2**32, size=3, dtype=np.uint32), want)


def test_state_survives_save_and_load(tmp_path):
    mg.manual_seed(9)
    mg.save({"rng": mg.get_rng_state()}, tmp_path / "s.pt")
    want = mg.randn(4).numpy()
    mg.set_rng_state(mg.load(tmp_path / "s.pt")["rng"])
    np.testing.assert_array_equal(mg.randn(4).numpy(), want)


def test_old_dict_states_still_load():
    from minigrad._random import generator

    mg.manual_seed(3)
    old = generator().bit_generator.state
    want = mg.randn(3).numpy()
    mg.set_rng_state(old)
    np.testing.assert_array_equal(mg.randn(3).numpy(), want)


def test_bad_states_are_refused():
    with pytest.raises(ValueError, match="set_rng_state: expected a uint8 tensor of shape"):
        mg.set_rng_state(mg.zeros(48))
    with pytest.raises(ValueError, match=r"shape \(48,\)"):
        mg.set_rng_state(mg.get_rng_state()[:10])
    with pytest.raises(TypeError, match="set_rng_state"):
        mg.set_rng_state([1, 2, 3])
    with pytest.raises(ValueError, match="PCG64"):
        mg.set_rng_state({"bit_generator": "MT19937"})


def test_cuda_rng_state_is_the_host_state_or_refused_without_cuda():
    if mg.cuda.is_available():
        np.testing.assert_array_equal(mg.cuda.get_rng_state().numpy(), mg.get_rng_state().numpy())
        s = mg.cuda.get_rng_state_all()
        want = mg.randn(3).numpy()
        mg.cuda.set_rng_state_all(s)
        np.testing.assert_array_equal(mg.randn(3).numpy(), want)
    else:
        with pytest.raises(RuntimeError):
            mg.cuda.get_rng_state()
