-- Revocation: the current CRL of each CA, and the OCSP responder
-- certificates each node signs with when a CA delegates its responses.

CREATE TABLE crls (
  issuer_id    bigint PRIMARY KEY REFERENCES issuers (id),
  -- RFC 5280 5.2.3: "monotonically increasing sequence numbers".
  crl_number   bigint NOT NULL CHECK (crl_number > 0),
  this_update  timestamptz NOT NULL,
  next_update  timestamptz NOT NULL,
  der          bytea NOT NULL
);

-- The revoked certificates of a CA, read for every new CRL.
CREATE INDEX certificates_revoked_idx ON certificates (issuer_id)
  WHERE status = 'revoked';

CREATE TABLE ocsp_responders (
  id              bigserial PRIMARY KEY,
  issuer_id       bigint NOT NULL REFERENCES issuers (id),
  certificate_id  bigint NOT NULL REFERENCES certificates (id),
  -- Each node signs with a responder key of its own, kept in its data
  -- directory: the key never enters the database.
  node            text NOT NULL,
  key_file        text NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX ocsp_responders_issuer_node_idx
  ON ocsp_responders (issuer_id, node, id);
