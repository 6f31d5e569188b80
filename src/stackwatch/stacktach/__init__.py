"""Notification capture (a later issue), StackTach's job: the pika consumer of nova/glance/cinder
notifications, the pure decoder of oslo.messaging envelopes, instance lifecycles, operation timings,
errors and the `compute.instance.exists` usage audit.

Notifications land in the notification archive (`archive.py`): the embedded SQLite store, or Elasticsearch
at scale (`notifications.backend`).
"""
