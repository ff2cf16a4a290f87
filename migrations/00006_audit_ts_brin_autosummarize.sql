-- +goose Up
-- A BRIN range that is not summarized yet matches every query, so until a
-- VACUUM summarized them the System page's count of the last minutes read
-- the whole table (72 ms for 240,000 records, 8 ms once summarized).
-- autosummarize asks autovacuum to summarize each range as soon as the
-- next one starts filling.
ALTER INDEX audit_events_ts_brin SET (autosummarize = on);

-- +goose Down
ALTER INDEX audit_events_ts_brin RESET (autosummarize);
