"""Customer types of imported loads, their annual energy, and per-customer overrides from a file.

* :func:`load_kind` reads what a pandapower load is from its ``profile``, ``type`` and ``name``
  columns (SimBench profile names first, then words): ``residential``, ``commercial``, ``ev``
  or ``heat_pump``. :func:`customer_type_of_load` turns the kind into a case customer type;
  heat pumps go through :func:`heat_pump_customer_type`.
* :data:`FULL_LOAD_HOURS`: the utilisation time that turns a load's ``p_mw`` into annual energy
  when nothing better is known.
* :func:`read_customer_overrides` reads a ``--customers`` CSV (every bad row reported with file
  and row) and :func:`apply_customer_overrides` applies it to an imported customer table.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from lvbalance.case import CUSTOMER_TYPES, CaseError, Problem
from lvbalance.io.reader import read_csv

logger = logging.getLogger(__name__)

#: Full-load hours turning a load's ``p_mw`` [MW] into annual energy [h/a] when nothing better is
#: known. A load's ``p_mw`` is a peak-like design value: SimBench profiles, normalised to a peak of
#: 1, give 500-1200 h for households (H0), 1300-3800 h for trade (G), 140-210 h for home charging
#: (HLS, 3.7-11 kW) and 480-1470 h for heat pumps (Air_*, Soil_*). pv: the specific yield
#: ``params.profiles.pv_yield_kwh_per_kwp`` instead.
FULL_LOAD_HOURS: dict[str, float] = {"residential": 1000.0, "commercial": 2500.0, "ev": 200.0, "heat_pump": 1000.0}

_COMMERCIAL_WORDS = ("commercial", "trade", "gewerbe", "business", "office", "agri", "farm", "industr")
_EV_TOKENS = {"ev", "bev", "phev", "emobility", "charging", "charger", "wallbox", "ladepunkt", "ladestation", "hls", "apls"}
_EV_PHRASES = ("e-mobility", "e mobility", "electric vehicle", "charging", "ladesäule", "ladesaeule")
_HP_TOKENS = {"hp", "heatpump", "wp", "wärmepumpe", "waermepumpe"}
_HP_PHRASES = ("heat pump", "heat_pump", "heat-pump", "wärmepumpe", "waermepumpe")
#: SimBench load profiles: home / workplace charging (HLS_A_3.7, APLS_B_11.0) and heat pumps
#: (Air_Parallel_2, Soil_Alternative_2).
_SIMBENCH_EV = ("HLS_", "APLS_")
_SIMBENCH_HP = ("AIR_", "SOIL_")


def heat_pump_customer_type() -> str:
    """The case customer type a heat pump becomes: ``heat_pump`` (one of
    :data:`lvbalance.case.CUSTOMER_TYPES` since issue 10, item 4); the import logs how many."""
    return "heat_pump"


def _words_kind(text: str) -> str | None:
    t = text.strip().lower()
    if not t:
        return None
    tokens = {w for w in re.split(r"[^0-9a-zäöüß]+", t) if w}
    if tokens & _EV_TOKENS or any(re.fullmatch(r"ev\d+", w) for w in tokens) or any(p in t for p in _EV_PHRASES):
        return "ev"
    if tokens & _HP_TOKENS or any(re.fullmatch(r"hp\d+", w) for w in tokens) or any(p in t for p in _HP_PHRASES):
        return "heat_pump"
    if any(w in t for w in _COMMERCIAL_WORDS):
        return "commercial"
    return None


def load_kind(profile: str, pp_type: str, name: str = "") -> str:
    """What a load is: ``residential``, ``commercial``, ``ev`` or ``heat_pump``.

    First the SimBench profile name: ``H0-*`` households; ``G*``, ``L*`` (trade, agriculture)
    commercial; ``HLS_*``, ``APLS_*`` charging points; ``Air_*``, ``Soil_*`` heat pumps. Then
    words in the profile, the pandapower ``type`` and the ``name`` (in that order): ev (``ev``,
    ``EV3``, ``e-mobility``, ``charging``, ``wallbox``), heat pump (``hp``, ``heat pump``,
    ``Wärmepumpe``, ``WP``), commercial (trade, Gewerbe, business, office, farm, industry).
    Anything else is residential.
    """
    p = (profile or "").strip().upper()
    if len(p) > 1 and p[1].isdigit():
        if p[0] in ("G", "L"):
            return "commercial"
        if p[0] == "H":
            return "residential"
    if p.startswith(_SIMBENCH_EV):
        return "ev"
    if p.startswith(_SIMBENCH_HP):
        return "heat_pump"
    for text in (profile, pp_type, name):
        kind = _words_kind(text or "")
        if kind is not None:
            return kind
    return "residential"


def customer_type_of_load(profile: str, pp_type: str, name: str = "") -> str:
    """Case customer type of a load (:func:`load_kind`; heat pumps: :func:`heat_pump_customer_type`)."""
    kind = load_kind(profile, pp_type, name)
    return heat_pump_customer_type() if kind == "heat_pump" else kind


# --------------------------------------------------------------------------- --customers FILE

#: Columns of a customers file besides the key (``customer_id`` or ``load``).
OVERRIDE_COLUMNS = ("type", "annual_kwh", "metered", "charge_kw", "discharge_kw", "v2g")
_KEYS = ("customer_id", "load")
_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f"}


@dataclass(frozen=True)
class CustomerOverrides:
    """Parsed rows of a customers file.

    ``rows``: index = row number in the file (header = row 1); ``key_column`` (``customer_id``:
    a customer id of the case; ``load``: a pandapower load's name, else its index), ``key`` and
    the given :data:`OVERRIDE_COLUMNS` (NaN / None where the row leaves a value as imported).
    """

    file: str
    key_column: str
    rows: pd.DataFrame


def read_customer_overrides(path: str | Path) -> CustomerOverrides:
    """Read and check a customers CSV; raises one :class:`CaseError` listing every bad row.

    Columns: ``customer_id`` or ``load`` (the key), and any of ``type`` (a customer type or
    ``heat_pump``), ``annual_kwh`` (> 0) [kWh/a], ``metered`` and ``v2g`` (true/false),
    ``charge_kw``, ``discharge_kw`` (>= 0) [kW]. An empty cell keeps the imported value.
    """
    path = Path(path)
    f = path.name
    if not path.is_file():
        raise CaseError([Problem(f, "", f"file {path} does not exist")], source=str(path))
    raw = read_csv(path).fillna("")
    problems: list[Problem] = []
    keys = [k for k in _KEYS if k in raw.columns]
    unknown = [c for c in raw.columns if c not in (*_KEYS, *OVERRIDE_COLUMNS)]
    if unknown:
        problems.append(Problem(f, "header", f"unknown column(s) {', '.join(unknown)} (expected {', '.join((*_KEYS, *OVERRIDE_COLUMNS))})"))
    if len(keys) != 1:
        problems.append(Problem(f, "header", f"needs exactly one key column, customer_id or load (found: {', '.join(raw.columns)})"))
        raise CaseError(problems, source=str(path))
    key = keys[0]
    raw.index = pd.RangeIndex(2, len(raw) + 2, name="row")
    rows = pd.DataFrame({"key": raw[key].str.strip()}, index=raw.index)
    for row in rows.index[rows["key"] == ""]:
        problems.append(Problem(f, f"row {row}", f"{key} is empty"))
    for k, group in rows[rows["key"] != ""].groupby("key").groups.items():
        if len(group) > 1:
            problems.append(Problem(f, f"rows {', '.join(map(str, group))}", f"{key} {k!r} is given more than once"))
    for col in OVERRIDE_COLUMNS:
        if col in raw.columns:
            rows[col] = _parse_column(raw[col].str.strip(), col, f, problems)
    if problems:
        raise CaseError(problems, source=str(path))
    return CustomerOverrides(f, key, rows)


def _parse_column(text: pd.Series, col: str, f: str, problems: list[Problem]) -> pd.Series:
    given = text != ""
    if col == "type":
        allowed = tuple(dict.fromkeys((*CUSTOMER_TYPES, "heat_pump")))
        for row in text.index[given & ~text.isin(allowed)]:
            problems.append(Problem(f, f"row {row}", f"unknown type {text[row]!r} (expected one of {', '.join(allowed)})"))
        return text.where(given, None)
    if col in ("metered", "v2g"):
        low = text.str.lower()
        for row in text.index[given & ~low.isin(_TRUE | _FALSE)]:
            problems.append(Problem(f, f"row {row}", f"{col} must be true or false, got {text[row]!r}"))
        return low.map(lambda v: True if v in _TRUE else (False if v in _FALSE else None))
    values = pd.to_numeric(text.where(given), errors="coerce")
    for row in text.index[given & values.isna()]:
        problems.append(Problem(f, f"row {row}", f"{col} is not a number: {text[row]!r}"))
    ok = values.notna()
    bad = ok & ~(values > 0) if col == "annual_kwh" else ok & ~(values >= 0)
    for row in text.index[bad]:
        problems.append(Problem(f, f"row {row}", f"{col} must be {'> 0' if col == 'annual_kwh' else '>= 0'}, got {values[row]:g}"))
    return values.astype(float)


def override_targets(overrides: CustomerOverrides, customers: pd.DataFrame, load_names: pd.Series) -> pd.Series:
    """Customer id (in ``customers``) each override row refers to; rows not found are left out.

    ``customers``: imported table with ``element`` and ``element_index``; ``load_names``: the
    net's ``load.name`` (index: load index), for ``load`` keys.
    """
    keys = overrides.rows["key"]
    if overrides.key_column == "customer_id":
        return keys[keys.isin(customers.index)].rename("customer_id")
    loads = customers[customers["element"] == "load"]
    by_index = pd.Series(loads.index, index=loads["element_index"].astype(int).to_numpy())
    names = load_names.astype("string").fillna("").str.strip()
    unique = names[~names.duplicated(keep=False) & (names != "")]
    by_name = pd.Series(unique.index, index=unique.to_numpy())
    out = {}
    for row, key in keys.items():
        idx = by_name.get(key)
        if idx is None and re.fullmatch(r"\d+", key):
            idx = int(key)
        if idx is not None and idx in by_index.index:
            out[row] = by_index[idx]
    return pd.Series(out, dtype=object, name="customer_id")


def apply_customer_overrides(customers: pd.DataFrame, overrides: CustomerOverrides, targets: pd.Series) -> pd.DataFrame:
    """``customers`` with the given values of each override row (``targets``: row -> customer id).

    A customer that becomes ``ev`` without a ``charge_kw`` gets its load's ``p_kw`` as charge
    rating and, with ``v2g``, the same discharge rating (else 0). ``heat_pump`` becomes
    :func:`heat_pump_customer_type`. ``annual_kwh`` given: ``annual_source = 'customers_file'``.
    """
    out = customers.copy()
    rows = overrides.rows.loc[targets.index]
    for col in OVERRIDE_COLUMNS:
        if col not in rows:
            continue
        given = rows[col].notna()
        if not given.any():
            continue
        values = rows.loc[given, col]
        if col == "type":
            values = values.replace("heat_pump", heat_pump_customer_type())
            ids = targets[given].to_numpy()
            out.loc[ids, "kind"] = rows.loc[given, col].to_numpy()
            # an estimate from full-load hours follows the new kind
            est = out.index.isin(ids) & (out["annual_source"] == "full_load_hours") & out["kind"].isin(list(FULL_LOAD_HOURS))
            out.loc[est, "annual_kwh"] = out.loc[est, "p_kw"] * out.loc[est, "kind"].map(FULL_LOAD_HOURS)
        out.loc[targets[given].to_numpy(), col] = values.astype(bool).to_numpy() if col in ("metered", "v2g") else values.to_numpy()
        if col == "annual_kwh":
            out.loc[targets[given].to_numpy(), "annual_source"] = "customers_file"
    ev = out["type"] == "ev"
    no_charge = ev & out["charge_kw"].isna()
    out.loc[no_charge, "charge_kw"] = out.loc[no_charge, "p_kw"]
    no_discharge = ev & out["discharge_kw"].isna()
    out.loc[no_discharge, "discharge_kw"] = np.where(out.loc[no_discharge, "v2g"].astype(bool), out.loc[no_discharge, "charge_kw"], 0.0)
    out["metered"] = out["metered"].astype(bool)
    out["v2g"] = out["v2g"].astype(bool)
    return out
