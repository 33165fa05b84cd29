"""The event-driven Gemmini simulator: timing, bit-exact functional model, stats and traces."""
