-- pki:no-transaction
-- A claim of expiry notices is named by the transaction that made it
-- (ca/store/store_monitor.c), and its outcome is recorded by that name.
-- Before, the outcome was matched back by (kind, cert_id) against an array
-- of the claimed certificates, a join whose plan followed the table's
-- statistics: with 10,000 notices due at ten million certificates the
-- planner once chose a nested loop over the array for each row of the
-- window, and the update took 7.8 s instead of a tenth of a second. A
-- claim taken over from a node that died sending gets the new claim's
-- name, so the late node's outcome no longer overwrites it.
-- The index covers only the notices being sent: a handful at any time.
-- Built CONCURRENTLY (the first line: each statement on its own, outside a
-- transaction block); the drop first, since an interrupted build leaves an
-- INVALID index behind.
ALTER TABLE monitor_notices ADD COLUMN IF NOT EXISTS claim bigint;
DROP INDEX CONCURRENTLY IF EXISTS monitor_notices_claim_idx;
CREATE INDEX CONCURRENTLY monitor_notices_claim_idx
  ON monitor_notices (claim) WHERE state = 'sending';
