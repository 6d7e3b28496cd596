-- Pre-signed OCSP answers every node can read (RFC 5019 2.1.1: responses
-- "pre-produced" and served as they are). A node that starts, or whose
-- cache was emptied, serves these instead of signing again; a background
-- task renews them before they go stale (ca/revocation/presign.h).
--
-- An answer is only ever served while the certificate's row still has the
-- status it states: the reading query compares the two, and the trigger
-- below deletes the answers of every certificate whose row changes, in the
-- transaction that changes it.
CREATE TABLE ocsp_answers (
  certificate_id  bigint NOT NULL REFERENCES certificates (id)
                    ON DELETE CASCADE,
  -- The CertID of the request, as the client encoded it: the response
  -- repeats it, and clients compare it (hash algorithm and all).
  cert_id         bytea NOT NULL CHECK (length(cert_id) <= 160),
  -- SHA-1 of the signer's public key (the ResponderID byKey): a node whose
  -- CA delegates to a responder of its own only serves what that responder
  -- signed.
  signer          bytea NOT NULL CHECK (length(signer) = 20),
  revoked         boolean NOT NULL,
  revoked_at      timestamptz,
  reason          smallint,
  produced_at     timestamptz NOT NULL,
  next_update     timestamptz NOT NULL,
  der             bytea NOT NULL,
  PRIMARY KEY (certificate_id, cert_id, signer)
);

-- The renewal reads the oldest answers first.
CREATE INDEX ocsp_answers_produced_idx ON ocsp_answers (signer, produced_at);

CREATE FUNCTION ocsp_answers_drop_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  -- One statement for the whole UPDATE (a batch revocation touches many
  -- rows); nearly free while no answer is stored for them.
  DELETE FROM ocsp_answers a USING changed c WHERE a.certificate_id = c.id;
  RETURN NULL;
END $$;

-- Transition tables cannot go with a column list, so this fires on every
-- UPDATE of certificates; those are revocations, releases and imports of
-- revocations, all of which change what an answer would say.
CREATE TRIGGER certificates_drop_ocsp_answers
  AFTER UPDATE ON certificates
  REFERENCING NEW TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION ocsp_answers_drop_changed();
