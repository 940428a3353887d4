"""One owner of the CPU cores: how many threads minigrad's CPU kernels use, and who splits work.

Two thread pools could run minigrad's CPU work: Numba's (the parallel kernels for
convolution, pooling and padding) and the BLAS library behind NumPy's ``matmul``. On a
small machine they must never run at once: a Numba kernel started while a BLAS worker still
spins after a matrix product (OpenBLAS spins for about 0.1 s) runs several times slower, and
so does a product while Numba's workers spin. The policy here:

* Numba's pool owns the cores. Its kernels split their work over :func:`get_num_threads`
  threads, set for the calling thread before each kernel.
* BLAS runs on one thread inside every CPU kernel and matrix product of minigrad
  (:func:`blas_single_thread`, through threadpoolctl, which finds NumPy's BLAS whatever the
  import order and whatever ``OPENBLAS_NUM_THREADS`` says). The user's own NumPy calls
  outside minigrad keep their BLAS settings.
* Work that is only BLAS calls (the convolutions' matmuls, big matrix products) is split by
  :func:`run_tasks` over :func:`get_num_threads` Python threads, each calling BLAS on one
  thread while Numba's pool sleeps: two single-threaded products run 2x faster on two cores
  than one, and no worker spins. Tasks are handed out as threads free up, so a core taken by
  another process slows only its share.
* Numba's OpenMP workers sleep as soon as a kernel returns (``OMP_WAIT_POLICY=PASSIVE`` for
  Numba's OpenMP runtime only, unless the user set a wait policy), so no worker keeps a core
  busy between kernels.

benchmarks/RESULTS.md ("One owner of the CPU threads") has the measurements behind this.
Numba is imported only by the CPU backend; this module never imports it at import time.
"""

from __future__ import annotations

import os
import sys
import threading
from contextlib import nullcontext

__all__ = [
    "get_num_threads",
    "set_num_threads",
    "blas_single_thread",
    "blas_threads_for",
    "run_tasks",
]

_num_threads: int | None = None  # None: every thread of Numba's pool
_lock = threading.Lock()
_blas = {"depth": 0, "saved": [], "controller": None, "knobs": None}
_helpers = {"pool": None, "size": 0, "pid": 0}  # threads that run_tasks adds to the caller


def _pool_size() -> int:
    """Size of Numba's pool, ``numba.config.NUMBA_NUM_THREADS``, without importing Numba."""
    if "numba" in sys.modules:
        return sys.modules["numba"].config.NUMBA_NUM_THREADS
    env = os.environ.get("NUMBA_NUM_THREADS", "")
    if env.strip().isdigit() and int(env) > 0:
        return int(env)
    try:
        return max(1, len(os.sched_getaffinity(0)))  # what Numba counts
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def get_num_threads() -> int:
    """Mirrors ``torch.get_num_threads``: the number of threads minigrad's CPU kernels use.

    Defaults to the size of Numba's pool (``numba.config.NUMBA_NUM_THREADS``: the usable
    cores, or the ``NUMBA_NUM_THREADS`` environment variable)."""
    return _pool_size() if _num_threads is None else _num_threads


def set_num_threads(num_threads: int) -> None:
    """Mirrors ``torch.set_num_threads``: the number of threads minigrad's CPU kernels use.

    Governs Numba's parallel kernels (``numba.set_num_threads``) for every Python thread that
    calls minigrad, and the number of threads that share minigrad's BLAS-only work, each
    with BLAS on one thread (see this module's docstring). At most
    ``numba.config.NUMBA_NUM_THREADS`` (the usable cores unless the ``NUMBA_NUM_THREADS``
    environment variable says otherwise before Numba starts).
    Results are identical for every thread count."""
    global _num_threads
    if isinstance(num_threads, bool) or not hasattr(num_threads, "__index__"):
        raise TypeError(
            f"set_num_threads: num_threads must be an int, got {type(num_threads).__name__}"
        )
    n = num_threads.__index__()
    if n < 1:
        raise ValueError(f"set_num_threads: num_threads must be positive, got {n}")
    limit = _pool_size()
    if n > limit:
        raise ValueError(
            f"set_num_threads: num_threads={n} exceeds the {limit} threads of Numba's pool "
            "(numba.config.NUMBA_NUM_THREADS; set NUMBA_NUM_THREADS before starting Python "
            "for more)"
        )
    _num_threads = n
    if "minigrad._backends.cpu" in sys.modules:
        use_numba_threads()


# Below this many elements in its largest array a kernel runs on the calling thread alone:
# waking a sleeping worker costs about 70 us, more than such a kernel's whole work.
SMALL_KERNEL_ELEMENTS = 1 << 16


def use_numba_threads(elements: int | None = None) -> bool:
    """Give Numba's pool :func:`get_num_threads` threads for the calling Python thread, or
    one thread for a kernel over fewer than ``SMALL_KERNEL_ELEMENTS`` elements; returns
    whether it chose one thread for a small kernel (the caller restores the count after).

    Called by the CPU backend before each kernel (Numba's count is per thread); the first call
    starts Numba's workers, with OpenMP's passive wait policy unless the user chose one.
    Every kernel gives the same result for any thread count, so the choice never changes a
    result."""
    get, put = _numba_counts["get"], _numba_counts["set"]
    if get is None:
        get, put = _bind_numba_counts()
    n = get_num_threads()
    small = elements is not None and elements < SMALL_KERNEL_ELEMENTS and n > 1
    if small:
        n = 1
    if get() != n:
        put(n)
    return small


# Numba's per-thread count, read and written through its threading layer's two C functions
# once the pool runs: 0.1 us instead of the 2-3 us of numba.get_num_threads /
# set_num_threads, which take a lock and re-check the pool on every call (twice per kernel
# call). ``n`` is already checked: 1 <= get_num_threads() <= NUMBA_NUM_THREADS.
_numba_counts = {"get": None, "set": None}


def _bind_numba_counts():
    from numba.np.ufunc import parallel

    if not parallel._is_initialized:
        _start_numba_pool(parallel)
    get = getattr(parallel, "_get_num_threads", None)
    put = getattr(parallel, "_set_num_threads", None)
    if not (callable(get) and callable(put)):  # another Numba: its public functions
        get, put = parallel.get_num_threads, parallel.set_num_threads
    _numba_counts.update(get=get, set=put)
    return get, put


def _start_numba_pool(parallel) -> None:
    # OpenMP runtimes read their wait policy once, when they load: Numba's loads here. The
    # variable is set for that moment only, so other OpenMP users (PyTorch) keep their default.
    keys = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "KMP_BLOCKTIME")
    if any(k in os.environ for k in keys):
        parallel._launch_threads()
        return
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    try:
        parallel._launch_threads()
    finally:
        del os.environ["OMP_WAIT_POLICY"]


def _blas_controller():
    if _blas["controller"] is None:
        from threadpoolctl import ThreadpoolController

        _blas["controller"] = ThreadpoolController().select(user_api="blas")
    return _blas["controller"]


def _blas_knobs() -> list:
    """(get, set) of each BLAS library's thread count, found once. For OpenBLAS with its own
    threads (NumPy's wheels) the library's C functions themselves: threadpoolctl's methods
    re-check which Python thread controls OpenBLAS at each call, 1.4 us a limit-and-restore
    against 0.4 (benchmarks/RESULTS.md); ``blas_single_thread`` already serialises callers."""
    if _blas["knobs"] is None:
        knobs = []
        for lib in _blas_controller().lib_controllers:
            get = set_ = None
            symbol = getattr(lib, "_get_symbol", None)  # threadpoolctl's, private: optional
            if symbol and lib.internal_api == "openblas" and lib.threading_layer != "openmp":
                get = symbol("openblas_get_num_threads")
                set_ = symbol("openblas_set_num_threads")
            if get is None or set_ is None:  # another BLAS: threadpoolctl's own calls
                get, set_ = (lambda lib=lib: lib.num_threads), lib.set_num_threads
            knobs.append((get, set_))
        _blas["knobs"] = knobs
    return _blas["knobs"]


class _BlasSingleThread:
    """The context manager :func:`blas_single_thread` returns (one, shared: the state is
    the module's, so that nested and concurrent uses count together)."""

    __slots__ = ()

    def __enter__(self):
        with _lock:
            if _blas["depth"] == 0:
                _blas["saved"] = _limit_blas_to_one()
            _blas["depth"] += 1

    def __exit__(self, *exc):
        with _lock:
            _blas["depth"] -= 1
            if _blas["depth"] == 0:
                for set_, n in _blas["saved"]:
                    set_(n)
                _blas["saved"] = []


_BLAS_SINGLE_THREAD = _BlasSingleThread()


def blas_single_thread() -> _BlasSingleThread:
    """Run the body with NumPy's BLAS on one thread, then restore the user's setting.

    Nests, and is safe to enter from several Python threads: the first to enter sets the
    limit, the last to leave restores it."""
    return _BLAS_SINGLE_THREAD


def _limit_blas_to_one() -> list:
    """Set every BLAS library to one thread; returns (setter, former count) for those that
    had more. Two C calls per library: threadpoolctl's ``limit()`` rescans them all, which
    cost 20 us per kernel call."""
    saved = []
    for get, set_ in _blas_knobs():
        n = get()
        if n != 1:
            set_(1)
            saved.append((set_, n))
    return saved


def blas_threads_for(xp):
    """:func:`blas_single_thread` for NumPy arrays; nothing for another array module (CuPy)."""
    return blas_single_thread() if xp.__name__ == "numpy" else nullcontext()


def run_tasks(task, n_tasks: int, n_threads: int) -> None:
    """Call ``task(i, slot)`` for ``i`` in ``range(n_tasks)`` on ``n_threads`` threads.

    The calling thread works too; ``slot`` (``0 <= slot < n_threads``) names the thread, so
    that each can keep its own scratch buffers. Tasks start in order, each as a thread frees
    up, and must write disjoint outputs: then the result does not depend on ``n_threads``.
    Meant for NumPy code that releases the GIL (BLAS, copies); the helper threads sleep on a
    queue between calls. The first exception raised by a task is raised here."""
    n_threads = max(1, min(n_threads, n_tasks))
    if n_threads == 1:
        for i in range(n_tasks):
            task(i, 0)
        return
    from concurrent.futures import ThreadPoolExecutor

    with _lock:
        if _helpers["pid"] != os.getpid() or _helpers["size"] < n_threads - 1:
            if _helpers["pool"] is not None and _helpers["pid"] == os.getpid():
                _helpers["pool"].shutdown(wait=False)
            # a forked child (DataLoader workers) has none of its parent's threads: start anew
            _helpers["pool"] = ThreadPoolExecutor(n_threads - 1, "minigrad-blas")
            _helpers["size"], _helpers["pid"] = n_threads - 1, os.getpid()
        pool = _helpers["pool"]
    order = iter(range(n_tasks))
    take = threading.Lock()
    failed = []

    def work(slot):
        while not failed:
            with take:
                i = next(order, None)
            if i is None:
                return
            try:
                task(i, slot)
            except BaseException as e:  # stop the others, re-raise in the caller
                failed.append(e)
                raise

    helpers = [pool.submit(work, slot) for slot in range(1, n_threads)]
    try:
        work(0)
    finally:
        for f in helpers:
            f.exception()  # wait for every helper before the buffers go away
    if failed:
        raise failed[0]
