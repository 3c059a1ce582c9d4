"""Everything that knows Superset: the bundle compiler, the REST client, the
deploy commands and the in-Superset North Star page. Imports northstar_spec,
never the reverse."""
