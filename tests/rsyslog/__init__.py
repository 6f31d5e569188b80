"""Tests of the pure log parser (stackwatch.rsyslog: record, syslog, oslo, assemble, parse)."""
