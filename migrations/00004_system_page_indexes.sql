-- +goose Up
-- The administrator's System page counts the records of the last minutes
-- by time and lists the newest errorEvents. A BRIN index on ts is a few
-- pages for millions of rows and costs the audit's inserts next to nothing
-- (ts grows with the order of insertion); the partial index holds the
-- errorEvents only, so other records do not pay for it.
CREATE INDEX audit_events_ts_brin ON audit_events USING brin (ts);
CREATE INDEX audit_events_errors ON audit_events (id) WHERE event_type = 'errorEvent';

-- +goose Down
DROP INDEX audit_events_errors;
DROP INDEX audit_events_ts_brin;
