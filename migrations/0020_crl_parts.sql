-- A CRL is stored once, as the parts pkid writes while it makes it
-- (ca/store/store_crl.c), rather than written as chunks into crl_chunks
-- and then copied whole into crls.der: that copy was an eighth of the time
-- of a CRL of a million entries. `crls` keeps each CRL's head (number,
-- times, length); a CRL's bytes are the parts of its number in the order
-- of `at`, the offset of a part's first octet in the CRL. The parts of the
-- CRL a new one replaces are deleted in the transaction that stores it.
--
-- Runs online: no row is rewritten. Adding a nullable column without a
-- default and dropping a NOT NULL only change the catalog. A CRL stored
-- before keeps its bytes in crls.der, where pkid still reads them (der is
-- NULL for a CRL stored in parts), until its CRL is next replaced. A node
-- of an earlier version still running fails its CRLs (crl_chunks is gone)
-- and cannot read the new ones until it is upgraded.

CREATE TABLE IF NOT EXISTS crl_parts (
  issuer_id   bigint NOT NULL,
  shard       smallint NOT NULL,
  crl_number  bigint NOT NULL,
  at          bigint NOT NULL CHECK (at >= 0),
  bytes       bytea NOT NULL,
  PRIMARY KEY (issuer_id, shard, crl_number, at)
);

-- Uncompressed: a reader's slice reads the TOAST chunks it covers alone,
-- and a signed CRL hardly compresses anyway.
ALTER TABLE crl_parts ALTER COLUMN bytes SET STORAGE EXTERNAL;

-- The length of a CRL stored in parts; NULL for one in crls.der.
ALTER TABLE crls ADD COLUMN IF NOT EXISTS der_len integer;
ALTER TABLE crls ALTER COLUMN der DROP NOT NULL;

DROP TABLE IF EXISTS crl_chunks;
