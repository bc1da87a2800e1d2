"""Output files of the profiles step: ``scenarios.csv`` and ``profiles.csv`` (DESIGN.md outputs)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from lvbalance.dims import CUSTOMER, SCENARIO, STEP
from lvbalance.profiles.build import ProfileResult
from lvbalance.results import write_csv


def write_profiles(result: ProfileResult, out_dir: str | os.PathLike) -> None:
    """Write the scenarios of ``result`` into ``out_dir``, each file atomically.

    ``scenarios.csv``: scenario, probability [-], day_type, weather.
    ``profiles.csv``: scenario, step, customer_id, p_kw [kW] (long format, scenarios x
    steps x customers in the order of ``result.scenarios.p_kw``).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    sc = result.scenarios
    write_csv(out / "scenarios.csv", sc.scenarios.reset_index()[[SCENARIO, "probability", "day_type", "weather"]])
    p = sc.p_kw.transpose(SCENARIO, STEP, CUSTOMER)
    S, T, C = p.shape
    long = pd.DataFrame(
        {
            SCENARIO: np.repeat(p[SCENARIO].values, T * C),
            STEP: np.tile(np.repeat(p[STEP].values, C), S),
            "customer_id": np.tile(p[CUSTOMER].values, S * T),
            "p_kw": p.values.ravel(),
        }
    )
    write_csv(out / "profiles.csv", long)
