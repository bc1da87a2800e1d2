"""Import a SimBench LV grid as a :class:`~lvbalance.case.Case`, with meter data from its profiles.

SimBench (https://simbench.de, ODbL) ships a year (2016) of 15-min profiles normalised to a
peak of 1: a load's power is ``p_mw * profile``, a PV plant's ``p_mw * profile``. This
module turns them into what a planner has (MODEL.md §1):

* ``annual_kwh`` of every customer: ``p_kw * sum(profile) * 0.25 h`` over 2016;
* smart-meter readings for a seeded share of customers over a span of weeks, each
  customer's profile shifted by a few whole weeks and up to +-30 min so that customers of
  one profile are not identical;
* a calendar: working / non-working days from ``holidays`` (Germany) plus weekends, and
  a weather label per day from the terciles of daily PV energy (sunny / cloudy / rainy).

simbench is an optional dependency (``pip install lvbalance[simbench]``).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from lvbalance.case import Case
from lvbalance.io.pandapower import CASE_CUSTOMER_COLUMNS, network_from_pandapower
from lvbalance.io.streets import streets_from_network_lines

logger = logging.getLogger(__name__)

#: SimBench profiles: 2016, 15-min steps, local time without DST shifts.
PROFILE_YEAR_START = pd.Timestamp("2016-01-01 00:00")
STEP_H = 0.25
STEPS_PER_DAY = 96


def _require_simbench():
    try:
        import simbench
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "SimBench import needs the optional package 'simbench': pip install 'lvbalance[simbench]'"
        ) from exc
    return simbench


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


def make_calendar(
    pv_profile: pd.Series, *, country: str = "DE", subdiv: str | None = None
) -> pd.DataFrame:
    """Calendar (index ``date``; ``day_type``, ``weather``) over the days of ``pv_profile``.

    ``pv_profile``: 15-min PV power (any unit) indexed by time stamp.
    """
    daily = pv_profile.groupby(pv_profile.index.normalize()).sum()
    dates = pd.DatetimeIndex(daily.index, name="date")
    cal = pd.DataFrame({"day_type": day_types(dates, country=country, subdiv=subdiv).to_numpy(),
                        "weather": weather_from_pv(daily).to_numpy()}, index=dates)
    return cal


def readings_frame(series: dict[str, np.ndarray], index: pd.DatetimeIndex) -> pd.DataFrame:
    """Long meter table (customer_id, timestamp, p_kw) from one array per customer [kW]."""
    if not series:
        return pd.DataFrame({"customer_id": pd.Series(dtype=str), "timestamp": pd.Series(dtype="datetime64[ns]"),
                             "p_kw": pd.Series(dtype=float)})
    ids = list(series)
    return pd.DataFrame({
        "customer_id": np.repeat(np.array(ids, dtype=object), len(index)),
        "timestamp": np.tile(index.to_numpy(), len(ids)),
        "p_kw": np.concatenate([series[c] for c in ids]).astype(float),
    })


def case_from_simbench(
    code: str,
    *,
    meter_share: float = 0.4,
    seed: int = 0,
    start: str = "2016-04-04",
    weeks: int = 4,
) -> Case:
    """A :class:`Case` from a SimBench LV grid code, e.g. ``'1-LV-rural1--0-sw'``.

    Parameters
    ----------
    code
        SimBench code of an LV grid (one transformer).
    meter_share
        Share of customers with a smart meter (seeded choice) [0..1].
    seed
        Seed of the meter choice and the per-customer profile shifts.
    start, weeks
        First day and length of the metered span (within 2016) [weeks].

    Streets are derived from the network's line routes (SimBench has no street data).
    """
    sb = _require_simbench()
    net = sb.get_simbench_net(code)
    imported = network_from_pandapower(net)
    customers = imported.customers.copy()
    rng = np.random.default_rng(seed)

    load_prof = net.profiles["load"]
    res_prof = net.profiles["renewables"]
    n_year = len(load_prof)
    t0 = int((pd.Timestamp(start) - PROFILE_YEAR_START) / pd.Timedelta("15min"))
    n = weeks * 7 * STEPS_PER_DAY
    index = profile_index(n_year)[t0 : t0 + n]

    def shape_of(row) -> np.ndarray | None:
        if row["element"] == "sgen":
            col = row["profile"] if row["profile"] in res_prof else None
            return None if col is None else res_prof[col].to_numpy(dtype=float)
        col = f"{row['profile']}_pload"
        return load_prof[col].to_numpy(dtype=float) if col in load_prof else None

    n_meter = int(round(meter_share * len(customers)))
    metered = set(rng.choice(customers.index.to_numpy(), size=n_meter, replace=False)) if n_meter else set()
    series: dict[str, np.ndarray] = {}
    for cid, row in customers.iterrows():
        shape = shape_of(row)
        if shape is None:
            logger.warning("customer %s: no SimBench profile %r; annual energy from full-load hours", cid, row["profile"])
            customers.at[cid, "metered"] = False
            continue
        customers.at[cid, "annual_kwh"] = float(row["p_kw"] * shape.sum() * STEP_H)
        if cid in metered:
            shift = int(rng.integers(-2, 3)) * 7 * STEPS_PER_DAY + int(rng.integers(-2, 3))
            p = row["p_kw"] * shifted_window(shape, t0, n, shift)
            series[cid] = -p if row["type"] == "pv" else p
            customers.at[cid, "metered"] = True

    pv_cols = [c for c in res_prof.columns if str(c).upper().startswith("PV")]
    pv_col = pv_cols[0] if pv_cols else None
    if pv_col is None:
        logger.warning("%s has no PV profile: weather labels from the SimBench PV5 profile are not available; all days 'cloudy'", code)
        calendar = pd.DataFrame({"day_type": day_types(pd.DatetimeIndex(index.normalize().unique(), name="date")).to_numpy(),
                                 "weather": "cloudy"}, index=pd.DatetimeIndex(index.normalize().unique(), name="date"))
    else:
        pv = pd.Series(res_prof[pv_col].to_numpy(dtype=float)[t0 : t0 + n], index=index)
        calendar = make_calendar(pv, country="DE")

    customers["metered"] = customers["metered"].astype(bool)
    return Case(
        name=code,
        crs=imported.crs,
        network=imported.network,
        streets=streets_from_network_lines(imported.network, imported.crs),
        customers=customers[CASE_CUSTOMER_COLUMNS].copy(),
        meter_readings=readings_frame(series, index),
        calendar=calendar,
        metadata={
            "description": f"SimBench LV grid {code} with meter readings from its own 2016 profiles",
            "country": "DE",
            "timezone": "Europe/Berlin",
            "source": "simbench",
            "streets_source": "network_lines",
            "streets_note": "streets derived from the network's own line routes (SimBench has no street data)",
            "attribution": "SimBench (simbench.de), Open Database License (ODbL) 1.0",
            "license": "ODbL-1.0",
        },
    )


def simbench_profile_dir() -> Path:
    """Folder of the complete SimBench data set shipped in the simbench package (profile CSVs)."""
    sb = _require_simbench()
    return Path(sb.__file__).parent / "networks" / "1-complete_data-mixed-all-1-sw"
