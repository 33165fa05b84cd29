"""The ``xdsl.universe`` entry point: makes gemforge's dialects and passes visible to xdsl-opt."""

from xdsl.universe import Universe

from gemforge.dialects import get_all_dialects
from gemforge.passes import get_all_passes

GEMFORGE_UNIVERSE = Universe(all_dialects=get_all_dialects(), all_passes=get_all_passes())
