#!/usr/bin/env bash
# One GPU check, for a machine with an NVIDIA GPU: the test suite's CUDA cases on the real
# device (no simulator), then benchmarks/gpu_bench.py (LeNet, ResNet-20, ResNet-18 training
# steps and the conv/pool cases on 'cuda', beside PyTorch CUDA, each framework in its own
# processes). Writes one report, $OUT/gpu_check.md (benchmarks/out/ when OUT is unset), and
# the full logs beside it.
#
#   PYTHONPATH=. benchmarks/gpu_check.sh          # PYTHON=... to pick the interpreter
#
# Installs nothing: the machine must already have CuPy (cupy-cuda13x or -12x), numba-cuda,
# PyTorch with CUDA, pytest and hypothesis. Every stage has its own timeout, so one hang
# cannot eat the budget: at most about 9.8 minutes in all (versions 30 s, tests 200 s,
# benchmarks 240 s: five processes of at most 46 s each; NCCL 2 x 60 s).
# The NCCL stage (benchmarks/nccl_check.py in worlds of 1 and 2 processes on the one GPU)
# needs mpi4py and mpiexec ('minigrad[mpi]') and CuPy's NCCL; without them the report says
# why and the script's exit status does not change.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python}
OUT=${OUT:-benchmarks/out}
mkdir -p "$OUT"
REPORT="$OUT/gpu_check.md"
export PYTHONPATH=".${PYTHONPATH:+:$PYTHONPATH}"
export MINIGRAD_CUDA_SIM=0 # the conftest then leaves Numba's simulator off
unset NUMBA_ENABLE_CUDASIM
# The conftest turns on NUMBA_BOUNDSCHECK, a check of the CPU kernels that the CPU suite
# runs anyway; Numba's CUDA target has no bounds checking (numba/numba#6554).
export NUMBA_BOUNDSCHECK=0
export HYPOTHESIS_PROFILE=${HYPOTHESIS_PROFILE:-ci}

stage() { echo "== $* ($(date -u +%H:%M:%S))"; }

stage "versions"
VERSIONS=$(
    {
        echo "- GPU: $(timeout 15 nvidia-smi --query-gpu=name,driver_version,memory.total \
            --format=csv,noheader 2>&1 | head -1)"
        timeout -k 5 30 "$PY" - <<'EOF' 2>&1
import platform
from importlib.metadata import PackageNotFoundError, version

def v(dist):
    try:
        return version(dist)
    except PackageNotFoundError:
        return "not installed"

cupy = next((f"{d} {v(d)}" for d in ("cupy-cuda13x", "cupy-cuda12x", "cupy")
             if v(d) != "not installed"), "cupy not installed")
print(f"- python {platform.python_version()}, numpy {v('numpy')}, numba {v('numba')}, "
      f"numba-cuda {v('numba-cuda')}, {cupy}, torch {v('torch')}, pytest {v('pytest')}, "
      f"hypothesis {v('hypothesis')}")
try:
    import torch
    print(f"- torch CUDA {torch.version.cuda}, available: {torch.cuda.is_available()}")
except Exception as exc:
    print(f"- torch: {type(exc).__name__}: {exc}")
import minigrad as mg
from minigrad._device import _cuda_problem
print(f"- minigrad.cuda.is_available(): {mg.cuda.is_available()}"
      + (f" ({_cuda_problem()})" if not mg.cuda.is_available() else ""))
EOF
    }
)
echo "$VERSIONS"

stage "tests: pytest -m cuda (MINIGRAD_CUDA_SIM=0)"
# SIGINT first: pytest then stops cleanly and still prints what passed and failed
timeout -s INT -k 10 200 "$PY" -m pytest -m cuda -q -rfE \
    >"$OUT/gpu_tests.log" 2>&1
TESTS_RC=$?
[ "$TESTS_RC" -eq 124 ] && echo "TIMED OUT after 200 s (the summary above covers what ran)" \
    >>"$OUT/gpu_tests.log"
tail -n 3 "$OUT/gpu_tests.log"
TESTS_SUMMARY=$(grep -E "(passed|failed|error|no tests ran) in |TIMED OUT" "$OUT/gpu_tests.log" | tr -d '=' | sed 's/^ *//' | tail -2)

stage "benchmarks: benchmarks/gpu_bench.py"
timeout -k 10 240 "$PY" benchmarks/gpu_bench.py --timeout 46 --seconds 8 \
    --report "$OUT/gpu_bench.md" >"$OUT/gpu_bench.log" 2>&1
BENCH_RC=$?
cat "$OUT/gpu_bench.log"

stage "NCCL all-reduce: benchmarks/nccl_check.py under mpiexec -n 1 and -n 2"
MPIEXEC="$(dirname "$(command -v "$PY")")/mpiexec"
[ -x "$MPIEXEC" ] || MPIEXEC=$(command -v mpiexec || true)
NCCL_REPORT=""
if [ -z "$MPIEXEC" ] || ! "$PY" -c "import mpi4py" 2>/dev/null; then
    NCCL_REPORT="not run: no mpiexec or mpi4py (pip install 'minigrad[mpi]')"
else
    for n in 1 2; do
        # Open MPI refuses root without these, and --oversubscribe lets 2 ranks share cores
        OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 timeout -k 10 60 \
            "$MPIEXEC" --oversubscribe -n "$n" "$PY" benchmarks/nccl_check.py \
            >"$OUT/nccl_check_$n.log" 2>&1
        rc=$?
        NCCL_REPORT+=$'\n'"### world of $n process(es) on one GPU (exit $rc)"$'\n\n'
        if [ "$rc" -eq 0 ]; then
            NCCL_REPORT+=$(grep -E "^(world|\||DDP)" "$OUT/nccl_check_$n.log")
        else
            NCCL_REPORT+=$(tail -n 15 "$OUT/nccl_check_$n.log" | sed 's/^/    /')
        fi
        NCCL_REPORT+=$'\n'
    done
fi
echo "$NCCL_REPORT"

{
    echo "# GPU check ($(date -u +%Y-%m-%dT%H:%M:%SZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'))"
    echo
    echo "Ran: \`MINIGRAD_CUDA_SIM=0 $PY -m pytest -m cuda -q\` (Hypothesis profile $HYPOTHESIS_PROFILE),"
    echo "then \`$PY benchmarks/gpu_bench.py --timeout 46 --seconds 8\`."
    echo
    echo "$VERSIONS"
    echo
    echo "## Tests (exit $TESTS_RC)"
    echo
    echo "${TESTS_SUMMARY:-no summary line: see gpu_tests.log}"
    grep -E "^(FAILED|ERROR) " "$OUT/gpu_tests.log" | head -n 40 | sed 's/^/    /'
    echo
    if [ -s "$OUT/gpu_bench.md" ]; then
        cat "$OUT/gpu_bench.md"
    else
        echo "## Benchmarks (exit $BENCH_RC): no report; the end of gpu_bench.log:"
        echo
        tail -n 20 "$OUT/gpu_bench.log" | sed 's/^/    /'
    fi
    echo
    echo "## NCCL all-reduce (minigrad.distributed, backend='nccl')"
    echo "$NCCL_REPORT"
} >"$REPORT"
stage "report: $REPORT"
[ "$TESTS_RC" -eq 0 ] && [ "$BENCH_RC" -eq 0 ]
