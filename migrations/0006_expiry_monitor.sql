-- The expiry monitor: its configuration (one row), its destinations, and
-- the notices it sent, so that no certificate is announced twice to one
-- destination within one frequency window, whichever node checks and
-- however often it restarts.

CREATE TABLE monitor_config (
  id                 smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
  enabled            boolean NOT NULL DEFAULT false,
  -- Notices start this many days before notAfter.
  start_days         integer NOT NULL DEFAULT 30
                       CHECK (start_days BETWEEN 1 AND 365),
  -- One notice per certificate and destination per window of this length
  -- (1 hour to 30 days).
  frequency_seconds  integer NOT NULL DEFAULT 86400
                       CHECK (frequency_seconds BETWEEN 3600 AND 2592000),
  smtp_host          text NOT NULL DEFAULT 'localhost',
  smtp_port          integer NOT NULL DEFAULT 25
                       CHECK (smtp_port BETWEEN 1 AND 65535),
  smtp_from          text NOT NULL DEFAULT 'pki@localhost',
  updated_at         timestamptz NOT NULL DEFAULT now(),
  updated_by         text NOT NULL DEFAULT ''
);

INSERT INTO monitor_config DEFAULT VALUES;

CREATE TABLE monitor_destinations (
  kind      text NOT NULL CHECK (kind IN ('email', 'webhook')),
  address   text NOT NULL,
  position  integer NOT NULL,
  PRIMARY KEY (kind, address)
);

-- One row per certificate ('identity': certificates.id, 'trust':
-- trust_entries.id), window and destination ("mailto:ADDRESS" or the
-- webhook URL). A node claims a row before sending ('sending'), then marks
-- it 'sent' or 'failed'; a failed row, or a claim older than ten minutes
-- (its node died while sending), may be claimed again.
CREATE TABLE monitor_notices (
  kind         text NOT NULL CHECK (kind IN ('identity', 'trust')),
  cert_id      bigint NOT NULL,
  window_no    bigint NOT NULL,
  destination  text NOT NULL,
  state        text NOT NULL CHECK (state IN ('sending', 'sent', 'failed')),
  node         text NOT NULL,
  claimed_at   timestamptz NOT NULL DEFAULT now(),
  sent_at      timestamptz,
  error        text,
  PRIMARY KEY (kind, cert_id, window_no, destination)
);

CREATE INDEX monitor_notices_claimed_at_idx ON monitor_notices (claimed_at);
