-- +goose Up
-- When a session last opened the dashboard (the trading page; signing in
-- lands there). The workload starter keeps a smaller backlog while traders
-- trade, and a trader who has just opened the dashboard is about to: asked
-- then, the starter has drained its larger backlog by the time the first
-- order is typed (workloads.TraderWatch). The index answers "the latest
-- seen_at" from one entry.
ALTER TABLE web_sessions ADD COLUMN seen_at timestamptz NOT NULL DEFAULT now();
CREATE INDEX web_sessions_seen_at ON web_sessions (seen_at);

-- +goose Down
DROP INDEX web_sessions_seen_at;
ALTER TABLE web_sessions DROP COLUMN seen_at;
