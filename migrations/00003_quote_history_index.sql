-- +goose Up
-- The portfolio and price charts look up, for each of a trader's trades, the
-- market's quote of its symbol just before and just after it (the quote a
-- cache served it may have been fetched by another account). quoteServer
-- records are about one in a hundred: the partial index holds only them, so
-- the other records' inserts do not pay for it.
CREATE INDEX audit_events_quotes ON audit_events (symbol, ts) WHERE event_type = 'quoteServer';

-- +goose Down
DROP INDEX audit_events_quotes;
