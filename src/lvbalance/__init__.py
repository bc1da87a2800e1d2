"""lvbalance: street-aware load rebalancing of low-voltage feeders with V2G scheduling.

Implements Lu et al., "A low voltage load balancing distribution method considering
street information and V2G technology application", Front. Energy Res. 12 (2024),
doi:10.3389/fenrg.2024.1479216 — see MODEL.md for the equations.
"""

from lvbalance.case import Case, CaseError, Network, Problem, Streets, check_case, validate_case
from lvbalance.params import Params

__all__ = ["Case", "CaseError", "Network", "Params", "Problem", "Streets", "check_case", "validate_case"]
__version__ = "0.1.0"
