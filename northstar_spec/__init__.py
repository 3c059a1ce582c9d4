"""northstar: North Star Metric frameworks as code.

The library behind the `northstar` CLI, in three rooms that know nothing
about Superset:

- `northstar_spec.spec`: the spec language: loading with file:line:col,
  schema, model, metric SQL, lint rules, and `check()`, the pipeline every
  command starts from;
- `northstar_spec.review`: specs at git revisions, the semantic diff of two
  of them, CODEOWNERS;
- `northstar_spec.warehouse`: metrics computed on the warehouse, and what
  reads them (guardrails, digest, backtest).

`northstar_spec.cli` is the thin click layer over them.
"""

__version__ = "0.1.0"
