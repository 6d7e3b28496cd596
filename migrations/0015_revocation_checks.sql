-- Revocation status of certificates pki trusts but did not issue: trust
-- store entries, and any other certificate of someone else pki relies on.
-- One row per certificate, keyed by the SHA-256 of its DER, whatever holds
-- it: an entry in two stores is checked once (ca/revocation/trust_check.h).
CREATE TABLE revocation_checks (
  fingerprint    bytea PRIMARY KEY CHECK (octet_length(fingerprint) = 32),
  status         text NOT NULL CHECK (status IN (
                   'good', 'revoked', 'unknown', 'unreachable', 'anchor')),
  -- CRLReason when revoked and the responder or CRL gave one.
  reason         smallint,
  revoked_at     timestamptz,
  -- What answered: 'ocsp' or 'crl'; '' when neither did.
  source         text NOT NULL CHECK (source IN ('', 'ocsp', 'crl')),
  responder_url  text NOT NULL CHECK (length(responder_url) < 512),
  checked_at     timestamptz NOT NULL,
  -- When a node checks it again. Claiming a batch moves it forward, so that
  -- two nodes never check the same certificate at once.
  next_check_at  timestamptz NOT NULL,
  -- Why the status is unknown or unreachable; '' otherwise.
  error          text NOT NULL CHECK (length(error) < 1024)
);

CREATE INDEX revocation_checks_next_idx ON revocation_checks (next_check_at);
