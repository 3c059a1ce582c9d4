"""Metrics computed where the data is: engines for the databases of
northstar.yaml, the calendar of periods, one scan per source and grain
(evaluate), and what reads the values: guardrails, the digest, the backtest.
Imports the spec core only; never the review tools.
"""

from northstar_spec.warehouse.engines import WarehouseError, Warehouses
from northstar_spec.warehouse.evaluate import Evaluation, Series, evaluate

__all__ = ["Evaluation", "Series", "WarehouseError", "Warehouses", "evaluate"]
