"""The Superset target's check for `northstar validate`: compile to nowhere.

Registered under the `northstar.checks` entry point, so that `northstar
validate` (which never imports this package) runs the compiler on every
valid spec and a spec that validates also compiles. Offline, without the
databases' URIs, a placeholder in each database's declared dialect stands
in for each missing one: the compiler needs a dialect, not a connection.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from northstar_spec.spec.diagnostics import Diagnostic, Location
from northstar_spec.spec.model import Project, Spec
from northstar_spec.spec.rules.works import COMPILES
from superset_plugin.compiler.assets import CompileError, compile_bundle

#: The dialect of a placeholder when the database declares none: PostgreSQL reads portable SQL as
#: written, and compiling for it needs no driver and opens no connection.
PLACEHOLDER_DIALECT = "postgresql"


def placeholders(project: Project, environ: Mapping[str, str]) -> dict[str, str]:
    """A placeholder URI, in the declared dialect, for each database whose variable the environment does not set."""
    return {
        db.uri_env: f"{db.dialect or PLACEHOLDER_DIALECT}://"
        for db in project.databases.values()
        if not environ.get(db.uri_env)
    }


def check(specs: Sequence[Spec], project: Project, environ: Mapping[str, str]) -> list[Diagnostic]:
    """What keeps these specs from compiling into a Superset bundle, as located findings."""
    try:
        compile_bundle(specs, project, {**environ, **placeholders(project, environ)})
    except CompileError as exc:
        where = exc.location or Location(project.file)
        message = str(exc).removeprefix(f"{where.file}: ")
        return [COMPILES.diagnostic(where, f"the Superset compiler refuses: {message}")]
    return []
