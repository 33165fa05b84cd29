"""Faithful reimplementation of the Gemmini software library (gemmini.h) tiling: the baseline."""
