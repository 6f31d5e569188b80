"""The `notifications.backend` and `notifications.elasticsearch` settings: where the notification archive
lives. The embedded SQLite store by default; Elasticsearch at scale, with its own `elasticsearch:` block or,
without one, the logs' cluster and credentials (`logs.elasticsearch`) under the index prefix
`stackwatch-notifications`. Read by `config.build_config` through `config_reader.Reader`.
"""

from __future__ import annotations

from dataclasses import replace

from stackwatch.config import ElasticsearchConfig, LogsConfig
from stackwatch.config_reader import Reader

DEFAULT_PREFIX = "stackwatch-notifications"
_ES_KEYS = ("hosts", "index_prefix", "username", "password", "ca_file")


def build_archive_backend(r: Reader, m: dict, logs: LogsConfig) -> tuple[str, ElasticsearchConfig | None]:
    path = "notifications.elasticsearch"
    backend = r.choice(m, "backend", "notifications", ("sqlite", "elasticsearch"), "sqlite")
    es = None
    if m.get("elasticsearch") is not None:
        em = r.mapping(m.get("elasticsearch"), path, _ES_KEYS)
        hosts = r.str_list(em, "hosts", path)
        if not hosts:
            r.problem(f"{path}.hosts", "required", "e.g. [http://127.0.0.1:9200]")
        es = ElasticsearchConfig(hosts, r.str(em, "index_prefix", path, DEFAULT_PREFIX),
                                 r.str(em, "username", path, None), r.secret(em, "password", path, required=False),
                                 r.str(em, "ca_file", path, None))
    elif backend == "elasticsearch":
        if logs.elasticsearch is None or not logs.elasticsearch.hosts:
            r.problem(path, "required with backend: elasticsearch (or a logs.elasticsearch to share)",
                      "e.g. {hosts: [http://127.0.0.1:9200]}")
        else:
            es = replace(logs.elasticsearch, index_prefix=DEFAULT_PREFIX)
    if es is not None and logs.elasticsearch is not None and _overlap(es.index_prefix, logs.elasticsearch.index_prefix):
        # the logs' `<prefix>-*` indices and templates must not take in the notifications' (or the reverse)
        r.problem(f"{path}.index_prefix", f"{es.index_prefix!r} overlaps the logs' index prefix "
                  f"{logs.elasticsearch.index_prefix!r}", f"use another, e.g. {DEFAULT_PREFIX}")
    return backend, es


def _overlap(a: str, b: str) -> bool:
    return a == b or a.startswith(b + "-") or b.startswith(a + "-") or a.startswith(b + "_") or b.startswith(a + "_")
