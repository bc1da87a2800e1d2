"""The ``lvbalance`` command: a thin layer that passes data between the library's functions.

One module a group of commands; importing the package registers them all on :data:`app`,
in the order of ``lvbalance --help``.
"""

# isort: off
from lvbalance.cli import plan, imports, params, batch
from lvbalance.cli.common import app

# isort: on

__all__ = ["app", "batch", "imports", "params", "plan"]
