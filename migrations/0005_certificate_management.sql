-- Certificate management (the "Security > Certificate Management" page of
-- the seed products, done centrally): trust stores, the cluster of each
-- identity certificate, self-signed identities.

-- Self-signed identities (POST /v1/self-signed), made as a node makes its
-- own at install time, have no pki CA above them: their issuer_id is NULL.
-- Their serials are unique among themselves.
ALTER TABLE certificates ALTER COLUMN issuer_id DROP NOT NULL;
ALTER TABLE certificates
  ADD COLUMN self_signed boolean NOT NULL DEFAULT false,
  ADD CONSTRAINT certificates_self_signed_issuer
    CHECK (self_signed = (issuer_id IS NULL));
CREATE UNIQUE INDEX certificates_self_signed_serial_key
  ON certificates (serial) WHERE issuer_id IS NULL;

-- :regenerate records which certificate a new one replaced; a certificate
-- is replaced at most once (regenerate the current one, not an old one).
ALTER TABLE certificates
  ADD COLUMN replaces_id bigint REFERENCES certificates (id);
CREATE UNIQUE INDEX certificates_replaces_key
  ON certificates (replaces_id) WHERE replaces_id IS NOT NULL;

-- The cluster whose node holds the certificate (the node is the common
-- name, the purpose the profile): what an EMCC-style bulk export selects.
-- NULL when the issuer did not say.
ALTER TABLE certificates ADD COLUMN cluster text;
CREATE INDEX certificates_cluster_idx ON certificates (cluster, profile)
  WHERE cluster IS NOT NULL;

-- Trust stores. Uploads hold CA certificates; bulk imports also bring the
-- other clusters' leaf certificates (tomcat, CallManager, ...), with the
-- revocation state their CA gave them.
CREATE TABLE trust_entries (
  id                 bigserial PRIMARY KEY,
  store              text NOT NULL CHECK (store IN (
                       'tomcat-trust', 'CallManager-trust', 'Phone-SAST-trust',
                       'CAPF-trust', 'ipsec-trust', 'TVS-trust')),
  -- SHA-256 of the DER: the same certificate twice is one entry.
  fingerprint        bytea NOT NULL CHECK (octet_length(fingerprint) = 32),
  subject            text NOT NULL,
  -- The subject as encoded: a store keeps one certificate per subject.
  subject_der        bytea NOT NULL,
  issuer             text NOT NULL,
  serial             text NOT NULL,
  common_name        text NOT NULL,
  key_type           text NOT NULL,
  key_bits           integer NOT NULL,
  is_ca              boolean NOT NULL,
  not_before         timestamptz NOT NULL,
  not_after          timestamptz NOT NULL,
  der                bytea NOT NULL,
  -- 'upload' or 'bulk'; a bulk entry names the cluster, node and purpose
  -- of the bundle it came from.
  source             text NOT NULL CHECK (source IN ('upload', 'bulk')),
  cluster            text,
  node               text,
  purpose            text,
  revoked_at         timestamptz,
  revocation_reason  smallint,
  added_by           text NOT NULL,
  created_at         timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT trust_entries_store_subject_key UNIQUE (store, subject_der),
  CONSTRAINT trust_entries_store_fingerprint_key UNIQUE (store, fingerprint)
);

CREATE INDEX trust_entries_not_after_idx ON trust_entries (not_after);
CREATE INDEX trust_entries_fingerprint_idx ON trust_entries (fingerprint);
