-- pki:no-transaction
-- Indexes for reading the audit log (GET /v1/audit, ca/store/store_audit.c)
-- when it holds millions of rows: every page is newest first, in the order
-- (at, id), and starts below the cursor of the previous one, so that each
-- page is a short walk down one of these B-trees whatever the table's size
-- and however deep the page. Built with CREATE INDEX CONCURRENTLY, as in
-- 0010: nodes still running keep writing audit rows while a node upgrades
-- a large database. Each build drops its index first, for a start that
-- stopped half-way (a failed concurrent build leaves an INVALID index).

-- No filter, or only outcome, since and until: the whole log in order.
DROP INDEX CONCURRENTLY IF EXISTS audit_log_at_idx;
CREATE INDEX CONCURRENTLY audit_log_at_idx ON audit_log (at, id);

-- ?actor=: what one token or client certificate did.
DROP INDEX CONCURRENTLY IF EXISTS audit_log_actor_at_idx;
CREATE INDEX CONCURRENTLY audit_log_actor_at_idx
  ON audit_log (actor, at, id);

-- ?action=: one action, or each action of a prefix in turn (the store
-- lists the distinct actions with this index, a few dozen probes).
DROP INDEX CONCURRENTLY IF EXISTS audit_log_action_at_idx;
CREATE INDEX CONCURRENTLY audit_log_action_at_idx
  ON audit_log (action, at, id);

-- ?object=: the history of one certificate, token, node or store.
DROP INDEX CONCURRENTLY IF EXISTS audit_log_object_at_idx;
CREATE INDEX CONCURRENTLY audit_log_object_at_idx
  ON audit_log (object, at, id);
