// The statements of a batch revocation (ca/store/store_revoke.c), sent in
// one libpq pipeline. bench:revoke's reference sends these same statements
// from PostgreSQL's side alone, so that its ratio compares pkid with exactly
// the database work pkid asks for.
#ifndef PKI_CA_STORE_STORE_REVOKE_SQL_H
#define PKI_CA_STORE_STORE_REVOKE_SQL_H

// For a batch of CA_REVOKE_PROBE_EACH_FROM serials or more, sent first in
// the transaction: an index probe per serial. Past a few percent of the
// table the planner's costs prefer reading the whole table, many times
// slower with rows of this width.
#define CA_REVOKE_PROBE_EACH_FROM 64
#define CA_REVOKE_BATCH_PLAN_SQL "SET LOCAL enable_seqscan = off"

// $1 the serials (duplicates allowed). The state of every certificate of
// one of them: the columns of CA_STORE_STATE_COLUMNS (store_internal.h),
// in its order, then the serial and the CRL shard, which the write copies
// into the revocations rows instead of reading certificates again. An
// index probe per distinct serial, joined to unnest: `serial = ANY($1)`
// over thousands of serials costs its planning (an estimate per element),
// and is planned as a parallel bitmap scan whose plan, the array inside,
// is serialized to each worker, or without workers as a hash join reading
// every revocations row.
#define CA_REVOKE_BATCH_READ_SQL                                       \
  "SELECT c.id, c.issuer_id, (rv.serial IS NOT NULL),"                 \
  " coalesce(extract(epoch FROM rv.revoked_at)::bigint, 0),"           \
  " coalesce(rv.reason, 0), extract(epoch FROM c.not_before)::bigint," \
  " extract(epoch FROM c.not_after)::bigint, c.serial, c.crl_shard"    \
  " FROM (SELECT DISTINCT s FROM unnest($1::text[]) AS s) AS u"        \
  " JOIN certificates c ON c.serial = u.s"                             \
  " LEFT JOIN revocations rv ON rv.issuer_id = c.issuer_id"            \
  " AND rv.serial = c.serial ORDER BY c.id"

// $1 certificate ids, $2 their issuers, $3 serials, $4 CRL shards, $5
// notAfter (epoch seconds), all as read by CA_REVOKE_BATCH_READ_SQL; $6
// revocation times (epoch seconds), $7 reasons, $8 the number of rows
// expected, $9 1 where the certificate was read on hold. A good
// certificate gets its row (a plain INSERT: ON CONFLICT would cost a third
// more WAL records, a speculative insertion confirmed per row); one read
// on hold (certificateHold, 6) and revoked for good has it replaced. A row
// another transaction made meanwhile fails the INSERT (unique violation);
// one it changed or deleted leaves the UPDATE short, and
// revocations_expect fails. The certificates are not read again: what the
// rows copy from them never changes. The rows go in in the order of the
// key: two batches sharing certificates then wait for each other's rows
// in one order, and the second gets its unique violation; in the order of
// their items (A: x then y, B: y then x) each would wait for the other,
// until PostgreSQL's deadlock check aborted one a second later.
#define CA_REVOKE_BATCH_WRITE_SQL                                        \
  "WITH held AS (UPDATE revocations r SET"                               \
  " revoked_at = to_timestamp(u.at), reason = u.reason"                  \
  " FROM unnest($2::bigint[], $3::text[], $6::bigint[], $7::smallint[]," \
  " $9::smallint[]) AS u(issuer_id, serial, at, reason, held)"           \
  " WHERE u.held = 1 AND r.issuer_id = u.issuer_id"                      \
  " AND r.serial = u.serial AND r.reason = 6 RETURNING 1),"              \
  " made AS (INSERT INTO revocations (issuer_id, serial,"                \
  " certificate_id, crl_shard, not_after, revoked_at, reason)"           \
  " SELECT u.issuer_id, u.serial, u.id, u.crl_shard,"                    \
  " to_timestamp(u.not_after), to_timestamp(u.at), u.reason"             \
  " FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::smallint[]," \
  " $5::bigint[], $6::bigint[], $7::smallint[], $9::smallint[])"         \
  " AS u(id, issuer_id, serial, crl_shard, not_after, at, reason, held)" \
  " WHERE u.held = 0 ORDER BY u.issuer_id, u.serial RETURNING 1)"        \
  " SELECT revocations_expect((SELECT count(*) FROM held)"               \
  " + (SELECT count(*) FROM made), $8::bigint)"

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
