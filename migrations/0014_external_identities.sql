-- Certificates pki did not issue: identity certificates that a public or
-- corporate CA signed for a node, registered so that finds, the expiry
-- monitor, /metrics and bulk exports cover them; and descriptions on trust
-- entries, which may now be leaf certificates too.

-- An operator's note on an upload ("peer cluster B tomcat", "CTI server").
ALTER TABLE trust_entries
  ADD COLUMN description text NOT NULL DEFAULT ''
    CHECK (length(description) <= 256);

-- One registered identity per (cluster, node, purpose): what a node holds
-- for that purpose now. Replacing it rewrites the row; the audit log keeps
-- the old and new fingerprints.
CREATE TABLE identities (
  id             bigserial PRIMARY KEY,
  cluster        text NOT NULL DEFAULT '' CHECK (length(cluster) <= 64),
  node           text NOT NULL CHECK (length(node) BETWEEN 1 AND 253),
  purpose        text NOT NULL CHECK (length(purpose) BETWEEN 1 AND 32),
  -- SHA-256 of the leaf's DER, as in trust_entries: the key other tables
  -- (revocation status) use to refer to the certificate.
  fingerprint    bytea NOT NULL CHECK (octet_length(fingerprint) = 32),
  subject        text NOT NULL,
  issuer         text NOT NULL,
  serial         text NOT NULL,
  common_name    text NOT NULL,
  key_type       text NOT NULL,
  key_bits       integer NOT NULL,
  not_before     timestamptz NOT NULL,
  not_after      timestamptz NOT NULL,
  der            bytea NOT NULL,
  -- The chain given with it (DER certificates one after the other), leaf
  -- excluded; empty when none was given.
  chain          bytea NOT NULL DEFAULT '',
  -- Whether pki could verify the chain up to one of its trust entries or
  -- its own CAs, and the reason when it could not.
  verified       boolean NOT NULL,
  verify_detail  text NOT NULL,
  description    text NOT NULL DEFAULT '' CHECK (length(description) <= 256),
  added_by       text NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT identities_node_purpose_key UNIQUE (cluster, node, purpose)
);

CREATE INDEX identities_not_after_idx ON identities (not_after);
CREATE INDEX identities_fingerprint_idx ON identities (fingerprint);

-- The expiry monitor's notices of registered identities: kind 'external',
-- cert_id an identities.id.
ALTER TABLE monitor_notices DROP CONSTRAINT monitor_notices_kind_check;
ALTER TABLE monitor_notices ADD CONSTRAINT monitor_notices_kind_check
  CHECK (kind IN ('identity', 'trust', 'external'));
