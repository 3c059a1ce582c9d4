"""A Superset 6.1 on this machine: set-up, start and stop (`superset`), and
`make demo` on top of it (`demo`)."""
