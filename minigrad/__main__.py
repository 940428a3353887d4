"""``python -m minigrad COMMAND``: ``warmup`` compiles and caches the kernels ahead of use."""

from __future__ import annotations

import argparse
import sys


def _warmup(args) -> int:
    import minigrad as mg
    from minigrad._backends.cpu._cache_dir import ensure_writable, location
    from minigrad._warmup import format_table, warmup

    if args.device == "cuda" and not mg.cuda.is_available():
        print("warmup: --device cuda needs a CUDA device; none is available", file=sys.stderr)
        return 2
    ensure_writable()
    rows = warmup(args.device, args.dtype, progress=not args.no_progress)
    print(format_table(rows, location()))
    return 0


def main(argv=None) -> int:
    """Parses ``argv`` (default: the command line) and runs the subcommand."""
    parser = argparse.ArgumentParser(prog="python -m minigrad", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    warm = commands.add_parser(
        "warmup",
        help="compile and cache every kernel the LeNet and ResNet paths use",
        description="Compiles (or loads from Numba's on-disk cache) every kernel the LeNet "
        "and ResNet paths use, and prints each one's compile or load time.",
    )
    warm.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    warm.add_argument("--dtype", nargs="+", choices=("float32", "float64"), default=["float32"])
    warm.add_argument("--no-progress", action="store_true", help="no progress bar")
    warm.set_defaults(run=_warmup)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
