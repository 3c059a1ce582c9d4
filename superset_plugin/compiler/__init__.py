"""Spec model -> Superset 6.1 v1 asset bundle: databases, datasets, charts,
one dashboard per spec and a portfolio. A pure function of the specs, the
project and the database URIs: no clock, no network."""

from superset_plugin.compiler.assets import CERTIFIED_BY, CompileError, compile_bundle, fingerprint_of, spec_url
from superset_plugin.compiler.bundle import Bundle, OutputError

__all__ = ["CERTIFIED_BY", "Bundle", "CompileError", "OutputError", "compile_bundle", "fingerprint_of", "spec_url"]
