"""The scheduler: branch-and-bound search over tilings and its analytical cost model."""
