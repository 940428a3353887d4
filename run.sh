#!/usr/bin/env bash
# One entry point for a new user on a machine with only Python 3.10+:
#   ./run.sh train [--epochs N] [--modern] ...   set up, then train LeNet on Fashion-MNIST
#   ./run.sh test  [pytest args]                 set up, then run the whole test suite
#   ./run.sh bench [--quick] [--busy-core] [--threads N]
#                                                 set up (with PyTorch CPU), then time training
#                                                 steps and conv/pool cases against PyTorch
set -euo pipefail
cd "$(dirname "$0")"
VENV=${MINIGRAD_VENV:-.venv}
PY="$VENV/bin/python"

setup() {  # $1: the pip extras to install
    if [ ! -x "$PY" ]; then
        python3 -m venv "$VENV"
    fi
    "$PY" -m pip install --quiet --disable-pip-version-check -e ".[$1]"
}

fashion_mnist() {  # the Debian package dataset-fashion-mnist, unless the files are there
    local dir=/usr/share/datasets/fashion-mnist
    if [ -f "$dir/train-images-idx3-ubyte.gz" ] || [ -n "${FASHION_MNIST_ROOT:-}" ]; then
        return
    fi
    echo "Fashion-MNIST not found in $dir: installing the Debian package dataset-fashion-mnist"
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq && $sudo apt-get install -y -qq dataset-fashion-mnist
}

cmd=${1:-help}
shift || true
case "$cmd" in
    train)
        setup test
        fashion_mnist
        exec "$PY" examples/train_lenet.py "$@"
        ;;
    test)
        setup test
        export NUMBA_BOUNDSCHECK=1 HYPOTHESIS_PROFILE=${HYPOTHESIS_PROFILE:-ci}
        exec "$PY" -m pytest -q -n 2 "$@"
        ;;
    bench)
        for arg in "$@"; do
            case "$arg" in
                --quick|--busy-core|--threads|--threads=*|[0-9]*) ;;
                *) echo "./run.sh bench takes --quick, --busy-core, --threads N (got $arg)"; exit 2 ;;
            esac
        done
        setup "test,bench"
        "$PY" benchmarks/bench_steps.py "$@"
        exec "$PY" benchmarks/bench_kernels.py "$@"
        ;;
    *)
        echo "usage: ./run.sh train [--epochs N] [--modern] | test [pytest args] | bench [--quick] [--busy-core] [--threads N]"
        exit 2
        ;;
esac
