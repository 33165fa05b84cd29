"""The ``gemforge`` command: the user-facing entry point.

Subcommands: ``target`` (describe a target), ``run`` and ``compile`` (whole ONNX
networks, :mod:`gemforge.network_cli`). Each turns a :class:`GemforgeError` into one
line on stderr and exit status 1.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from gemforge.errors import GemforgeError, reader_gone


def _cmd_target(args: argparse.Namespace) -> int:
    from gemforge import target as tgt

    if args.list:
        for name in tgt.builtin_names():
            print(name)
        return 0
    print(tgt.load(args.target).describe())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gemforge", description="gemforge: a compiler for Gemmini-class accelerators")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("target", help="validate and describe a target description (TOML file or built-in name)")
    p.add_argument("target", nargs="?", default="gemmini-default")
    p.add_argument("--list", action="store_true", help="list the built-in targets")
    p.set_defaults(func=_cmd_target)
    from gemforge.network_cli import add_parsers

    add_parsers(sub)  # run, compile
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except GemforgeError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return reader_gone()
    except OSError as e:  # an output folder or file that cannot be written (or an input that cannot be read)
        where = f" {e.filename}" if e.filename else ""
        print(f"error: cannot access{where}: {e.strerror or e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
