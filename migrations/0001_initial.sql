-- pki schema, version 1: the CAs, every issued certificate, the audit log.
-- Applied once, in a transaction, under the migration advisory lock.

CREATE TABLE issuers (
  id          bigserial PRIMARY KEY,
  name        text NOT NULL UNIQUE,
  role        text NOT NULL CHECK (role IN ('root', 'issuing')),
  algorithm   text NOT NULL,
  parent_id   bigint REFERENCES issuers (id),
  subject     text NOT NULL,
  serial      text NOT NULL,
  not_before  timestamptz NOT NULL,
  not_after   timestamptz NOT NULL,
  der         bytea NOT NULL,
  -- Name of the key file in the data directory's keys/; the key itself never
  -- enters the database.
  key_file    text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  CHECK ((role = 'root') = (parent_id IS NULL))
);

CREATE TABLE certificates (
  id                 bigserial PRIMARY KEY,
  issuer_id          bigint NOT NULL REFERENCES issuers (id),
  -- Lower-case hex of the serial's magnitude, no leading zero octets.
  serial             text NOT NULL CHECK (serial ~ '^[0-9a-f]+$'),
  profile            text NOT NULL,
  subject            text NOT NULL,
  common_name        text NOT NULL,
  sans               text[] NOT NULL,
  key_type           text NOT NULL CHECK (key_type IN ('RSA', 'EC')),
  key_bits           integer NOT NULL,
  not_before         timestamptz NOT NULL,
  not_after          timestamptz NOT NULL,
  der                bytea NOT NULL,
  status             text NOT NULL DEFAULT 'good'
                       CHECK (status IN ('good', 'revoked')),
  revoked_at         timestamptz,
  revocation_reason  smallint,
  requester          text NOT NULL,
  csr_sha256         bytea,
  created_at         timestamptz NOT NULL DEFAULT now(),
  -- ARCHITECTURE.md invariant 2: serials are unique per issuer.
  CONSTRAINT certificates_issuer_serial_key UNIQUE (issuer_id, serial),
  CHECK (not_before < not_after),
  CHECK ((status = 'revoked') = (revoked_at IS NOT NULL))
);

CREATE INDEX certificates_serial_idx ON certificates (serial);
CREATE INDEX certificates_profile_idx ON certificates (profile, id);
CREATE INDEX certificates_not_after_idx ON certificates (not_after);
CREATE INDEX certificates_common_name_idx ON certificates (lower(common_name));

-- Append only: rows are never changed or removed.
CREATE TABLE audit_log (
  id       bigserial PRIMARY KEY,
  at       timestamptz NOT NULL DEFAULT now(),
  actor    text NOT NULL,
  action   text NOT NULL,
  object   text NOT NULL,
  source   text NOT NULL,
  outcome  text NOT NULL,
  detail   text NOT NULL DEFAULT ''
);

CREATE FUNCTION audit_log_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only';
END;
$$;

CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
