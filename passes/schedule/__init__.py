"""The scheduler: branch-and-bound search over tilings and its analytical cost model.

``schedule(layer, target)`` returns the cheapest :class:`Schedule` under ``estimate``;
``space.py`` defines what every Schedule field means for the loop nest.
"""

from gemforge.passes.schedule.bnb import exhaustive, schedule
from gemforge.passes.schedule.cost import Cost, estimate, lower_bound
from gemforge.passes.schedule.space import Schedule, ScheduleError, footprint, problem_of

__all__ = ["Cost", "Schedule", "ScheduleError", "estimate", "exhaustive", "footprint", "lower_bound", "problem_of",
           "schedule"]
