"""The guarded reader: every failure names the file; BOMs, UTF-16 and gzip by content are accepted."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from lvbalance.case import CaseError
from lvbalance.io.reader import read_csv, read_geojson, read_json, read_text, read_toml


def _problem(exc: pytest.ExceptionInfo[CaseError]) -> str:
    (p,) = exc.value.problems
    return str(p)


@pytest.mark.parametrize(
    "data",
    [b"a,b\n1,2\n", b"\xef\xbb\xbfa,b\n1,2\n", "a,b\r\n1,2\r\n".encode("utf-16"), gzip.compress(b"a,b\n1,2\n")],
    ids=["utf8", "utf8-bom", "utf16-bom-crlf", "gzip-without-gz-name"],
)
def test_text_in_every_accepted_form_reads_the_same(data: bytes, tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_bytes(data)
    df = read_csv(tmp_path / "t.csv")
    assert list(df.columns) == ["a", "b"] and df.to_dict("records") == [{"a": "1", "b": "2"}]


def test_cells_are_stripped_and_empty_cells_missing(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text(" a , b \n x , \n", encoding="utf-8")
    df = read_csv(tmp_path / "t.csv")
    assert list(df.columns) == ["a", "b"] and df.at[0, "a"] == "x" and df["b"].isna().all()


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("t.csv", b"", "t.csv: is empty"),
        ("t.csv", b"a,b\n\x80\x81,2\n", "t.csv, line 2: is not UTF-8 text"),
        ("t.csv", b"a;b\n1;2\n", "t.csv, header: columns are separated by semicolons"),
        ("t.csv", b"a,b\n1,2,3\n", "t.csv, line 2: cannot be read as CSV"),
        ("t.csv", b"a,a\n1,2\n", "t.csv, header: has repeated column(s) a"),
        ("t.csv.gz", b"a,b\n", "t.csv.gz: is named .gz but is not gzip-compressed"),
        ("t.csv.gz", gzip.compress(b"a,b\n1,2\n" * 100)[:30], "t.csv.gz: is a damaged gzip file"),
        ("t.csv.gz", gzip.compress(b""), "t.csv.gz: is empty"),
    ],
)
def test_a_bad_csv_names_the_file(name: str, data: bytes, expected: str, tmp_path: Path) -> None:
    (tmp_path / name).write_bytes(data)
    with pytest.raises(CaseError) as exc:
        read_csv(tmp_path / name)
    assert _problem(exc).startswith(expected)


def test_toml_with_a_bom_is_read_and_bad_toml_named(tmp_path: Path) -> None:
    (tmp_path / "case.toml").write_bytes(b'\xef\xbb\xbfname = "x"\n')
    assert read_toml(tmp_path / "case.toml") == {"name": "x"}
    (tmp_path / "case.toml").write_text("name = = 1\n", encoding="utf-8")
    with pytest.raises(CaseError) as exc:
        read_toml(tmp_path / "case.toml")
    assert _problem(exc).startswith("case.toml: is not valid TOML")


def test_json_errors_give_the_line(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text('{\n"a": 1,\n"b": }\n', encoding="utf-8")
    with pytest.raises(CaseError) as exc:
        read_json(tmp_path / "a.json")
    assert _problem(exc).startswith("a.json, line 3: is not valid JSON")


def test_geojson_keeps_its_crs_and_properties(tmp_path: Path) -> None:
    doc = (
        '{"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "EPSG:32632"}}, "features": '
        '[{"type": "Feature", "properties": {"street_id": "s1", "cost_per_m": "cheap"}, '
        '"geometry": {"type": "LineString", "coordinates": [[0, 0], [10, 0]]}}]}'
    )
    (tmp_path / "s.geojson").write_bytes(b"\xef\xbb\xbf" + doc.encode())
    gdf = read_geojson(tmp_path / "s.geojson")
    assert gdf.crs.to_epsg() == 32632 and gdf.at[0, "cost_per_m"] == "cheap" and gdf.geometry[0].length == 10


def test_a_folder_or_nul_bytes_are_named(tmp_path: Path) -> None:
    (tmp_path / "d.csv").mkdir()
    with pytest.raises(CaseError, match="is a folder"):
        read_text(tmp_path / "d.csv")
    (tmp_path / "n.csv").write_bytes(b"a\x00b")
    with pytest.raises(CaseError, match="NUL"):
        read_text(tmp_path / "n.csv")
