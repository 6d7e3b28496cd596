-- pki:no-transaction
-- Partitioned CRLs (pkid --crl-shards; README, "Partitioned CRLs"). Runs
-- online on an existing database: no statement rewrites or scans
-- certificates while holding a lock that blocks writes, and the index is
-- built CONCURRENTLY, hence the first line (each statement on its own,
-- outside a transaction block; ca/store/store_pg.c). Each statement may run
-- twice (a start that stopped half-way runs the file again).

-- The shard whose CRL lists a certificate's revocation, chosen at issuance
-- and named by its CRL distribution point: 1 to N. NULL: the CA-wide CRL
-- only (every certificate issued before this migration, or with
-- --crl-shards 1). Nullable, without a default or a CHECK: PostgreSQL adds
-- it to the catalog alone, without reading the table.
ALTER TABLE certificates ADD COLUMN IF NOT EXISTS crl_shard smallint;

-- A CRL per (CA, shard); shard 0 is the CA-wide CRL, which every existing
-- row is. A constant default is kept in the catalog, not written to rows.
ALTER TABLE crls ADD COLUMN IF NOT EXISTS shard smallint NOT NULL DEFAULT 0;

-- A few rows per CA: rebuilding the key is immediate. One statement, so
-- one transaction: the table is never without a key.
ALTER TABLE crls DROP CONSTRAINT IF EXISTS crls_pkey,
  ADD CONSTRAINT crls_pkey PRIMARY KEY (issuer_id, shard);

-- A CRL is read back in slices (ca/store/store_crl.c); stored
-- uncompressed, a slice is read from the chunks it covers alone. Applies to
-- the values written from now on.
ALTER TABLE crls ALTER COLUMN der SET STORAGE EXTERNAL;

-- The shards whose CRL a change of revocation state makes stale, queued by
-- the trigger below in the transaction of the change (whatever statement
-- made it) and taken by the CRL writer like crl_pending. No unique key:
-- concurrent revocations of one shard never wait for each other.
CREATE TABLE IF NOT EXISTS crl_pending_shards (
  id         bigserial PRIMARY KEY,
  issuer_id  bigint NOT NULL REFERENCES issuers (id),
  shard      smallint NOT NULL,
  queued_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE INDEX IF NOT EXISTS crl_pending_shards_idx
  ON crl_pending_shards (issuer_id, shard, queued_at);

CREATE OR REPLACE FUNCTION crl_queue_shard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO crl_pending_shards (issuer_id, shard)
    VALUES (NEW.issuer_id, NEW.crl_shard);
  RETURN NULL;
END $$;

-- The WHEN clause is evaluated without calling the function: a certificate
-- without a shard, or an update that leaves its revocation state alone,
-- costs nothing more.
CREATE OR REPLACE TRIGGER certificates_crl_shard
  AFTER UPDATE OF status, revoked_at, revocation_reason ON certificates
  FOR EACH ROW
  WHEN (NEW.crl_shard IS NOT NULL AND NEW.issuer_id IS NOT NULL AND
        (OLD.status, OLD.revoked_at, OLD.revocation_reason) IS DISTINCT FROM
        (NEW.status, NEW.revoked_at, NEW.revocation_reason))
  EXECUTE FUNCTION crl_queue_shard();

-- The revoked certificates of one shard, read for its CRL.
DROP INDEX CONCURRENTLY IF EXISTS certificates_revoked_shard_idx;
CREATE INDEX CONCURRENTLY certificates_revoked_shard_idx
  ON certificates (issuer_id, crl_shard) WHERE status = 'revoked';

-- A CRL on its way into crls, in chunks (ca/store/store_crl.c): written
-- and deleted in the transaction that makes the CRL, so never worth a
-- write-ahead log; stored uncompressed.
CREATE UNLOGGED TABLE IF NOT EXISTS crl_chunks (
  issuer_id  bigint NOT NULL,
  shard      smallint NOT NULL,
  seq        integer NOT NULL,
  bytes      bytea NOT NULL,
  PRIMARY KEY (issuer_id, shard, seq)
);
ALTER TABLE crl_chunks ALTER COLUMN bytes SET STORAGE EXTERNAL;
