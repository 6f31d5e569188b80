"""Centralized logs (a later issue): rsyslog client/server configuration generated from the inventory,
syslog and file-tail ingest, the pure oslo.log parser, and tracing of an instance UUID or request id.

Parsed records land in the event store (`stackwatch.store`), which is shaped for them already.
"""
