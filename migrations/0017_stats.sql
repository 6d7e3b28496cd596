-- The certificate statistics snapshot (README.md, "Certificate
-- statistics"): counts by CA, profile and status and the expiry buckets of
-- /metrics, computed by one pkid at a time in the background and read by
-- every pkid of the database, so that neither GET /v1/stats nor a scrape of
-- /metrics reads the certificates table.

-- One row: the snapshot's header, and the claim of the node computing the
-- next one (taken under an advisory lock, ca/store/store_stats.c).
CREATE TABLE stats_snapshot (
  id                  smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
  -- When the counting began (the counts are as of then) and ended.
  computed_at         timestamptz,
  finished_at         timestamptz,
  computed_by         text NOT NULL DEFAULT '',
  duration_ms         bigint NOT NULL DEFAULT 0,
  -- Snapshots computed since the table was made.
  refreshes           bigint NOT NULL DEFAULT 0,
  -- The expiry counts of /metrics (ca/store/store_monitor.h).
  within_1d           bigint NOT NULL DEFAULT 0,
  within_7d           bigint NOT NULL DEFAULT 0,
  within_30d          bigint NOT NULL DEFAULT 0,
  expired             bigint NOT NULL DEFAULT 0,
  external_within_1d  bigint NOT NULL DEFAULT 0,
  external_within_7d  bigint NOT NULL DEFAULT 0,
  external_within_30d bigint NOT NULL DEFAULT 0,
  external_expired    bigint NOT NULL DEFAULT 0,
  -- A node counting now, and since when; a claim older than ten minutes is
  -- taken as abandoned (its node died counting).
  claimed_by          text,
  claimed_at          timestamptz
);
INSERT INTO stats_snapshot (id) VALUES (1);

-- The counts of the snapshot: issued certificates (kind 'issued', by CA
-- name, '' for self-signed ones) and registered identities (kind
-- 'external', issuer ''), by profile (an identity's purpose) and status
-- (good, revoked, expired: good with notAfter passed).
CREATE TABLE stats_counts (
  kind        text NOT NULL,
  issuer      text NOT NULL,
  profile     text NOT NULL,
  status      text NOT NULL,
  count       bigint NOT NULL,
  -- Good ones whose notAfter is within 1, 7 and 30 days of computed_at.
  within_1d   bigint NOT NULL,
  within_7d   bigint NOT NULL,
  within_30d  bigint NOT NULL,
  PRIMARY KEY (kind, issuer, profile, status)
);

-- The last computations (the newest 100 are kept): which node computed
-- each snapshot, when, and how long it took.
CREATE TABLE stats_refreshes (
  id           bigserial PRIMARY KEY,
  computed_at  timestamptz NOT NULL,
  computed_by  text NOT NULL,
  duration_ms  bigint NOT NULL
);
