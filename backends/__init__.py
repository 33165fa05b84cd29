"""Backends: lowering of the gemmini dialect to programs for the hardware and the simulator."""
