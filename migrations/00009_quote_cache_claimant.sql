-- +goose Up
-- Who the stored quote was reported to as a legacy hit (quotes.Cache's
-- claimant: the audit key of the batch or trigger check that fetched it).
-- A workflow task lost after its quote fetch is run again, maybe by another
-- worker, which finds the quote here: the same claimant is told of the hit
-- again, so a billed quote is audited even when the worker that fetched it
-- died before its task completed.
ALTER TABLE quote_cache ADD COLUMN claimant text;

-- +goose Down
ALTER TABLE quote_cache DROP COLUMN claimant;
