"""Mirrors ``torch.profiler``: time and call count per op (forward, and backward as
``ConvBackward0``-style nodes), per kernel host wrapper (``cpu::conv_forward``), and Numba's
compiles and cache loads apart (``numba::compile ...``), with self and total time.

    with mg.profiler.profile() as prof:
        loss = model(x).sum(); loss.backward()
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=10))

Times are host wall-clock times. Kernels on a CUDA device are launched asynchronously; with
``ProfilerActivity.CUDA`` among ``activities`` every op and kernel on 'cuda' synchronizes
the device when it ends, so its time covers the GPU work (and counts as CUDA time), at the
cost of the overlap a real run has. Without it nothing synchronizes and no CUDA time is
reported."""

from __future__ import annotations

import enum
import functools
import json
import os
import threading

from minigrad.profiler._averages import EventList, FunctionEventAvg, key_averages
from minigrad.profiler._recorder import Event, Recorder

__all__ = ["profile", "record_function", "ProfilerActivity", "EventList", "FunctionEventAvg"]

_lock = threading.Lock()
_active: Recorder | None = None


class ProfilerActivity(enum.Enum):
    """Mirrors ``torch.profiler.ProfilerActivity``."""

    CPU = 0
    CUDA = 1


class profile:
    """Mirrors ``torch.profiler.profile(activities=None, record_shapes=False)``: records
    while entered (or between ``start()`` and ``stop()``)."""

    def __init__(self, activities=None, record_shapes: bool = False):
        activities = set(activities) if activities is not None else {ProfilerActivity.CPU}
        for a in activities:
            if not isinstance(a, ProfilerActivity):
                raise TypeError(f"profile: activities must be ProfilerActivity values, got {a!r}")
        self.activities = activities
        self.record_shapes = bool(record_shapes)
        self._recorder: Recorder | None = None

    def start(self) -> None:
        """Begins recording; only one profile records at a time."""
        global _active
        import minigrad._backends.cpu  # noqa: F401  (its kernels are timed from the start)

        cuda = ProfilerActivity.CUDA in self.activities
        if cuda:
            from minigrad import cuda as mg_cuda

            if mg_cuda.is_available():
                import minigrad._backends.cuda  # noqa: F401
        with _lock:
            if _active is not None:
                raise RuntimeError("profile: another profiler is already recording")
            self._recorder = Recorder(self.record_shapes, sync_cuda=cuda)
            _active = self._recorder
            self._recorder.install()

    def stop(self) -> None:
        """Ends recording; the events stay available to ``key_averages`` and export."""
        global _active
        with _lock:
            if self._recorder is not None and _active is self._recorder:
                self._recorder.uninstall()
                _active = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def _events(self) -> list[Event]:
        if self._recorder is None:
            raise RuntimeError("profile: nothing recorded yet; use it as `with profile() as p:`")
        return self._recorder.events

    def events(self) -> list[Event]:
        """Every recorded range (name, kind, start/end in ns, self and total time)."""
        return list(self._events())

    def key_averages(self, group_by_input_shape: bool = False) -> EventList:
        """Mirrors ``profile.key_averages``: one row per name, or per name and input shapes
        (which only ``record_shapes=True`` records; without it every shape list is empty)."""
        with_cuda = ProfilerActivity.CUDA in self.activities
        return key_averages(self._events(), group_by_input_shape, with_cuda)

    def export_chrome_trace(self, path) -> None:
        """Mirrors ``profile.export_chrome_trace``: a JSON trace for chrome://tracing or
        Perfetto, written atomically."""
        events = sorted(self._events(), key=lambda e: e.start)
        origin = events[0].start if events else 0
        trace = []
        for e in events:
            entry = {
                "name": e.name, "cat": e.kind, "ph": "X", "pid": os.getpid(), "tid": e.thread,
                "ts": (e.start - origin) / 1e3, "dur": e.total_ns / 1e3,
            }  # fmt: skip
            if e.shapes is not None:
                entry["args"] = {"Input Dims": e.shapes}
            trace.append(entry)
        tmp = f"{os.fspath(path)}.tmp{os.getpid()}"
        with open(tmp, "w") as f:
            json.dump({"traceEvents": trace, "displayTimeUnit": "ms"}, f)
        os.replace(tmp, path)


class record_function:
    """Mirrors ``torch.profiler.record_function(name)``: a labelled range in the profile, as
    a ``with`` block or a decorator; nothing happens while no profile records."""

    def __init__(self, name: str):
        if not isinstance(name, str):
            raise TypeError(f"record_function: name must be a str, got {type(name).__name__}")
        self.name = name
        self._event = None
        self._recorder = None

    def __enter__(self):
        recorder = _active
        if recorder is not None:
            self._recorder = recorder
            self._event = recorder.begin(self.name, "user")
        return self

    def __exit__(self, *exc):
        if self._event is not None:
            self._recorder.end(self._event)
            self._event = self._recorder = None
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapped(*args, **kwargs):
            with record_function(self.name):
                return fn(*args, **kwargs)

        return wrapped
