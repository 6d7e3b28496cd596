-- The revocation state of pki's certificates, out of `certificates` into a
-- narrow table of its own (README, "Storage", "Revocation").
--
-- Why: `certificates` rows are wide (the DER inline) and carry many
-- indexes, a trigram GIN among them; `status` stood in the predicate of
-- partial indexes, so no revocation was a HOT update: every revoked row
-- became a new row version in every index, and a CRL walked the wide table.
-- A revocation is now one narrow row here: one index (the key) to write,
-- and a CRL reads these rows alone. A certificate is revoked exactly when
-- it has a row here; releasing a hold (certificateHold) deletes the row,
-- and revoking a held certificate for good updates it; the audit log keeps
-- every change as before.
--
-- In one transaction, under an exclusive lock on `certificates` taken
-- first: the revoked rows are copied and the old columns dropped with no
-- revocation made in between. The lock is held for the copy of the revoked
-- rows only (read through the partial index of revoked certificates) and
-- catalog changes: dropping a column does not rewrite the table. A node of
-- an earlier version still running writes the dropped columns and fails
-- its revocations until it is upgraded.
LOCK TABLE certificates IN ACCESS EXCLUSIVE MODE;

CREATE TABLE revocations (
  -- The certificate: (issuer_id, serial) is its unique key in
  -- certificates (ARCHITECTURE.md invariant 2). No foreign keys: each
  -- would check every row of a batch; the rows are written from
  -- certificates' own (ca/store/store_revoke.c) and certificates are
  -- never deleted.
  issuer_id       bigint NOT NULL,
  serial          text NOT NULL,
  certificate_id  bigint NOT NULL,
  -- Copied from the certificate, which never changes them: the CRL of a
  -- shard, and the expiry after which a CRL may drop the entry (RFC 5280
  -- 5.1.2.6), read without the wide row.
  crl_shard       smallint,
  not_after       timestamptz NOT NULL,
  revoked_at      timestamptz NOT NULL,
  -- CRLReason; 0 (unspecified) is not written into a CRL entry.
  reason          smallint NOT NULL,
  PRIMARY KEY (issuer_id, serial)
);

-- The revoked certificates of one shard, read for its CRL. Partial: a CA
-- without shards writes nothing to it.
CREATE INDEX revocations_shard_idx ON revocations (issuer_id, crl_shard)
  WHERE crl_shard IS NOT NULL;

INSERT INTO revocations (issuer_id, serial, certificate_id, crl_shard,
                         not_after, revoked_at, reason)
  SELECT issuer_id, serial, id, crl_shard, not_after, revoked_at,
         coalesce(revocation_reason, 0)
  FROM certificates WHERE status = 'revoked' AND issuer_id IS NOT NULL;

-- What a change of revocation state makes stale, in the transaction of the
-- change and whatever statement made it: the pre-signed OCSP answers of
-- the certificates (migration 0011), and the CRL of each shard touched
-- (migration 0012; the CA-wide CRL is queued by the writer, in
-- crl_pending). One statement per change, not one per row: a batch of
-- 10,000 revocations of one shard queues it once.
CREATE FUNCTION revocations_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM ocsp_answers a USING changed c
    WHERE a.certificate_id = c.certificate_id;
  INSERT INTO crl_pending_shards (issuer_id, shard)
    SELECT DISTINCT c.issuer_id, c.crl_shard FROM changed c
    WHERE c.crl_shard IS NOT NULL;
  RETURN NULL;
END $$;

-- A trigger with transition tables takes one event each.
CREATE TRIGGER revocations_inserted AFTER INSERT ON revocations
  REFERENCING NEW TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION revocations_changed();
CREATE TRIGGER revocations_updated AFTER UPDATE ON revocations
  REFERENCING NEW TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION revocations_changed();
CREATE TRIGGER revocations_deleted AFTER DELETE ON revocations
  REFERENCING OLD TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION revocations_changed();

-- A batch of revocations reads the state of its certificates without
-- locking them, and writes only what it decided from that state
-- (ca/store/store_revoke.c): this raises a serialization failure, which
-- rolls the batch back to be decided again, when a concurrent change made
-- fewer rows change than decided.
CREATE FUNCTION revocations_expect(got bigint, want bigint) RETURNS bigint
LANGUAGE plpgsql AS $$
BEGIN
  IF got <> want THEN
    RAISE EXCEPTION 'revocation state changed concurrently (% of % rows)',
      got, want USING ERRCODE = 'serialization_failure';
  END IF;
  RETURN got;
END $$;

-- The old columns' triggers, indexes, and the columns themselves.
DROP TRIGGER IF EXISTS certificates_drop_ocsp_answers ON certificates;
DROP FUNCTION IF EXISTS ocsp_answers_drop_changed();
DROP TRIGGER IF EXISTS certificates_crl_shard ON certificates;
DROP FUNCTION IF EXISTS crl_queue_shard();
DROP INDEX IF EXISTS certificates_revoked_idx;
DROP INDEX IF EXISTS certificates_revoked_not_after_idx;
DROP INDEX IF EXISTS certificates_revoked_shard_idx;
-- Rebuilt without its predicate by migration 0019, concurrently.
DROP INDEX IF EXISTS certificates_renewal_idx;
ALTER TABLE certificates DROP COLUMN status, DROP COLUMN revoked_at,
  DROP COLUMN revocation_reason;

-- Each certificate with its revocation state as the columns once gave it,
-- for operators' queries (pki itself joins the tables).
CREATE VIEW certificate_status AS
  SELECT c.id, c.issuer_id, c.serial,
         CASE WHEN r.serial IS NULL THEN 'good' ELSE 'revoked' END AS status,
         r.revoked_at, r.reason AS revocation_reason
  FROM certificates c
  LEFT JOIN revocations r ON r.issuer_id = c.issuer_id AND r.serial = c.serial;
