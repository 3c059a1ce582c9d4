"""northstar: North Star Metric frameworks as code.

The library behind the `northstar` CLI. It knows nothing about Superset:
`pipeline.check()` loads, schema-checks, builds and lints specs; the other
modules each do one job on the resulting model.
"""

__version__ = "0.1.0"
