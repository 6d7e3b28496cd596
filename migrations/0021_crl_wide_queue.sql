-- The CA-wide CRL published less often than the shards' (pkid
-- --crl-wide-interval; README, "Partitioned CRLs"). A change of a
-- certificate with a shard is carried in time by its shard's CRL, which its
-- CRL distribution point names; one of a certificate without a shard
-- (issued before sharding, imported, or with --crl-shards 1) only by the
-- CA-wide CRL, which it keeps due at --crl-interval. The writer tells the
-- two apart by this queue: such a change now also queues (CA, shard 0) in
-- crl_pending_shards, beside the crl_pending row every change of the CA
-- queues; the writer takes both when it publishes the CA-wide CRL
-- (ca/store/store_crl.c).
--
-- Replaces the function of migration 0018's triggers, which call it by
-- name: one catalog change, online, and in force for every node at once
-- (the trigger runs in PostgreSQL). A change queued before it has no
-- shard 0 row and reaches the CA-wide CRL at --crl-wide-interval at the
-- latest.
CREATE OR REPLACE FUNCTION revocations_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM ocsp_answers a USING changed c
    WHERE a.certificate_id = c.certificate_id;
  -- One row per shard touched, whatever the number of rows changed.
  INSERT INTO crl_pending_shards (issuer_id, shard)
    SELECT DISTINCT c.issuer_id, coalesce(c.crl_shard, 0) FROM changed c;
  RETURN NULL;
END $$;
