"""Cluster set-up (lvbalance.batch.cluster): memory limits and the shared-folder check."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from lvbalance.batch.cluster import WORKER_MEMORY_CAP_BYTES, check_shared_folder, worker_memory_limit

GIB = 2**30


def test_two_workers_fit_a_24_gib_machine_with_room() -> None:
    limit = worker_memory_limit(2, 24 * GIB)
    assert limit == 8 * GIB == WORKER_MEMORY_CAP_BYTES
    assert 24 * GIB - 2 * limit == 8 * GIB


def test_many_workers_share_80_percent_of_the_memory() -> None:
    assert worker_memory_limit(16, 24 * GIB) == int(0.8 * 24 * GIB / 16)
    assert worker_memory_limit(1, 4 * GIB) == int(0.8 * 4 * GIB)


class _FakeClient:
    """Stands in for a distributed.Client: ``run`` asks each 'worker' (here: a predicate)."""

    def __init__(self, sees: dict[str, bool]) -> None:
        self.sees = sees

    def run(self, fn: Any, path: str) -> dict[str, bool]:
        assert fn is os.path.isfile and Path(path).is_file()  # the marker exists while asked
        return dict(self.sees)


def test_workers_that_do_not_see_the_folder_are_named(tmp_path: Path) -> None:
    client = _FakeClient({"tcp://10.0.0.1:1": True, "tcp://10.0.0.2:1": False})
    with pytest.raises(FileNotFoundError, match=r"tcp://10\.0\.0\.2:1 do not see the output folder.*shared by this machine"):
        check_shared_folder(client, tmp_path)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []  # the marker is gone


def test_all_workers_seeing_the_folder_pass(tmp_path: Path) -> None:
    check_shared_folder(_FakeClient({"a": True, "b": True}), tmp_path)  # type: ignore[arg-type]


def test_no_workers_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no workers"):
        check_shared_folder(_FakeClient({}), tmp_path)  # type: ignore[arg-type]
