"""The spec language: YAML loaded with the position of every node, checked
against the JSON Schema, built into an immutable model and linted against
the method. The core every other room builds on; it imports none of them.

The library API: `check()` runs load -> schema -> model -> lint over spec
files and returns the specs with every finding as a `Diagnostic`.
"""

from northstar_spec.spec.diagnostics import Diagnostic, Location, Severity, has_errors
from northstar_spec.spec.model import Project, Spec
from northstar_spec.spec.pipeline import (
    PROJECT_FILE,
    PreviousSpecs,
    Result,
    UsageError,
    check,
    discover,
    display_path,
    find_project_file,
    load_project,
)

__all__ = [
    "PROJECT_FILE",
    "Diagnostic",
    "Location",
    "PreviousSpecs",
    "Project",
    "Result",
    "Severity",
    "Spec",
    "UsageError",
    "check",
    "discover",
    "display_path",
    "find_project_file",
    "has_errors",
    "load_project",
]
