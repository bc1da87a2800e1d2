"""Which areas a batch plans (lvbalance.batch.run): case folders, split-import folders, names, order."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from lvbalance.batch.area import AreaStatus
from lvbalance.batch.run import collect_areas, make_jobs


def _fake_case(path: Path, size: int = 10) -> Path:
    path.mkdir(parents=True)
    (path / "case.toml").write_text('name = "x"\n')
    (path / "nodes.csv").write_text("x" * size)
    return path


def test_a_split_import_folder_gives_its_cases_and_its_failed_areas(tmp_path: Path) -> None:
    town = tmp_path / "town"
    _fake_case(town / "T_1")
    _fake_case(town / "T_2")
    (town / "notes").mkdir()  # not a case: ignored inside a folder of cases
    pd.DataFrame(
        {"area": ["T_1", "T_2", "T_78"], "status": ["written", "written", "failed"], "problems": ["", "", "net: a loop through bus 5"]}
    ).to_csv(town / "areas.csv", index=False)
    areas = collect_areas([town])
    assert sorted(areas.case_dirs) == ["T_1", "T_2"]
    assert areas.case_dirs["T_1"] == (town / "T_1").resolve()
    (bad,) = areas.known_bad
    assert bad.area == "T_78" and bad.status == AreaStatus.BAD_INPUT and bad.error == "import: net: a loop through bus 5"
    assert areas.names == ["T_1", "T_2", "T_78"]


def test_single_cases_and_paths_that_are_no_case(tmp_path: Path) -> None:
    a = _fake_case(tmp_path / "a")
    areas = collect_areas([a, tmp_path / "missing"])
    assert sorted(areas.case_dirs) == ["a", "missing"]  # the task says why "missing" is bad
    assert areas.known_bad == []


def test_two_areas_with_one_name_are_refused(tmp_path: Path) -> None:
    a1 = _fake_case(tmp_path / "x" / "a")
    a2 = _fake_case(tmp_path / "y" / "a")
    with pytest.raises(ValueError, match="two areas are named 'a'"):
        collect_areas([a1, a2])


def test_jobs_largest_first_with_baseline(tmp_path: Path) -> None:
    _fake_case(tmp_path / "town" / "small", size=10)
    _fake_case(tmp_path / "town" / "large", size=5000)
    _fake_case(tmp_path / "town" / "mid", size=800)
    jobs = make_jobs(collect_areas([tmp_path / "town"]), tmp_path / "out", ["m1", "m2"], evaluate=False, force=True)
    assert [j.area for j in jobs] == ["large", "mid", "small"]
    assert jobs[0].methods == ("baseline", "m1", "m2") and jobs[0].force and not jobs[0].evaluate
    assert jobs[0].out_dir == str(tmp_path / "out" / "large")
