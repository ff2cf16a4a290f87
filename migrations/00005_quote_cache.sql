-- +goose Up
-- The quote cache every worker shares (quotes/pgquotes): a symbol's latest
-- quote from the legacy server, reused by all workers while it is valid (60 s
-- after fetched_at), so N workers are billed for one fetch per symbol and
-- window, as one worker is. A worker about to fetch takes the lease
-- (lease_owner, until lease_until) so the others wait for its quote instead
-- of fetching too; no transaction stays open during the fetch.
CREATE TABLE quote_cache (
    symbol            text        PRIMARY KEY,
    price             numeric,
    quote_server_time bigint,
    cryptokey         text,
    quoted_user       text,
    fetched_at        timestamptz,
    lease_owner       text,
    lease_until       timestamptz
);

-- +goose Down
DROP TABLE quote_cache;
