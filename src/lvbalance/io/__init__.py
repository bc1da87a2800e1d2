"""Input and output: case directories, pandapower / SimBench import, street sources."""

from lvbalance.io.casedir import read_case, write_case

__all__ = ["read_case", "write_case"]
