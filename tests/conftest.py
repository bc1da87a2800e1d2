"""pytest fixtures: each builds a fresh case from :mod:`tests.fixtures` (no shared mutable state)."""

from __future__ import annotations

import pytest

from lvbalance.case import Case
from tests.fixtures import fig3_case


@pytest.fixture
def case() -> Case:
    return fig3_case()
