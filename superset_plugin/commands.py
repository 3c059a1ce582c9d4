"""The Superset target's commands for the `northstar` CLI, registered under the
`northstar.commands` entry point: name -> (where the command is, its one-line
help). This table is all `northstar --help` reads; a command's module is
imported only when it runs."""

COMMANDS = {
    "compile": ("superset_plugin.cli:compile_command", "Compile specs into a Superset 6.1 asset bundle."),
    "deploy": ("superset_plugin.cli:deploy_command", "Compile specs and deploy them to Superset, as their project."),
    "drift": ("superset_plugin.cli:drift_command", "Report what was edited in Superset since the specs were deployed."),
}
