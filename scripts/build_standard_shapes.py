"""Build ``src/lvbalance/data/standard_shapes.csv``: standard daily shapes of EV home charging and heat pumps.

Source: the SimBench 2016 load profiles shipped in the ``simbench`` package (simbench.de, Open
Database License 1.0; see ``src/lvbalance/data/ATTRIBUTION.md``):

* ``ev``: the home-charging profiles ``HLS_A_3.7``, ``HLS_B_3.7``, ``HLS_C_3.7``, ``HLS_A_11.0``,
  ``HLS_B_11.0``, ``HLS_A_22.0`` (Heimladestation: charging point at home);
* ``heat_pump``: ``Air_Alternative_1/2``, ``Air_Parallel_1/2``, ``Air_Semi-Parallel_1/2``,
  ``Soil_Alternative_1/2``.

Each profile is scaled to an annual energy of 1 MWh, the profiles of a type are averaged, and the
average is reduced to its mean power per (month, day type, 15-min step of the clock day). The rows are
read on the ``time`` column of the file (German legal time, i.e. local wall-clock time); at the DST fold
the two occurrences of 02:00-02:45 are both averaged in, the spring gap simply has fewer samples.
Day type: Saturdays, Sundays and German public holidays of 2016 (``holidays`` package, DE) are
non-working.

Output: one row per (type, day_type, month); columns ``type``, ``day_type``, ``month``, then ``0`` ..
``95``: mean power of the 15-min step starting at clock time ``step * 15 min`` [kW per MWh/a]. The
library reads it at run time (:mod:`lvbalance.profiles.standard`); nothing is downloaded.

Run: ``python scripts/build_standard_shapes.py`` (needs the ``simbench`` extra).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import holidays
import numpy as np
import pandas as pd

PROFILES = {
    "ev": ["HLS_A_3.7", "HLS_B_3.7", "HLS_C_3.7", "HLS_A_11.0", "HLS_B_11.0", "HLS_A_22.0"],
    "heat_pump": [
        "Air_Alternative_1",
        "Air_Alternative_2",
        "Air_Parallel_1",
        "Air_Parallel_2",
        "Air_Semi-Parallel_1",
        "Air_Semi-Parallel_2",
        "Soil_Alternative_1",
        "Soil_Alternative_2",
    ],
}
OUT = Path(__file__).resolve().parents[1] / "src" / "lvbalance" / "data" / "standard_shapes.csv"
STEP_H = 0.25


def simbench_profile_csv() -> Path:
    """``LoadProfile.csv`` of the complete SimBench data set in the installed simbench package."""
    import simbench

    return Path(simbench.__file__).parent / "networks" / "1-complete_data-mixed-all-1-sw" / "LoadProfile.csv"


def shapes(load: pd.DataFrame) -> pd.DataFrame:
    """Mean power per (type, day type, month, clock step) [kW per MWh/a] from the SimBench rows."""
    local = pd.to_datetime(load["time"], format="%d.%m.%Y %H:%M")
    hol = holidays.country_holidays("DE", years=2016)
    dates = local.dt.normalize()
    non_working = (dates.dt.dayofweek >= 5) | dates.dt.date.isin(list(hol))
    key = pd.DataFrame(
        {
            "day_type": np.where(non_working, "non_working", "working"),
            "month": local.dt.month,
            "step": local.dt.hour * 4 + local.dt.minute // 15,
        }
    )
    rows = []
    for typ, names in PROFILES.items():
        p = load[[f"{n}_pload" for n in names]].to_numpy(dtype=float)
        p = p / (p.sum(axis=0) * STEP_H / 1000.0)  # each profile: 1 MWh over the year
        mean = key.assign(kw=p.mean(axis=1)).groupby(["day_type", "month", "step"])["kw"].mean()
        wide = mean.unstack("step").reset_index()
        wide.insert(0, "type", typ)
        rows.append(wide)
    out = pd.concat(rows, ignore_index=True)
    out.columns = [str(c) for c in out.columns]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    src = simbench_profile_csv()
    cols = ["time"] + [f"{n}_pload" for names in PROFILES.values() for n in names]
    table = shapes(pd.read_csv(src, sep=";", usecols=cols))
    table.to_csv(args.out, index=False, float_format="%.5g")
    print(f"wrote {args.out} ({len(table)} rows) from {src}")


if __name__ == "__main__":
    main()
