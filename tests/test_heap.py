"""The C heap policy of ``minigrad._heap``: applied once on glibc, never against the user's
own choice."""

from __future__ import annotations

import platform
import sys

import pytest

from minigrad import _heap

glibc = pytest.mark.skipif(
    not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc",
    reason="the heap policy applies to glibc only",
)


@glibc
def test_loading_the_cpu_backend_applies_it():
    import minigrad._backends.cpu  # noqa: F401

    assert _heap.tune_heap() is True


@glibc
def test_mallopt_accepts_the_thresholds(monkeypatch):
    for key in ("MINIGRAD_HEAP_TUNING", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_"):
        monkeypatch.delenv(key, raising=False)
    assert _heap._tune() is True


@pytest.mark.parametrize(
    "key, value",
    [("MINIGRAD_HEAP_TUNING", "0"), ("MALLOC_MMAP_THRESHOLD_", "131072"),
     ("MALLOC_TRIM_THRESHOLD_", "0")],
)  # fmt: skip
def test_opting_out_or_the_users_own_setting_leaves_the_heap_alone(monkeypatch, key, value):
    monkeypatch.setenv(key, value)
    assert _heap._tune() is False
