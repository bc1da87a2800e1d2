"""The methods compared (MODEL.md §7, the paper's Table 2): one builder, options not copies."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Method:
    """What a method may change.

    ``moves``: stage 1 may move tail customers; ``v2g``: stage 2 schedules EVs
    (else every EV charges uncontrolled, ``alpha`` = 0); ``straight_line``: move options
    are priced and bounded by straight-line distance (method m3) and the plan is then
    priced along streets.
    """

    id: str
    name: str
    moves: bool
    v2g: bool
    straight_line: bool = False


METHODS: dict[str, Method] = {
    m.id: m
    for m in (
        Method("baseline", "as built: no move, uncontrolled charging", moves=False, v2g=False),
        Method("m1", "streets + V2G (the paper's method)", moves=True, v2g=True),
        Method("m2", "streets, no V2G", moves=True, v2g=False),
        Method("m3", "no street information (straight lines) + V2G", moves=True, v2g=True, straight_line=True),
        Method("v2g_only", "V2G without moves", moves=False, v2g=True),
    )
}


def get_method(method_id: str) -> Method:
    """The method with this id; ValueError listing the known ids otherwise."""
    try:
        return METHODS[method_id]
    except KeyError:
        raise ValueError(f"unknown method {method_id!r}; choose one of {', '.join(METHODS)}") from None
