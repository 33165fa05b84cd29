"""gemforge: an MLIR-style multi-level compiler for Gemmini-class accelerators, on xDSL."""

from gemforge.errors import GemforgeError

__version__ = "0.1.0"
__all__ = ["GemforgeError", "__version__"]
