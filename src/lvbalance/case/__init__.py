"""The case: one transformer area with its network, streets, customers and meter data.

MODEL.md §1 (the paper's Table 1). A :class:`Case` is plain, typed data
(:mod:`lvbalance.case.parts`). :func:`validate_case` is the one consistency pass
(:mod:`lvbalance.case.checks`, with the physical limits and plannability of
:mod:`lvbalance.case.limits`): it collects *every* error and :func:`check_case` raises them
together as one :class:`CaseError`; :func:`case_warnings` lists what is implausible but
possible. Code after the boundary trusts a validated case.
"""

from lvbalance.case.checks import check_case, validate_case
from lvbalance.case.limits import case_warnings
from lvbalance.case.parts import (
    CALENDAR_COLUMNS,
    CUSTOMER_COLUMNS,
    CUSTOMER_TYPES,
    DAY_TYPES,
    LINE_COLUMNS,
    NODE_COLUMNS,
    NODE_KINDS,
    READING_COLUMNS,
    STREET_SOURCES,
    WEATHERS,
    Case,
    CaseError,
    MissingPackageError,
    Network,
    Problem,
    Streets,
)
from lvbalance.junctions import SNAP_TOLERANCE_M

__all__ = [
    "CALENDAR_COLUMNS",
    "CUSTOMER_COLUMNS",
    "CUSTOMER_TYPES",
    "DAY_TYPES",
    "LINE_COLUMNS",
    "NODE_COLUMNS",
    "NODE_KINDS",
    "READING_COLUMNS",
    "SNAP_TOLERANCE_M",
    "STREET_SOURCES",
    "WEATHERS",
    "Case",
    "CaseError",
    "MissingPackageError",
    "Network",
    "Problem",
    "Streets",
    "case_warnings",
    "check_case",
    "validate_case",
]
