-- netdrift schema, migration 14: the per-account audit questions are index seeks. Accounts are
-- compared case-blind (`lower(account)`: an Activity Log names a subscription in capitals, a
-- configuration in lower case), which no index on `account` serves: the coverage matrix's
-- newest event of a scope read every event of the provider for each scope that has none (0.6 s a
-- scope against 1,000,000 stored events), and attribution read every coverage window and
-- failure for each drift item. Each index is on the expression the queries compare.

-- The newest non-issuing event of an account (and region): a seek, then a scan back over that
-- account's own events only.
CREATE INDEX audit_events_account ON audit_events(provider, lower(account), event_time, region)
    WHERE issued_key IS NULL;
CREATE INDEX audit_coverage_account ON audit_coverage(provider, lower(account), window_start);
DROP INDEX audit_failures_account;
CREATE INDEX audit_failures_account ON audit_failures(provider, lower(account), window_start);
