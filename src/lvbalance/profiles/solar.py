"""Where the area lies and its clear-sky pv shape (MODEL.md §3.3, pv without meters).

:func:`site_of` turns the network's centroid (case CRS, projected) into longitude and
latitude and finds the local time zone; :func:`clear_sky_clock_days` gives the clear-sky
irradiance on a fixed module plane (pvlib: Ineichen-Perez clear sky with its Linke turbidity
climatology, isotropic-sky transposition) over local wall-clock days, the shape of a
pv customer's generation on a cloudless day.
"""

from __future__ import annotations

import logging
import zoneinfo
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyproj

from lvbalance.case import Case

log = logging.getLogger(__name__)

#: Resolution of the clock-day arrays of this module [min].
CLOCK_STEP_MINUTES = 15


@dataclass(frozen=True)
class Site:
    """Location of a transformer area.

    ``lon_deg``, ``lat_deg``: WGS 84 longitude and latitude of the network's centroid [deg].
    ``timezone``: IANA name of the local time zone of the meter readings' wall clock.
    """

    lon_deg: float
    lat_deg: float
    timezone: str


def site_of(case: Case) -> Site:
    """The network's centroid in WGS 84 and the local time zone.

    The time zone is the case metadata's ``timezone`` (IANA name); without one, a fixed
    offset from the longitude (``round(lon / 15)`` hours, no daylight saving), logged.
    """
    nodes = case.network.nodes
    x = float(pd.to_numeric(nodes["x"]).mean())
    y = float(pd.to_numeric(nodes["y"]).mean())
    lon, lat = pyproj.Transformer.from_crs(case.crs, "EPSG:4326", always_xy=True).transform(x, y)
    tz = str(case.metadata.get("timezone", "") or "")
    try:
        zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        hours = int(round(lon / 15.0))
        # Etc/GMT zones count the other way: Etc/GMT-1 is UTC+1
        fallback = "UTC" if hours == 0 else f"Etc/GMT{-hours:+d}"
        log.info(
            "case metadata has no known timezone (%r): clock times taken as %s (UTC%+d h) from the longitude %.2f", tz, fallback, hours, lon
        )
        tz = fallback
    return Site(float(lon), float(lat), tz)


def clear_sky_clock_days(site: Site, first: pd.Timestamp, n_days: int, *, tilt_deg: float, azimuth_deg: float | None = None) -> np.ndarray:
    """Clear-sky irradiance on the module plane over ``n_days`` local clock days from ``first``.

    Each value is the irradiance at the middle of a 15-min step (local wall clock, steps
    from 00:00) [W/m2]; shape (n_days, 96). Clock times that do not exist or occur twice
    at a daylight-saving change (at night) are taken as standard time.

    Parameters
    ----------
    site
        Longitude, latitude and time zone.
    first, n_days
        First local date and number of days.
    tilt_deg
        Module tilt from horizontal [deg].
    azimuth_deg
        Module azimuth clockwise from north [deg]; None: facing the equator.
    """
    import pvlib  # a second to import; only pv without meters needs it

    per_day = 24 * 60 // CLOCK_STEP_MINUTES
    if azimuth_deg is None:
        azimuth_deg = 180.0 if site.lat_deg >= 0 else 0.0
    naive = pd.date_range(pd.Timestamp(first).normalize(), periods=n_days * per_day, freq=f"{CLOCK_STEP_MINUTES}min")
    naive = naive + pd.Timedelta(minutes=CLOCK_STEP_MINUTES / 2)
    local = naive.tz_localize(site.timezone, ambiguous=np.zeros(len(naive), dtype=bool), nonexistent="shift_forward")
    location = pvlib.location.Location(site.lat_deg, site.lon_deg, tz=site.timezone)
    sun = location.get_solarposition(local)
    sky = location.get_clearsky(local, model="ineichen", solar_position=sun)
    poa = pvlib.irradiance.get_total_irradiance(
        tilt_deg, azimuth_deg, sun["apparent_zenith"], sun["azimuth"], sky["dni"], sky["ghi"], sky["dhi"]
    )["poa_global"]
    return np.clip(poa.fillna(0.0).to_numpy(dtype=float), 0.0, None).reshape(n_days, per_day)
