"""Coverage of the inventory (issue 5): is every host and every service its roles expect checked, fresh,
logging and measured, and has any host gone silent (the dead man's switch).

`assess` (pure) judges the facts; `config` reads the `coverage:` section; `service` gathers the facts from
the stores, and writes the gauges the CoverageGap and HostSilent alert rules watch.
"""
