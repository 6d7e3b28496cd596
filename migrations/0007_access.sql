-- Access to the API: bearer tokens (only the SHA-256 of each token is kept)
-- and the source addresses allowed on the admin routes.

CREATE TABLE api_tokens (
  id          bigserial PRIMARY KEY,
  name        text NOT NULL,
  -- SHA-256 of the token as the client sends it; the token itself is shown
  -- once, when it is made, and never stored.
  token_hash  bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
  role        text NOT NULL CHECK (role IN ('issuer', 'revoker', 'admin')),
  -- For issuers: the profiles they may issue under; '{}' means all.
  profiles    text[] NOT NULL DEFAULT '{}',
  created_at  timestamptz NOT NULL DEFAULT now(),
  created_by  text NOT NULL,
  revoked_at  timestamptz
);

-- An empty list allows every address; otherwise the admin routes answer
-- only clients inside one of these networks.
CREATE TABLE admin_allowlist (
  network   cidr PRIMARY KEY,
  added_at  timestamptz NOT NULL DEFAULT now(),
  added_by  text NOT NULL
);
