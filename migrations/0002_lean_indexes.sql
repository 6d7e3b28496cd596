-- Fewer indexes on certificates: each costs PostgreSQL time on every
-- insert, the hot path of the service.
--
-- The common-name search is a case-insensitive substring match (strpos),
-- which a btree on lower(common_name) can never serve.
DROP INDEX certificates_common_name_idx;

-- With serial first, the uniqueness constraint also serves lookups by
-- serial alone, so the separate serial index goes.
ALTER TABLE certificates DROP CONSTRAINT certificates_issuer_serial_key;
ALTER TABLE certificates
  ADD CONSTRAINT certificates_serial_issuer_key UNIQUE (serial, issuer_id);
DROP INDEX certificates_serial_idx;
