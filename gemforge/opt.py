"""``gemforge-opt``: xDSL's opt driver with gemforge's dialects and passes.

It accepts everything ``xdsl-opt`` accepts (``-p PIPELINE``, ``--verify-diagnostics``,
``--split-input-file``, ``--print-between-passes`` ...). Errors in the input end in one
line naming the file, position or op, and exit status 1, never a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from xdsl.utils.exceptions import ArgSpecParseError, DiagnosticException, ParseError
from xdsl.xdsl_opt_main import xDSLOptMain

from gemforge.diagnostics import one_line, pipeline_error
from gemforge.dialects import get_all_dialects
from gemforge.errors import GemforgeError, reader_gone
from gemforge.passes import get_all_passes


class GemforgeOptMain(xDSLOptMain):
    """xDSLOptMain that always knows gemforge's dialects and passes.

    When gemforge is installed, xDSL's multiverse already contains them through the
    ``xdsl.universe`` entry point; registering again here keeps the driver working
    from a source tree without entry points.
    """

    version_format = "gemforge-opt built from xdsl version {xdsl_version}"

    def register_all_dialects(self):
        super().register_all_dialects()
        known = set(self.ctx.registered_dialect_names)
        for name, factory in get_all_dialects().items():
            if name not in known:
                self.ctx.register_dialect(name, factory)

    def register_all_passes(self):
        super().register_all_passes()
        for name, factory in get_all_passes().items():
            self.register_pass(name, factory)


def main(args: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if args is None else args)
    source = next((a for a in argv if not a.startswith("-")), "<stdin>")
    try:
        driver = GemforgeOptMain(description="gemforge modular optimizer driver", args=argv)
    except (ValueError, ArgSpecParseError) as e:  # xDSL's report of a bad -p pipeline
        spec = next((argv[i + 1] for i, a in enumerate(argv[:-1]) if a in ("-p", "--passes")), "")
        print(f"error: {pipeline_error(e, spec)}", file=sys.stderr)
        return 1
    try:
        driver.run()
    except (ParseError, DiagnosticException, GemforgeError) as e:
        print(one_line(e, source), file=sys.stderr)
        return 1
    except FileNotFoundError as e:
        print(f"error: {e.filename}: no such file", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return reader_gone()
    return 0


if __name__ == "__main__":
    sys.exit(main())
