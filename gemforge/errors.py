"""The one exception family that gemforge's commands turn into one-line errors.

Anything raised as a :class:`GemforgeError` is a problem with the user's input (a
file, an op, a layer, an instruction) and its message names the thing at fault; the
command-line drivers print ``error: <message>`` and exit with status 1 instead of a
traceback. Any other exception escaping a driver is a bug in gemforge.
"""


class GemforgeError(Exception):
    """Base class of all user-facing gemforge errors."""
