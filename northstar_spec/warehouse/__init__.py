"""Metrics computed where the data is: read-only engines with a statement
timeout for the databases of northstar.yaml (and what else their users may
write), the calendar of periods, one scan per source and grain
(evaluate), and what reads the values: guardrails, the digest, the backtest.
Imports the spec core only; never the review tools.
"""

from northstar_spec.warehouse.engines import WarehouseError, Warehouses, write_access
from northstar_spec.warehouse.evaluate import Evaluation, Series, evaluate

__all__ = ["Evaluation", "Series", "WarehouseError", "Warehouses", "evaluate", "write_access"]
