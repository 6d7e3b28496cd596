-- pki:no-transaction
-- The expiry monitor's renewal test (ca/store/store_monitor.c), whose
-- index migration 0010 limited to good certificates: the status is no
-- longer a column of certificates (migration 0018), so the index now holds
-- every certificate and the query leaves the revoked ones out through
-- revocations. Built CONCURRENTLY (the first line: each statement on its
-- own, outside a transaction block), so that issuance goes on during the
-- build; each statement may run twice.
DROP INDEX CONCURRENTLY IF EXISTS certificates_renewal_idx;
CREATE INDEX CONCURRENTLY certificates_renewal_idx
  ON certificates (lower(common_name), profile, not_after);
