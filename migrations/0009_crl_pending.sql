-- Revocation at scale: a revocation commits its certificate rows, audit rows
-- and NOTIFY, plus one row here per CA it touched; the CRL writer of one node
-- (README, "Revocation and OCSP") coalesces every row of a CA into its next
-- CRL and deletes the rows that CRL covers, in the same transaction. Small
-- and short-lived: created empty, so the migration runs online.
CREATE TABLE crl_pending (
  id         bigserial PRIMARY KEY,
  issuer_id  bigint NOT NULL REFERENCES issuers (id),
  queued_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE INDEX crl_pending_issuer_idx ON crl_pending (issuer_id, queued_at);
