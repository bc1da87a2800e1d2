"""Import a SimBench LV grid as a :class:`~lvbalance.case.Case`, with meter data from its profiles.

SimBench (https://simbench.de, ODbL) ships a year (2016) of 15-min profiles normalised to a
peak of 1: a load's power is ``p_mw * profile``, a PV plant's ``p_mw * profile``. This
module turns them into what a planner has (MODEL.md §1):

* **customer types** from the SimBench profile of each load
  (:func:`~lvbalance.io.customers.customer_type_of_load`): ``HLS_*`` (home charging) and
  ``APLS_*`` (workplace / public charging) loads are ``ev`` charging points, ``Air_*`` and
  ``Soil_*`` loads are ``heat_pump``, ``H*`` residential, ``G*`` / ``L*`` commercial; sgens
  are ``pv``;
* **charger ratings** of an ev customer: ``charge_kw`` = the load's ``p_mw`` [kW] (its power at
  full charge: the SimBench charging profiles peak at 0.95-1.0 of it, so no reading exceeds
  the rating), ``discharge_kw = charge_kw`` (MODEL.md §9: ``Pd = Pc``). ``v2g`` for a seeded
  share ``v2g_share`` of them, by default all: who joins V2G at which hour is already the
  model's participation share ``alpha`` (MODEL.md §5), and SimBench says nothing about V2G;
* ``annual_kwh`` of every customer: ``p_kw * sum(profile) * 0.25 h`` over 2016 (heat pumps
  and charging points: their own SimBench profiles);
* smart-meter readings for a seeded share of customers over a span of weeks, each
  customer's profile shifted by a few whole weeks and up to +-30 min so that customers of
  one profile are not identical;
* a calendar: working / non-working days from ``holidays`` (Germany) plus weekends, and
  a weather label per day from the terciles of daily PV energy (sunny / cloudy / rainy);
* elements the model has no place for (storage units, generators, motors, ...) are listed in
  a WARNING log and in ``metadata["not_modelled"]``; their power is left out of the case.

simbench is an optional dependency (``pip install "lvbalance[simbench]"``): without it,
:func:`require_simbench` raises :class:`~lvbalance.case.MissingPackageError`.
"""

from __future__ import annotations

import importlib
import logging
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd

from lvbalance.case import Case, CaseError, MissingPackageError, Problem
from lvbalance.io.customers import customer_type_of_load
from lvbalance.io.pandapower import CASE_CUSTOMER_COLUMNS, network_from_pandapower
from lvbalance.io.streets import streets_from_network_lines
from lvbalance.io.timeseries import readings_frame

logger = logging.getLogger(__name__)

#: SimBench profiles: 2016, 15-min steps, local time without DST shifts.
PROFILE_YEAR_START = pd.Timestamp("2016-01-01 00:00")
STEP_H = 0.25
STEPS_PER_DAY = 96

#: pandapower element tables with power the case has no customer type for.
NOT_MODELLED_ELEMENTS = ("storage", "gen", "motor", "shunt", "ward", "xward", "asymmetric_load", "asymmetric_sgen")

#: What a SimBench code of one LV grid looks like (``1-LV-rural1--0-sw``).
CODE_FORM = "1-LV-<grid>--<scenario>-<sw|no_sw>"
_LV_CODE = re.compile(r"^1-LV-(?P<grid>[a-z]+\d)--(?P<scenario>[012])-(?P<switches>sw|no_sw)$")
LV_GRIDS = ("rural1", "rural2", "rural3", "semiurb4", "semiurb5", "urban6")


def require_simbench() -> ModuleType:
    """The ``simbench`` package; :class:`MissingPackageError` (naming the extra) when it is not installed."""
    try:
        return importlib.import_module("simbench")
    except ImportError:
        raise MissingPackageError("simbench", extra="simbench", feature="SimBench import") from None


def check_simbench_code(code: str) -> None:
    """Raise a :class:`CaseError` unless ``code`` names one SimBench LV grid (one transformer area).

    Valid: ``1-LV-<grid>--<scenario>-<sw|no_sw>`` with a grid of :data:`LV_GRIDS` and scenario
    0 (today), 1 or 2 (future load, EV, heat-pump and PV shares), e.g. ``1-LV-urban6--2-sw``.
    MV and HV grids (and LV grids joined to them) have many transformer areas: not one case.
    """
    m = _LV_CODE.match(code.strip())
    if m is not None and m["grid"] in LV_GRIDS:
        return
    msg = (
        f"is not the code of a SimBench LV grid: codes look like {CODE_FORM}, with grid one of {', '.join(LV_GRIDS)}, "
        "scenario 0 (today), 1 or 2 (future EV, heat-pump and PV shares), e.g. 1-LV-rural1--0-sw or 1-LV-urban6--2-sw"
    )
    raise CaseError([Problem("SimBench code", repr(code), msg)], source="SimBench import")


def not_modelled(net: Any) -> list[str]:
    """In-service elements the case leaves out, one entry per element table: ``"storage: 7 (names)"``."""
    out = []
    for element in NOT_MODELLED_ELEMENTS:
        tab = net.get(element)
        if tab is None or not len(tab):
            continue
        tab = tab[tab["in_service"].astype(bool)] if "in_service" in tab else tab
        if not len(tab):
            continue
        names = tab["name"].astype("string").fillna("") if "name" in tab else pd.Series("", index=tab.index)
        labels = [str(n) if n else f"{element} {i}" for i, n in names.items()]
        out.append(f"{element}: {len(labels)} ({', '.join(labels)})")
    return out


def profile_index(n: int) -> pd.DatetimeIndex:
    """Time stamps (interval start) of ``n`` SimBench profile steps."""
    return pd.date_range(PROFILE_YEAR_START, periods=n, freq="15min")


def shifted_window(profile: np.ndarray, start_step: int, n_steps: int, shift_steps: int) -> np.ndarray:
    """``profile[start+shift : start+shift+n]``, wrapping around the year."""
    idx = (np.arange(n_steps) + start_step + shift_steps) % len(profile)
    return profile[idx]


def day_types(dates: pd.DatetimeIndex, *, country: str = "DE", subdiv: str | None = None) -> pd.Series:
    """``working`` or ``non_working`` (weekends and public holidays of ``country``/``subdiv``)."""
    import holidays

    hol = holidays.country_holidays(country, subdiv=subdiv, years=sorted(set(dates.year)))
    non = (dates.dayofweek >= 5) | np.array([d.date() in hol for d in dates])
    return pd.Series(np.where(non, "non_working", "working"), index=dates, name="day_type")


def weather_from_pv(pv_daily_kwh: pd.Series) -> pd.Series:
    """Weather label per day from the terciles of daily PV energy: top third ``sunny``,
    middle ``cloudy``, bottom ``rainy``."""
    lo, hi = pv_daily_kwh.quantile([1 / 3, 2 / 3])
    label = np.where(pv_daily_kwh > hi, "sunny", np.where(pv_daily_kwh > lo, "cloudy", "rainy"))
    return pd.Series(label, index=pv_daily_kwh.index, name="weather")


def make_calendar(pv_profile: pd.Series, *, country: str = "DE", subdiv: str | None = None) -> pd.DataFrame:
    """Calendar (index ``date``; ``day_type``, ``weather``) over the days of ``pv_profile``.

    ``pv_profile``: 15-min PV power (any unit) indexed by time stamp.
    """
    daily = pv_profile.groupby(pv_profile.index.normalize()).sum()
    dates = pd.DatetimeIndex(daily.index, name="date")
    return pd.DataFrame(
        {"day_type": day_types(dates, country=country, subdiv=subdiv).to_numpy(), "weather": weather_from_pv(daily).to_numpy()},
        index=dates,
    )


def typed_customers(customers: pd.DataFrame, *, v2g_share: float, rng: np.random.Generator) -> pd.DataFrame:
    """``customers`` (pandapower import, with ``element``, ``profile``, ``p_kw``) typed by their
    SimBench profiles, ev customers with their charger ratings and V2G flags (see module doc).

    ``v2g_share``: share of the ev customers that take part in V2G (seeded choice by ``rng``) [0..1].
    """
    out = customers.copy()
    load = (out["element"] == "load").to_numpy()
    out.loc[load, "type"] = [customer_type_of_load(p, "") for p in out.loc[load, "profile"]]
    ev = (out["type"] == "ev").to_numpy()
    out["charge_kw"] = np.where(ev, out["p_kw"].astype(float), np.nan)
    out["discharge_kw"] = out["charge_kw"]
    ev_ids = out.index[ev].to_numpy()
    n_v2g = int(round(v2g_share * len(ev_ids)))
    v2g = set(rng.choice(ev_ids, size=n_v2g, replace=False)) if 0 < n_v2g < len(ev_ids) else set(ev_ids[:n_v2g])
    out["v2g"] = out.index.isin(list(v2g))
    return out


def _check_options(*, meter_share: float, v2g_share: float, start: str, weeks: int) -> None:
    """Raise one :class:`CaseError` listing every option out of range."""
    problems = [
        Problem("SimBench import", f"{name} (--{name.replace('_', '-')})", f"must be a share in [0, 1], got {value!r}")
        for name, value in (("meter_share", meter_share), ("v2g_share", v2g_share))
        if not 0.0 <= value <= 1.0
    ]
    first = pd.Timestamp(start) if _is_date(start) else None
    if (
        first is None
        or first < PROFILE_YEAR_START
        or first + pd.Timedelta(weeks=max(weeks, 1)) > PROFILE_YEAR_START + pd.Timedelta(days=366)
    ):
        problems.append(Problem("SimBench import", "start", f"the metered span must lie in 2016 (the SimBench profiles), got {start!r}"))
    if weeks < 1:
        problems.append(Problem("SimBench import", "weeks", f"must be at least 1, got {weeks}"))
    if problems:
        raise CaseError(problems, source="SimBench import")


def _is_date(text: str) -> bool:
    try:
        pd.Timestamp(text)
    except (ValueError, TypeError):
        return False
    return True


def case_from_simbench(
    code: str,
    *,
    meter_share: float = 0.4,
    seed: int = 0,
    start: str = "2016-04-04",
    weeks: int = 4,
    v2g_share: float = 1.0,
) -> Case:
    """A :class:`Case` from a SimBench LV grid code, e.g. ``'1-LV-rural1--0-sw'`` (see module doc).

    Parameters
    ----------
    code
        SimBench code of an LV grid (one transformer), :data:`CODE_FORM`.
    meter_share
        Share of customers with a smart meter (seeded choice) [0..1].
    seed
        Seed of the meter choice, the V2G choice and the per-customer profile shifts.
    start, weeks
        First day and length of the metered span (within 2016) [weeks].
    v2g_share
        Share of the ev customers with V2G (seeded choice) [0..1]; 1: all of them.

    Streets are derived from the network's line routes (SimBench has no street data).
    Raises :class:`CaseError` for a code that is not one of an LV grid and
    :class:`MissingPackageError` without the ``simbench`` package.
    """
    check_simbench_code(code)
    _check_options(meter_share=meter_share, v2g_share=v2g_share, start=start, weeks=weeks)
    code = code.strip()
    sb = require_simbench()
    net = sb.get_simbench_net(code)
    imported = network_from_pandapower(net)
    rng = np.random.default_rng(seed)
    customers = typed_customers(imported.customers, v2g_share=v2g_share, rng=rng)

    load_prof = net.profiles["load"]
    res_prof = net.profiles["renewables"]
    n_year = len(load_prof)
    t0 = int((pd.Timestamp(start) - PROFILE_YEAR_START) / pd.Timedelta("15min"))
    n = weeks * 7 * STEPS_PER_DAY
    index = profile_index(n_year)[t0 : t0 + n]

    def shape_of(row: pd.Series) -> np.ndarray | None:
        if row["element"] == "sgen":
            col = row["profile"] if row["profile"] in res_prof else None
            return None if col is None else res_prof[col].to_numpy(dtype=float)
        col = f"{row['profile']}_pload"
        return load_prof[col].to_numpy(dtype=float) if col in load_prof else None

    n_meter = int(round(meter_share * len(customers)))
    metered = set(rng.choice(customers.index.to_numpy(), size=n_meter, replace=False)) if n_meter else set()
    series: dict[str, np.ndarray] = {}
    customers["metered"] = False
    for cid, row in customers.iterrows():
        shape = shape_of(row)
        if shape is None:
            logger.warning("customer %s: no SimBench profile %r; annual energy from full-load hours", cid, row["profile"])
            continue
        customers.at[cid, "annual_kwh"] = float(row["p_kw"] * shape.sum() * STEP_H)
        if cid in metered:
            shift = int(rng.integers(-2, 3)) * 7 * STEPS_PER_DAY + int(rng.integers(-2, 3))
            p = row["p_kw"] * shifted_window(shape, t0, n, shift)
            series[str(cid)] = -p if row["type"] == "pv" else p
            customers.at[cid, "metered"] = True

    pv_cols = [c for c in res_prof.columns if str(c).upper().startswith("PV")]
    if not pv_cols:
        logger.warning("%s has no PV profile: no weather labels from PV energy; all days 'cloudy'", code)
        dates = pd.DatetimeIndex(index.normalize().unique(), name="date")
        calendar = pd.DataFrame({"day_type": day_types(dates).to_numpy(), "weather": "cloudy"}, index=dates)
    else:
        pv = pd.Series(res_prof[pv_cols[0]].to_numpy(dtype=float)[t0 : t0 + n], index=index)
        calendar = make_calendar(pv, country="DE")

    left_out = not_modelled(net)
    for entry in left_out:
        logger.warning("%s: not modelled, left out of the case: %s", code, entry)
    counts = customers["type"].value_counts()
    logger.info("%s: %s customers (%s)", code, len(customers), ", ".join(f"{t} {k}" for t, k in counts.items()))
    metadata = {
        "description": f"SimBench LV grid {code} with meter readings from its own 2016 profiles",
        "country": "DE",
        "timezone": "Europe/Berlin",
        "source": "simbench",
        "streets_source": "network_lines",
        "streets_note": "streets derived from the network's own line routes (SimBench has no street data)",
        "attribution": "SimBench (simbench.de), Open Database License (ODbL) 1.0",
        "license": "ODbL-1.0",
    }
    if left_out:
        metadata["not_modelled"] = "; ".join(left_out)
    customers["metered"] = customers["metered"].astype(bool)
    return Case(
        name=code,
        crs=imported.crs,
        network=imported.network,
        streets=streets_from_network_lines(imported.network, imported.crs),
        customers=customers[CASE_CUSTOMER_COLUMNS].copy(),
        meter_readings=readings_frame(series, index),
        calendar=calendar,
        metadata=metadata,
    )


def simbench_profile_dir() -> Path:
    """Folder of the complete SimBench data set shipped in the simbench package (profile CSVs)."""
    package_dir = Path(str(require_simbench().__file__)).parent
    return package_dir / "networks" / "1-complete_data-mixed-all-1-sw"
