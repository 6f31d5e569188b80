"""JSON Schemas of what the HTTP receivers must send, written from the receivers' own documentation:

- Alertmanager's webhook payload: https://prometheus.io/docs/alerting/latest/configuration/#webhook_config
  (version "4", groupKey, truncatedAlerts, status, receiver, groupLabels, commonLabels, commonAnnotations,
  externalURL, alerts[] with status, labels, annotations, startsAt, endsAt, generatorURL, fingerprint;
  times RFC 3339, an unset endsAt is Go's zero time 0001-01-01T00:00:00Z);
- PagerDuty Events API v2, "Send an Alert Event" (developer.pagerduty.com, events-API-v2/02-Trigger-Events):
  routing_key and event_action (trigger | acknowledge | resolve) required; dedup_key at most 255 characters;
  a trigger's payload needs summary (at most 1024 characters), source and severity (critical | error |
  warning | info), with optional timestamp, component, group, class, custom_details (object); links are
  objects with a required href and optional text; images need src.
"""

RFC3339 = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"
_STR_MAP = {"type": "object", "additionalProperties": {"type": "string"}}
_STATUS = {"enum": ["firing", "resolved"]}

ALERTMANAGER_WEBHOOK = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["version", "groupKey", "truncatedAlerts", "status", "receiver", "groupLabels", "commonLabels",
                 "commonAnnotations", "externalURL", "alerts"],
    "properties": {
        "version": {"const": "4"},
        "groupKey": {"type": "string", "minLength": 1},
        "truncatedAlerts": {"type": "integer", "minimum": 0},
        "status": _STATUS,
        "receiver": {"type": "string", "minLength": 1},
        "groupLabels": _STR_MAP,
        "commonLabels": _STR_MAP,
        "commonAnnotations": _STR_MAP,
        "externalURL": {"type": "string"},
        "alerts": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["status", "labels", "annotations", "startsAt", "endsAt", "generatorURL", "fingerprint"],
                "properties": {
                    "status": _STATUS,
                    "labels": _STR_MAP,
                    "annotations": _STR_MAP,
                    "startsAt": {"type": "string", "pattern": RFC3339},
                    "endsAt": {"type": "string", "pattern": RFC3339},
                    "generatorURL": {"type": "string"},
                    "fingerprint": {"type": "string"},
                },
            },
        },
    },
}

_PD_LINK = {"type": "object", "required": ["href"],
            "properties": {"href": {"type": "string", "minLength": 1}, "text": {"type": "string"}}}
_PD_IMAGE = {"type": "object", "required": ["src"],
             "properties": {"src": {"type": "string"}, "href": {"type": "string"}, "alt": {"type": "string"}}}

PAGERDUTY_EVENT = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["routing_key", "event_action"],
    "properties": {
        "routing_key": {"type": "string", "minLength": 1},
        "event_action": {"enum": ["trigger", "acknowledge", "resolve"]},
        "dedup_key": {"type": "string", "minLength": 1, "maxLength": 255},
        "payload": {
            "type": "object",
            "required": ["summary", "source", "severity"],
            "properties": {
                "summary": {"type": "string", "minLength": 1, "maxLength": 1024},
                "source": {"type": "string", "minLength": 1},
                "severity": {"enum": ["critical", "error", "warning", "info"]},
                "timestamp": {"type": "string", "pattern": RFC3339},
                "component": {"type": "string"},
                "group": {"type": "string"},
                "class": {"type": "string"},
                "custom_details": {"type": "object"},
            },
        },
        "images": {"type": "array", "items": _PD_IMAGE},
        "links": {"type": "array", "items": _PD_LINK},
        "client": {"type": "string"},
        "client_url": {"type": "string"},
    },
    # a trigger must carry a payload; acknowledge and resolve need the dedup_key to find the alert
    "allOf": [
        {"if": {"properties": {"event_action": {"const": "trigger"}}}, "then": {"required": ["payload"]}},
        {"if": {"properties": {"event_action": {"enum": ["acknowledge", "resolve"]}}},
         "then": {"required": ["dedup_key"]}},
    ],
}

# Slack's incoming webhooks (api.slack.com/messaging/webhooks, "attachments" legacy fields): text, and
# attachments with a colour; Mattermost and Rocket.Chat read the same shape.
SLACK_MESSAGE = {
    "type": "object",
    "required": ["text"],
    "properties": {
        "text": {"type": "string", "minLength": 1},
        "channel": {"type": "string"},
        "username": {"type": "string"},
        "attachments": {"type": "array", "items": {
            "type": "object", "required": ["fallback"],
            "properties": {"color": {"type": "string", "pattern": "^(#[0-9a-fA-F]{6}|good|warning|danger)$"},
                           "fallback": {"type": "string"}, "title": {"type": "string"},
                           "title_link": {"type": "string"}, "text": {"type": "string"},
                           "mrkdwn_in": {"type": "array", "items": {"type": "string"}},
                           "footer": {"type": "string"}, "ts": {"type": "integer"}}}},
    },
}
