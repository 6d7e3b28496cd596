-- pki:no-transaction
-- Indexes for databases of millions of certificates (README, "Performance",
-- "Ten million certificates"). Built with CREATE INDEX CONCURRENTLY, so that
-- nodes still running keep issuing and revoking while a node upgrades a
-- large database: the first line above makes the migration runner apply
-- each statement on its own, outside a transaction block
-- (ca/store/store_pg.c). Each statement may run twice (a start that stopped
-- half-way runs the file again): a failed concurrent build leaves an
-- INVALID index, so each build drops its index first.

-- GET /v1/certificates?cn=TEXT matches common names containing TEXT without
-- regard to case. A B-tree cannot serve a substring; trigrams can
-- (lower(common_name) LIKE '%text%', ca/store/store_find.c). pg_trgm ships
-- with PostgreSQL and is a trusted extension: the owner of the database
-- may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

DROP INDEX CONCURRENTLY IF EXISTS certificates_common_name_trgm_idx;
CREATE INDEX CONCURRENTLY certificates_common_name_trgm_idx
  ON certificates USING gin (lower(common_name) gin_trgm_ops);

-- The expiry monitor leaves out a certificate renewed by a later good one
-- of the same profile and common name (ca/store/store_monitor.c): one probe
-- of this index per certificate about to expire, instead of a pass over
-- the whole table.
DROP INDEX CONCURRENTLY IF EXISTS certificates_renewal_idx;
CREATE INDEX CONCURRENTLY certificates_renewal_idx
  ON certificates (lower(common_name), profile, not_after)
  WHERE status = 'good';

-- GET /v1/certificates?status=revoked lists revoked certificates soonest
-- expiry first: one in a hundred rows, which a walk of the not_after index
-- would have to skip past. Few rows, so cheap to keep.
DROP INDEX CONCURRENTLY IF EXISTS certificates_revoked_not_after_idx;
CREATE INDEX CONCURRENTLY certificates_revoked_not_after_idx
  ON certificates (not_after, id)
  WHERE status = 'revoked';
