-- Whether pki generated the certificate's key itself (POST /v1/keys:generate)
-- rather than receiving a CSR: such a key left the service once, in the
-- response that issued it, and auditors want to know which ones.
ALTER TABLE certificates
  ADD COLUMN key_generated boolean NOT NULL DEFAULT false;
