"""The case and its parts: network, streets, customers, meter data (MODEL.md §1, Table 1).

A :class:`Case` is plain, typed data; every table has its units in its column names.
A :class:`Problem` is one thing wrong with the input, a :class:`CaseError` all of them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

import geopandas as gpd
import networkx as nx
import pandas as pd
import shapely

from lvbalance.params import Params

NODE_KINDS = ("busbar", "junction", "customer_access")
CUSTOMER_TYPES = ("residential", "commercial", "pv", "ev", "heat_pump")
DAY_TYPES = ("working", "non_working")
WEATHERS = ("sunny", "cloudy", "rainy")
STREET_SOURCES = ("geojson", "osm", "network_lines")

NODE_COLUMNS = ("x", "y", "kind")
LINE_COLUMNS = ("from_node", "to_node", "length_m", "rated_kw", "r_ohm_per_km", "x_ohm_per_km", "std_type")
CUSTOMER_COLUMNS = ("node_id", "x", "y", "type", "metered", "annual_kwh", "charge_kw", "discharge_kw", "v2g")
READING_COLUMNS = ("customer_id", "timestamp", "p_kw")
CALENDAR_COLUMNS = ("day_type", "weather")


# --------------------------------------------------------------------------- problems


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input: where it is and what is wrong."""

    file: str
    element: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}, {self.element}" if self.element else self.file
        return f"{where}: {self.message}"


class CaseError(ValueError):
    """A case has problems; ``problems`` lists all of them."""

    def __init__(self, problems: Iterable[Problem], source: str = "case") -> None:
        self.problems = list(problems)
        self.source = source
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{source} has {len(self.problems)} problem(s):\n{lines}")


class MissingPackageError(ImportError):
    """An optional package that a feature needs is not installed.

    ``package``: the module that is missing; ``extra``: the lvbalance extra that installs it
    (``pip install "lvbalance[extra]"``); ``feature``: what needs it.
    """

    def __init__(self, package: str, *, extra: str, feature: str) -> None:
        self.package = package
        self.extra = extra
        self.feature = feature
        super().__init__(
            f"{feature} needs the optional package '{package}', which is not installed: pip install \"lvbalance[{extra}]\"",
            name=package,
        )


# --------------------------------------------------------------------------- parts


@dataclass(frozen=True, eq=False)
class Network:
    """The LV network: a radial tree rooted at the transformer busbar.

    ``nodes``: index ``node_id``; ``x``, ``y`` [m, projected], ``kind`` (one of NODE_KINDS).
    ``lines``: index ``line_id``; ``from_node``, ``to_node``, ``length_m`` [m], ``rated_kw`` [kW],
    ``r_ohm_per_km``, ``x_ohm_per_km`` [Ω/km] (NaN when unknown), ``std_type`` (pandapower name or "").
    ``line_geometry``: optional route of each line (shapely LineString, same CRS).
    """

    nodes: pd.DataFrame
    lines: pd.DataFrame
    line_geometry: dict[str, shapely.LineString] = field(default_factory=dict)

    @property
    def busbar(self) -> str:
        """Id of the transformer LV busbar."""
        return str(self.nodes.index[self.nodes["kind"] == "busbar"][0])

    @cached_property
    def graph(self) -> nx.Graph:
        """Undirected graph of nodes and lines (edge attribute ``line_id``)."""
        g = nx.Graph()
        g.add_nodes_from(self.nodes.index)
        for line_id, row in self.lines.iterrows():
            g.add_edge(row["from_node"], row["to_node"], line_id=line_id)
        return g

    @cached_property
    def parent(self) -> pd.DataFrame:
        """For each node but the busbar: ``parent_node`` and ``line_id`` towards the busbar."""
        pred = nx.predecessor(self.graph, self.busbar)
        rows = {n: (p[0], self.graph.edges[p[0], n]["line_id"]) for n, p in pred.items() if p}
        return pd.DataFrame.from_dict(rows, orient="index", columns=["parent_node", "line_id"]).rename_axis("node_id")

    @cached_property
    def feeder_outlets(self) -> pd.Series:
        """Outlet line of each feeder, feeders labelled ``F1``, ``F2``, ... in line-table order."""
        b = self.busbar
        outlets = [lid for lid, r in self.lines.iterrows() if b in (r["from_node"], r["to_node"])]
        return pd.Series(outlets, index=[f"F{i + 1}" for i in range(len(outlets))], name="line_id").rename_axis("feeder")

    @cached_property
    def feeder_of_node(self) -> pd.Series:
        """Feeder label of every node but the busbar."""
        g = self.graph.copy()
        g.remove_node(self.busbar)
        out = {}
        for feeder, line_id in self.feeder_outlets.items():
            r = self.lines.loc[line_id]
            head = r["to_node"] if r["from_node"] == self.busbar else r["from_node"]
            for n in nx.node_connected_component(g, head):
                out[n] = feeder
        # in the order of nodes.csv: a set's order changes with the hash seed (and the outputs with it)
        order = [n for n in self.nodes.index if n in out]
        return pd.Series(out, name="feeder").reindex(order).rename_axis("node_id")

    @property
    def feeder_rating_kw(self) -> pd.Series:
        """Outlet rating of each feeder [kW]."""
        return pd.Series(self.lines.loc[self.feeder_outlets.values, "rated_kw"].to_numpy(), index=self.feeder_outlets.index)


@dataclass(frozen=True, eq=False)
class Streets:
    """Street segments with their construction cost (MODEL.md §1-2).

    ``segments``: GeoDataFrame, index ``street_id``, LineString geometry in the case CRS,
    ``cost_per_m`` [currency/m] (NaN: ``streets.default_cost_per_m``).
    ``source``: where the streets came from (one of STREET_SOURCES).
    """

    segments: gpd.GeoDataFrame
    source: str = "geojson"


@dataclass(frozen=True, eq=False)
class Case:
    """One transformer area, ready to plan.

    ``customers``: index ``customer_id``; ``node_id`` (access node), ``x``, ``y`` [m],
    ``type``, ``metered``, ``annual_kwh`` [kWh/a] (pv: generation, positive),
    ``charge_kw``, ``discharge_kw`` [kW] (ev only), ``v2g``.
    ``meter_readings``: ``customer_id``, ``timestamp`` (local, interval start), ``p_kw`` [kW]
    (pv negative).
    ``calendar``: index ``date``; ``day_type``, ``weather``.
    """

    name: str
    crs: str
    network: Network
    streets: Streets
    customers: pd.DataFrame
    meter_readings: pd.DataFrame
    calendar: pd.DataFrame
    params: Params = field(default_factory=Params)
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def ev_customers(self) -> pd.DataFrame:
        return self.customers[self.customers["type"] == "ev"]

    def with_params(self, params: Params) -> Case:
        """The same case with other parameters."""
        return Case(
            self.name,
            self.crs,
            self.network,
            self.streets,
            self.customers,
            self.meter_readings,
            self.calendar,
            params,
            dict(self.metadata),
        )
