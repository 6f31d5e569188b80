"""The embedded store's versioned schema. Append a migration, never edit a released one: a user who
upgrades runs only the new ones and keeps their data.
"""

from __future__ import annotations

MIGRATIONS: list[tuple[int, str, str]] = [
    (1, "metrics, checks, alerts", """
        CREATE TABLE series (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            labels TEXT NOT NULL,
            kind TEXT NOT NULL DEFAULT 'gauge',
            help TEXT NOT NULL DEFAULT '',
            UNIQUE (name, labels)
        );
        CREATE TABLE samples_raw (
            series_id INTEGER NOT NULL,
            ts INTEGER NOT NULL,              -- milliseconds since the epoch
            value REAL NOT NULL,
            PRIMARY KEY (series_id, ts)
        ) WITHOUT ROWID;
        CREATE TABLE rollups (
            step INTEGER NOT NULL,            -- seconds
            series_id INTEGER NOT NULL,
            bucket INTEGER NOT NULL,          -- bucket start, seconds since the epoch
            min REAL, max REAL, sum REAL, count INTEGER, last REAL,
            increase REAL, covered REAL,
            PRIMARY KEY (step, series_id, bucket)
        ) WITHOUT ROWID;
        CREATE TABLE check_results (
            id INTEGER PRIMARY KEY,
            host TEXT NOT NULL, check_name TEXT NOT NULL,
            ts REAL NOT NULL, state INTEGER NOT NULL,
            summary TEXT NOT NULL, perfdata TEXT NOT NULL, duration REAL NOT NULL
        );
        CREATE INDEX check_results_by_check ON check_results (host, check_name, ts);
        CREATE INDEX check_results_by_ts ON check_results (ts);
        CREATE TABLE check_current (
            host TEXT NOT NULL, check_name TEXT NOT NULL,
            ts REAL NOT NULL, state INTEGER NOT NULL, summary TEXT NOT NULL, perfdata TEXT NOT NULL,
            duration REAL NOT NULL, since REAL NOT NULL, attempts INTEGER NOT NULL DEFAULT 1,
            PRIMARY KEY (host, check_name)
        );
        CREATE TABLE alerts (
            fingerprint TEXT PRIMARY KEY,
            rule TEXT NOT NULL, labels TEXT NOT NULL, annotations TEXT NOT NULL,
            severity TEXT NOT NULL, state TEXT NOT NULL, value REAL,
            active_since REAL, fired_at REAL, resolved_at REAL, updated_at REAL NOT NULL
        );
        CREATE INDEX alerts_by_state ON alerts (state);
        CREATE TABLE alert_history (
            id INTEGER PRIMARY KEY,
            fingerprint TEXT NOT NULL, ts REAL NOT NULL,
            from_state TEXT NOT NULL, to_state TEXT NOT NULL, value REAL, note TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX alert_history_by_fp ON alert_history (fingerprint, ts);
    """),
    (2, "events with full-text search", """
        CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            ts REAL NOT NULL,
            kind TEXT NOT NULL,               -- log | notification
            host TEXT NOT NULL DEFAULT '',
            service TEXT NOT NULL DEFAULT '',
            program TEXT NOT NULL DEFAULT '',
            severity TEXT NOT NULL DEFAULT '',
            request_id TEXT, global_request_id TEXT, instance_uuid TEXT,
            message TEXT NOT NULL DEFAULT '',
            traceback TEXT,                   -- a log record's folded traceback (searchable with the message)
            fields TEXT NOT NULL DEFAULT '{}', -- the other parsed fields as JSON
            raw TEXT NOT NULL DEFAULT ''       -- the input exactly as received
        );
        CREATE INDEX events_by_ts ON events (ts);
        CREATE INDEX events_by_request ON events (request_id) WHERE request_id IS NOT NULL;
        CREATE INDEX events_by_global_request ON events (global_request_id) WHERE global_request_id IS NOT NULL;
        CREATE INDEX events_by_instance ON events (instance_uuid) WHERE instance_uuid IS NOT NULL;
        -- the searchable text: the message and, for log records, the traceback folded into them
        CREATE VIEW events_text AS
            SELECT id, message || coalesce(char(10) || traceback, '') AS message FROM events;
        CREATE VIRTUAL TABLE events_fts USING fts5(
            message, content='events_text', content_rowid='id', tokenize='unicode61'
        );
        -- rows enter events_fts in bulk after each batch (SqliteEventStore.add): one INSERT ... SELECT
        -- per batch indexes four times faster than a per-row trigger; deletes keep the index in step.
        CREATE TRIGGER events_ad AFTER DELETE ON events BEGIN
            INSERT INTO events_fts(events_fts, rowid, message)
            VALUES ('delete', old.id, old.message || coalesce(char(10) || old.traceback, ''));
        END;
    """),
]

MIGRATIONS.append((3, "notifications and dead letters", """
    CREATE TABLE notifications (
        id INTEGER PRIMARY KEY,
        message_id TEXT NOT NULL UNIQUE,  -- duplicates (redeliveries, several bindings) are dropped here
        ts REAL NOT NULL,
        deployment TEXT NOT NULL DEFAULT '',
        event_type TEXT NOT NULL,         -- as sent: compute.instance.create.end / instance.create.end
        name TEXT NOT NULL,               -- normalized: legacy and versioned forms share it
        priority TEXT NOT NULL DEFAULT '',
        publisher_id TEXT NOT NULL DEFAULT '',
        service TEXT NOT NULL DEFAULT '',
        host TEXT NOT NULL DEFAULT '',
        request_id TEXT, global_request_id TEXT, tenant_id TEXT, user_id TEXT, instance_uuid TEXT,
        state TEXT, old_state TEXT, task_state TEXT,
        is_error INTEGER NOT NULL DEFAULT 0,
        payload TEXT NOT NULL DEFAULT '{}',
        raw TEXT NOT NULL
    );
    CREATE INDEX notifications_by_ts ON notifications (ts);
    CREATE INDEX notifications_by_instance ON notifications (instance_uuid, ts) WHERE instance_uuid IS NOT NULL;
    CREATE INDEX notifications_by_request ON notifications (request_id) WHERE request_id IS NOT NULL;
    CREATE INDEX notifications_by_tenant ON notifications (tenant_id, ts) WHERE tenant_id IS NOT NULL;
    CREATE INDEX notifications_by_name ON notifications (name, ts);
    CREATE INDEX notifications_errors ON notifications (ts) WHERE is_error = 1;
    CREATE TABLE dead_letters (
        id INTEGER PRIMARY KEY,
        received_at REAL NOT NULL,
        deployment TEXT NOT NULL DEFAULT '',
        exchange TEXT NOT NULL DEFAULT '',
        routing_key TEXT NOT NULL DEFAULT '',
        message_id TEXT,
        reason TEXT NOT NULL,
        raw BLOB NOT NULL                 -- the body exactly as received
    );
    CREATE INDEX dead_letters_by_time ON dead_letters (received_at);
"""))

MIGRATIONS.append((4, "silences, acknowledgements, maintenance windows, notification log", """
    ALTER TABLE alerts ADD COLUMN last_active_at REAL;          -- keep_firing_for counts from here
    ALTER TABLE alerts ADD COLUMN muted TEXT NOT NULL DEFAULT ''; -- maintenance:ID | silenced:ID | inhibited:FP
    CREATE TABLE silences (
        id TEXT PRIMARY KEY,
        matchers TEXT NOT NULL,           -- JSON list of Alertmanager matcher strings
        starts_at REAL NOT NULL, ends_at REAL NOT NULL,
        author TEXT NOT NULL, comment TEXT NOT NULL, created_at REAL NOT NULL
    );
    CREATE INDEX silences_by_end ON silences (ends_at);
    CREATE TABLE maintenance_windows (
        id TEXT PRIMARY KEY,
        hosts TEXT NOT NULL, roles TEXT NOT NULL,   -- JSON lists
        starts_at REAL NOT NULL, ends_at REAL NOT NULL,
        author TEXT NOT NULL, comment TEXT NOT NULL, created_at REAL NOT NULL
    );
    CREATE INDEX maintenance_by_end ON maintenance_windows (ends_at);
    CREATE TABLE acks (
        id INTEGER PRIMARY KEY,
        fingerprint TEXT NOT NULL,
        author TEXT NOT NULL, comment TEXT NOT NULL,
        created_at REAL NOT NULL, expires_at REAL,
        removed_at REAL
    );
    CREATE INDEX acks_by_fp ON acks (fingerprint, created_at);
    -- the notification log: the last page per receiver and group (what the dispatcher decides from) ...
    CREATE TABLE nflog (
        receiver TEXT NOT NULL, group_key TEXT NOT NULL,
        event TEXT NOT NULL, sent_at REAL NOT NULL,
        firing TEXT NOT NULL,             -- JSON list of fingerprints
        seq INTEGER NOT NULL, opened_at REAL NOT NULL, acked INTEGER NOT NULL, level INTEGER NOT NULL,
        notification_id TEXT NOT NULL,
        PRIMARY KEY (receiver, group_key)
    );
    -- ... and every page handed to the outbox: what was sent to whom, when, for which group state
    CREATE TABLE nflog_sent (
        id INTEGER PRIMARY KEY,
        notification_id TEXT NOT NULL UNIQUE,
        receiver TEXT NOT NULL, group_key TEXT NOT NULL, event TEXT NOT NULL,
        sent_at REAL NOT NULL, seq INTEGER NOT NULL, level INTEGER NOT NULL,
        alerts TEXT NOT NULL              -- JSON [[fingerprint, status], ...]
    );
    CREATE INDEX nflog_sent_by_time ON nflog_sent (sent_at);
    CREATE TABLE nflog_sent_alerts (      -- per alert, for its history page
        fingerprint TEXT NOT NULL, sent_id INTEGER NOT NULL,
        PRIMARY KEY (fingerprint, sent_id)
    ) WITHOUT ROWID;
"""))

MIGRATIONS.append((5, "notification outbox and delivery attempts", """
    CREATE TABLE outbox (
        seq INTEGER PRIMARY KEY,             -- submission order: each receiver delivers in this order
        notification_id TEXT NOT NULL UNIQUE, -- a resubmitted notification is ignored here
        receiver TEXT NOT NULL,
        event TEXT NOT NULL,                 -- trigger | acknowledge | resolve
        group_key TEXT NOT NULL,
        created_at REAL NOT NULL,            -- when routing made the notification
        submitted_at REAL NOT NULL,
        state TEXT NOT NULL DEFAULT 'pending', -- pending | delivered | failed
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at REAL NOT NULL,
        last_error TEXT NOT NULL DEFAULT '',
        finished_at REAL,
        body TEXT NOT NULL                   -- the GroupNotification as JSON
    );
    CREATE INDEX outbox_pending ON outbox (receiver, seq) WHERE state = 'pending';
    CREATE INDEX outbox_by_submitted ON outbox (submitted_at);
    CREATE TABLE outbox_attempts (
        id INTEGER PRIMARY KEY,
        notification_id TEXT NOT NULL,
        ts REAL NOT NULL,
        duration REAL NOT NULL,
        outcome TEXT NOT NULL,               -- success | retry | failed
        error TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX outbox_attempts_by_notification ON outbox_attempts (notification_id, ts);
"""))

MIGRATIONS.append((6, "notification inventory columns, global request index", """
    -- the event-driven inventory (instances per flavor, volumes, images) reads columns, not the payload;
    -- new rows no longer repeat the payload (it is re-derived from raw, which is always kept)
    ALTER TABLE notifications ADD COLUMN flavor TEXT;
    ALTER TABLE notifications ADD COLUMN resource_id TEXT;   -- volume (cinder volume.*), image (glance image.*)
    ALTER TABLE notifications ADD COLUMN size REAL;           -- the volume's GB, the image's bytes
    UPDATE notifications SET flavor = coalesce(json_extract(payload, '$.instance_type'),
                                               json_extract(payload, '$.flavor.name'))
        WHERE service = 'nova' AND instance_uuid IS NOT NULL AND json_valid(payload);
    UPDATE notifications SET resource_id = json_extract(payload, '$.volume_id'),
                             size = json_extract(payload, '$.size')
        WHERE service = 'cinder' AND name LIKE 'volume.%' AND json_valid(payload);
    UPDATE notifications SET resource_id = json_extract(payload, '$.id'), size = json_extract(payload, '$.size')
        WHERE service = 'glance' AND name LIKE 'image.%' AND json_valid(payload);
    CREATE INDEX notifications_by_resource ON notifications (service, resource_id, ts) WHERE resource_id IS NOT NULL;
    CREATE INDEX notifications_by_global_request ON notifications (global_request_id)
        WHERE global_request_id IS NOT NULL;
"""))

MIGRATIONS.append((7, "event ids looked up through the full-text index", """
    -- The B-tree indexes on request ids and UUIDs (random keys) dirtied a page per stored log record and
    -- made most of the write volume; FTS5 adds to its index in sorted segments. The ids go into their own
    -- column of the index (`{ids} : "..."`), and a lookup compares the columns exactly after it.
    DROP TRIGGER events_ad;
    DROP TABLE events_fts;
    DROP VIEW events_text;
    DROP INDEX events_by_request;
    DROP INDEX events_by_global_request;
    DROP INDEX events_by_instance;
    CREATE VIEW events_text AS
        SELECT id, message || coalesce(char(10) || traceback, '') AS message,
               coalesce(request_id, '') || ' ' || coalesce(global_request_id, '') || ' ' ||
               coalesce(instance_uuid, '') AS ids
        FROM events;
    CREATE VIRTUAL TABLE events_fts USING fts5(
        message, ids, content='events_text', content_rowid='id', tokenize='unicode61', columnsize=0
    );
    INSERT INTO events_fts (events_fts) VALUES ('rebuild');
    CREATE TRIGGER events_ad AFTER DELETE ON events BEGIN
        INSERT INTO events_fts (events_fts, rowid, message, ids)
        VALUES ('delete', old.id, old.message || coalesce(char(10) || old.traceback, ''),
                coalesce(old.request_id, '') || ' ' || coalesce(old.global_request_id, '') || ' ' ||
                coalesce(old.instance_uuid, ''));
    END;
"""))

MIGRATIONS.append((8, "log batches stored by the writer processes", """
    -- A log writer process (store.sqlite.log_writer) stores a batch and its token in one transaction, so
    -- that the receiving process, when the writer's answer is lost, can tell whether the batch is stored.
    -- Tokens are kept a while (the writer prunes them), not forever.
    CREATE TABLE log_batches (
        token INTEGER PRIMARY KEY,
        ts REAL NOT NULL
    );
"""))

MIGRATIONS.append((9, "event ids as one token each in the full-text index", """
    -- unicode61 splits a UUID into five tokens and a request id into six, all of them random: most of the
    -- index's distinct terms. Without their hyphens each id is one token (SqliteEventStore looks ids up
    -- the same way); ~8% less CPU per stored log record.
    DROP TRIGGER events_ad;
    DROP TABLE events_fts;
    DROP VIEW events_text;
    CREATE VIEW events_text AS
        SELECT id, message || coalesce(char(10) || traceback, '') AS message,
               replace(coalesce(request_id, '') || ' ' || coalesce(global_request_id, '') || ' ' ||
                       coalesce(instance_uuid, ''), '-', '') AS ids
        FROM events;
    CREATE VIRTUAL TABLE events_fts USING fts5(
        message, ids, content='events_text', content_rowid='id', tokenize='unicode61', columnsize=0
    );
    INSERT INTO events_fts (events_fts) VALUES ('rebuild');
    CREATE TRIGGER events_ad AFTER DELETE ON events BEGIN
        INSERT INTO events_fts (events_fts, rowid, message, ids)
        VALUES ('delete', old.id, old.message || coalesce(char(10) || old.traceback, ''),
                replace(coalesce(old.request_id, '') || ' ' || coalesce(old.global_request_id, '') || ' ' ||
                        coalesce(old.instance_uuid, ''), '-', ''));
    END;
"""))
