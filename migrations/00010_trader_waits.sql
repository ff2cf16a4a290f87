-- +goose Up
-- How long each trader's command took through the web UI, until its result
-- (audit.Store.RecordTraderWait). While traders trade, the workload starter
-- reads the longest wait since its last look and sizes its backlog by it:
-- larger while the traders are answered fast, halved when one of them
-- waited too long (workloads.WaitWatch). A row older than a minute is
-- deleted when the next one is written; the index answers "since its last
-- look".
CREATE TABLE trader_waits (
    answered_at timestamptz NOT NULL DEFAULT now(),
    wait_ms     double precision NOT NULL
);
CREATE INDEX trader_waits_answered_at ON trader_waits (answered_at);

-- +goose Down
DROP TABLE trader_waits;
