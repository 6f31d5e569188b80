"""How events are laid out in Elasticsearch: the index template, the text analyzer and the daily index
names. Stdlib only (it builds request bodies; `events.py` sends them).

Daily indices `<prefix>-YYYY.MM.DD` (UTC day of the event's own `ts`), not a data stream:
- retention deletes a whole index per day, no ILM policy needed (the contract's `enforce_retention(now,
  retention)` is a plain call, not a cluster-side policy), and the partial day is a delete-by-query;
- late events (a host whose rsyslog queue drains after an outage) land in the index of the day they
  happened, so retention and time-window searches stay exact;
- the test stand-in (noida-db) accepts a `data_stream` template but does not implement data streams (no
  `_data_stream` API, writes go to a plain index), so daily indices are what works on both.

Mapping (`dynamic: strict`, so a typo in a document is a rejected document, never a new field):
- `ts` is a `double` holding the caller's float seconds: filters and sorting compare exactly as the SQLite
  store's REAL column does; `@timestamp` (`date`, epoch_millis) is the same instant for Kibana and humans;
- `seq` (`long`) then `eid` (`keyword`) order events with equal `ts` by insertion (see `events.Sequence`);
- ids, host, service, program, severity and kind are `keyword` (exact, case-sensitive filters);
- `text` is what `search` and `trace` match words in: the message, then "\n" and `fields["traceback"]` when
  there is one, exactly the text the SQLite store puts in its FTS5 index. It is indexed with
  `TEXT_ANALYZER`, built to tokenize as FTS5's `unicode61` does (a token is a run of letters, digits,
  combining marks or private-use characters; lowercased, accents removed), and left out of `_source`
  (`_source.excludes`): it is derived, so storing it would only double the bytes of every traceback;
- `message` and `raw` are stored, not indexed; `fields` is stored, not indexed (`enabled: false`).
The stand-in ignores `_source.excludes` and `index: false` (it keeps and indexes those fields): harmless,
the store never queries `message` and never reads `text`.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

DAY = 86400.0
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_PREFIX = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")

KEYWORDS = ("kind", "host", "service", "program", "severity", "request_id", "global_request_id", "instance_uuid")

# FTS5 unicode61's token characters are the categories L*, N*, Co and the combining marks (which it then drops
# as diacritics); everything else separates tokens. Spelled with ranges instead of \p{Co} and \p{M}: the
# stand-in's regex engine rejects those properties, Java's (Elasticsearch) accepts both forms.
_MARKS = r"\u0300-\u036F\u1AB0-\u1AFF\u1DC0-\u1DFF\u20D0-\u20FF\uFE20-\uFE2F"
TOKEN_SEPARATORS = r"[^\p{L}\p{N}" + _MARKS + r"\uE000-\uF8FF]+"

TEXT_ANALYZER = {
    "tokenizer": {"stackwatch_words": {"type": "pattern", "pattern": TOKEN_SEPARATORS}},
    "filter": {"stackwatch_no_marks": {"type": "pattern_replace", "pattern": "[" + _MARKS + "]",
                                       "replacement": ""}},
    # asciifolding stands in for unicode61's remove_diacritics: "ünïcode" matches "unicode" in both stores.
    # It also folds a few ligatures FTS5 keeps ("straße" matches "strasse" here only).
    "analyzer": {"stackwatch_text": {"type": "custom", "tokenizer": "stackwatch_words",
                                     "filter": ["lowercase", "asciifolding", "stackwatch_no_marks"]}},
}


def searchable_text(message: str, fields: dict) -> str:
    """The message, and the traceback under it, as the SQLite store indexes them (its json_extract gives a
    string as is, a number or true/false as digits, a list or object as compact JSON)."""
    tb = fields.get("traceback")
    if tb is None:
        return message
    if isinstance(tb, bool):
        tb = int(tb)
    elif isinstance(tb, (dict, list)):
        tb = json.dumps(tb, separators=(",", ":"), ensure_ascii=False)
    return f"{message}\n{tb}"


def check_prefix(prefix: str) -> str:
    """An index prefix Elasticsearch accepts (lowercase, no wildcards); ValueError otherwise."""
    if not _PREFIX.match(prefix) or len(prefix) > 200:
        raise ValueError(f"index prefix {prefix!r} must be lowercase letters, digits, '_', '.' or '-' and "
                         "start with a letter or digit")
    return prefix


def index_pattern(prefix: str) -> str:
    """Every daily index of `prefix`. Elasticsearch refuses two templates of equal priority whose patterns
    overlap, so one prefix may not be another's prefix plus '-' (e.g. `events` and `events-eu`)."""
    return f"{prefix}-*"


def index_for(prefix: str, ts: float) -> str:
    """The daily index holding an event at `ts` (UTC day, computed by floor division so an event at
    23:59:59.9999999 never rounds into the next day's index)."""
    return f"{prefix}-{(_EPOCH + timedelta(days=ts // DAY)):%Y.%m.%d}"


def day_of(prefix: str, index: str) -> float | None:
    """Epoch seconds at which `index`'s day starts, or None when `index` is not one of `prefix`'s."""
    m = re.fullmatch(re.escape(prefix) + r"-(\d{4})\.(\d{2})\.(\d{2})", index)
    if not m:
        return None
    try:
        day = datetime(int(m[1]), int(m[2]), int(m[3]), tzinfo=timezone.utc)
    except ValueError:
        return None
    return (day - _EPOCH).total_seconds()


def template(prefix: str, shards: int = 1, replicas: int | None = None) -> dict:
    """The composable index template applied to every new daily index of `prefix` (priority 200: above the
    built-in `logs-*-*` templates, so a prefix such as `logs-openstack` still gets this mapping)."""
    settings: dict = {"number_of_shards": shards, "analysis": TEXT_ANALYZER}
    if replicas is not None:
        settings["number_of_replicas"] = replicas
    properties: dict = {
        "@timestamp": {"type": "date", "format": "epoch_millis"},
        "ts": {"type": "double"},
        "seq": {"type": "long"},
        "eid": {"type": "keyword"},
        "text": {"type": "text", "analyzer": "stackwatch_text"},
        "message": {"type": "text", "index": False},
        "fields": {"type": "object", "enabled": False},
        "raw": {"type": "text", "index": False},
    }
    properties.update({name: {"type": "keyword"} for name in KEYWORDS})
    return {
        "index_patterns": [index_pattern(prefix)],
        "priority": 200,
        "template": {"settings": settings, "mappings": {"dynamic": "strict", "_source": {"excludes": ["text"]},
                                                        "properties": properties}},
        "_meta": {"managed_by": "stackwatch", "schema": 1},
    }
