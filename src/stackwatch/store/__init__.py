"""Persistence: the interfaces every backend implements (`interfaces`), the pure rollup logic
(`rollup`), and the embedded SQLite backend (`sqlite`). Later issues add Elasticsearch and
Prometheus-compatible backends behind the same interfaces.
"""
