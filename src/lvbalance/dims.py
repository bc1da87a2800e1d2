"""Dimension names shared by every array of the package (STYLE 2).

One name per dimension, used for xarray dimensions, linopy coordinates and the columns
of the output files (DESIGN.md "Outputs"), so that a ``scenario`` here is a ``scenario``
everywhere.
"""

from __future__ import annotations

SCENARIO = "scenario"
"""Typical day: day type x weather (MODEL.md §3)."""
STEP = "step"
"""Time step of a scenario day, 0 .. T-1, counted from the horizon start."""
CUSTOMER = "customer"
"""Customer id (``customers.csv``)."""
EV = "ev"
"""Customer id of an EV charging point."""
FEEDER = "feeder"
"""Feeder label (F1, F2, ...)."""
LINE = "line"
"""Line id (``lines.csv``)."""
OPTION = "option"
"""Move option id (``coupling.move_options``)."""
GROUP = "group"
"""Destination group of moved EVs."""
DAY = "day"
"""Calendar date of a metered day."""
CONTEXT = "context"
"""Day type or weather class a pattern belongs to."""
