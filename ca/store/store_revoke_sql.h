// The statements of a batch revocation (ca/store/store_revoke.c), sent in
// one libpq pipeline. bench:revoke's reference sends these same statements
// from PostgreSQL's side alone, so that its ratio compares pkid with exactly
// the database work pkid asks for.
#ifndef PKI_CA_STORE_STORE_REVOKE_SQL_H
#define PKI_CA_STORE_STORE_REVOKE_SQL_H

// $1 certificate ids, $2 revocation times (epoch seconds), $3 reasons,
// $4 the number of rows expected, $5 1 where the certificate was read on
// hold. A good certificate gets its row (a plain INSERT: ON CONFLICT would
// cost a third more WAL records, a speculative insertion confirmed per
// row); one read on hold (certificateHold, 6) and revoked for good has it
// replaced. A row another transaction made meanwhile fails the INSERT
// (unique violation); one it changed or deleted leaves the UPDATE short,
// and revocations_expect fails.
#define CA_REVOKE_BATCH_WRITE_SQL                                     \
  "WITH held AS (UPDATE revocations r SET"                            \
  " revoked_at = to_timestamp(u.at), reason = u.reason"               \
  " FROM unnest($1::bigint[], $2::bigint[], $3::smallint[],"          \
  " $5::smallint[]) AS u(id, at, reason, held)"                       \
  " JOIN certificates c ON c.id = u.id"                               \
  " WHERE u.held = 1 AND r.issuer_id = c.issuer_id"                   \
  " AND r.serial = c.serial AND r.reason = 6 RETURNING 1),"           \
  " made AS (INSERT INTO revocations (issuer_id, serial,"             \
  " certificate_id, crl_shard, not_after, revoked_at, reason)"        \
  " SELECT c.issuer_id, c.serial, c.id, c.crl_shard, c.not_after,"    \
  " to_timestamp(u.at), u.reason"                                     \
  " FROM unnest($1::bigint[], $2::bigint[], $3::smallint[],"          \
  " $5::smallint[]) AS u(id, at, reason, held)"                       \
  " JOIN certificates c ON c.id = u.id WHERE u.held = 0 RETURNING 1)" \
  " SELECT revocations_expect((SELECT count(*) FROM held)"            \
  " + (SELECT count(*) FROM made), $4::bigint)"

// $1 the action, $2 actors, $3 sources, $4 objects, $5 details: one audit
// row per certificate.
#define CA_REVOKE_BATCH_AUDIT_SQL                                          \
  "INSERT INTO audit_log (actor, action, object, source, outcome, detail)" \
  " SELECT u.actor, $1, u.object, u.source, 'ok', u.detail"                \
  " FROM unnest($2::text[], $3::text[], $4::text[], $5::text[])"           \
  " AS u(actor, source, object, detail)"

// $1 the channel, $2 the payloads. PostgreSQL folds identical NOTIFYs of a
// transaction into one.
#define CA_REVOKE_BATCH_NOTIFY_SQL \
  "SELECT count(pg_notify($1, p)) FROM unnest($2::text[]) AS p"

// $1 the CAs whose CA-wide CRL is now due.
#define CA_REVOKE_BATCH_QUEUE_SQL \
  "INSERT INTO crl_pending (issuer_id) SELECT unnest($1::bigint[])"

#endif  // PKI_CA_STORE_STORE_REVOKE_SQL_H
