"""Everything that knows Superset, in four rooms: `compiler` (spec model ->
v1 asset bundle, pure), `deploy` (the REST client, the plan, its
application, drift and the model published to the page), `inside` (the
North Star page served by Superset itself) and `local` (a Superset on this
machine for `make demo` and the tests). Imports northstar_spec, never the
reverse; `cli` plugs compile, deploy and drift into the `northstar` command.
"""
