"""Alerting: the alert model, rule evaluation (pure), and the service that evaluates rules on a schedule
and stores alert state and history. Routing, grouping, silences, maintenance windows and receivers
(a later issue) plug in after evaluation: they consume `Transition`s.
"""
