-- +goose Up
-- The audit history: one row per logfile.xsd record. event_key makes writes
-- idempotent (a retried activity or a replayed workflow task writes the same
-- key again, and ON CONFLICT DO NOTHING keeps one copy).
CREATE TABLE audit_events (
    id                bigserial   PRIMARY KEY,
    event_key         text        NOT NULL UNIQUE,
    event_type        text        NOT NULL,
    ts                timestamptz NOT NULL,
    server            text        NOT NULL,
    tx_num            bigint      NOT NULL,
    command           text,
    username          text,
    symbol            text,
    filename          text,
    funds             numeric(20, 2),
    action            text,
    price             numeric(20, 2),
    quote_server_time bigint,
    cryptokey         text,
    message           text
);
-- Per-user history, newest first, and filters by command and type.
CREATE INDEX audit_events_user_id ON audit_events (username, id);
CREATE INDEX audit_events_user_type ON audit_events (username, event_type, id);

-- Interactive commands (web UI, API) get system-wide increasing transaction
-- numbers from here. They start far above any workload file's [N] so that the
-- two never collide in an account's duplicate-detection window.
CREATE SEQUENCE interactive_tx_num START WITH 1000000000;

-- Web UI accounts. A trader's DayTrading account is the workflow account-<username>.
CREATE TABLE web_users (
    username      text        PRIMARY KEY,
    password_hash text        NOT NULL,
    role          text        NOT NULL CHECK (role IN ('trader', 'admin')),
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- Server-side sessions. Only a hash of the cookie's token is stored.
CREATE TABLE web_sessions (
    token_hash  bytea       PRIMARY KEY,
    username    text        NOT NULL REFERENCES web_users (username) ON DELETE CASCADE,
    csrf_token  text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL
);
CREATE INDEX web_sessions_expires ON web_sessions (expires_at);

-- +goose Down
DROP TABLE web_sessions;
DROP TABLE web_users;
DROP SEQUENCE interactive_tx_num;
DROP TABLE audit_events;
