"""Receivers: how a `GroupNotification` reaches people and systems (email, webhook, PagerDuty, Slack,
Alertmanager). Each kind is one module with a pure payload builder and a thin sender; `config` builds
them from `alerting.receivers`; the outbox (alerting.outbox) calls `Receiver.send` with retries.
"""
