// The certificate statistics snapshot (ca/store/store_stats.h).
#include "ca/store/store_stats.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ca/store/store_internal.h"
#include "ca/x509/asn1_time.h"

// The advisory lock under which a node claims the next computation.
#define STATS_LOCK "hashtext('pki_stats_snapshot')"
// A claim older than this is taken as abandoned: its node died counting.
#define STATS_CLAIM_LAPSE "interval '10 minutes'"

// The one statement that counts (kept in one place: the counts follow the
// certificates' columns). A certificate is revoked when it has a row in
// revocations (migration 0018). Certificates are grouped by issuer_id first and
// the few groups joined to the CAs' names after. A good certificate whose
// notAfter has passed counts as expired. $1 is computed_at, $2..$4 that
// plus 1, 7 and 30 days; $5 the most groups read.
#define WITHIN_SQL(EXPIRY, GOOD)                 \
  " count(*) FILTER (WHERE " GOOD " AND " EXPIRY \
  " > $1::timestamptz AND " EXPIRY               \
  " <= $2::timestamptz) AS d1,"                  \
  " count(*) FILTER (WHERE " GOOD " AND " EXPIRY \
  " > $1::timestamptz AND " EXPIRY               \
  " <= $3::timestamptz) AS d7,"                  \
  " count(*) FILTER (WHERE " GOOD " AND " EXPIRY \
  " > $1::timestamptz AND " EXPIRY " <= $4::timestamptz) AS d30"
#define COUNT_SQL \
  "SELECT 'issued', left(coalesce(i.name, ''), 128), left(g.profile, 128),"  \
  " g.status, g.n, g.d1, g.d7, g.d30 FROM (SELECT c.issuer_id, c.profile,"   \
  " CASE WHEN r.serial IS NOT NULL THEN 'revoked'"                           \
  "  WHEN c.not_after <= $1::timestamptz THEN 'expired' ELSE 'good' END"     \
  " AS status, count(*) AS n,"                                               \
  WITHIN_SQL("c.not_after", "r.serial IS NULL")                              \
  " FROM certificates c LEFT JOIN revocations r"                             \
  " ON r.issuer_id = c.issuer_id AND r.serial = c.serial"                    \
  " GROUP BY 1, 2, 3) g"                                                     \
  " LEFT JOIN issuers i ON i.id = g.issuer_id"                               \
  " UNION ALL SELECT 'external', '', left(x.purpose, 128),"                  \
  " CASE WHEN x.not_after <= $1::timestamptz THEN 'expired' ELSE 'good'"     \
  " END, count(*)," WITHIN_SQL("x.not_after", "true")                        \
  " FROM identities x GROUP BY 3, 4 LIMIT $5::integer"

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void ca_stats_free(ca_stats *stats) {
  if (stats == NULL) {
    return;
  }
  free(stats->counts);
  stats->counts = NULL;
  stats->n_counts = 0;
}

int ca_store_stats_claim(ca_store *store, const char *node, int64_t interval_s,
                         int force, int *out_claimed, int64_t *out_wait_s) {
  ca_store_tx *tx = NULL;
  PGresult *res = NULL;
  char interval[24];
  snprintf(interval, sizeof(interval), "%" PRId64, interval_s);
  *out_claimed = 0;
  *out_wait_s = interval_s;
  CA_GUARD(ca_store_begin(store, &tx));
  // A node that finds the lock taken leaves: the holder is claiming.
  res = ca_store_tx_query(
      tx,
      force ? "SELECT pg_advisory_xact_lock(" STATS_LOCK "), true"
            : "SELECT null, pg_try_advisory_xact_lock(" STATS_LOCK ")",
      0, NULL, NULL, NULL, PGRES_TUPLES_OK, "taking the statistics lock");
  CA_GUARD(res != NULL);
  const int locked = ca_store_get_bool(res, 0, 1);
  PQclear(res);
  res = NULL;
  if (!locked) {
    *out_wait_s = 0;
    ca_store_rollback(tx);
    return 1;
  }
  const char *values[1] = {interval};
  res = ca_store_tx_query(
      tx,
      "SELECT claimed_at > clock_timestamp() - " STATS_CLAIM_LAPSE
      ", coalesce(claimed_by, ''),"
      " ceil(extract(epoch FROM finished_at + $1::bigint * interval '1 second'"
      " - clock_timestamp()))::bigint FROM stats_snapshot WHERE id = 1",
      1, values, NULL, NULL, PGRES_TUPLES_OK, "reading the statistics claim");
  CA_GUARD(res != NULL);
  CA_ENSURE(PQntuples(res) == 1, CA_ERR_STORAGE_UNAVAILABLE,
            "the statistics snapshot row is missing");
  const int busy = ca_store_get_bool(res, 0, 0);
  const int64_t wait_s =
      PQgetisnull(res, 0, 2) ? 0 : ca_store_get_int(res, 0, 2);
  if (busy) {
    CA_ENSURE(!force, CA_ERR_CONFLICT,
              "node %.63s is computing the statistics now",
              PQgetvalue(res, 0, 1));
    *out_wait_s = 0;
  }
  PQclear(res);
  res = NULL;
  if (busy || (!force && wait_s > 0)) {
    *out_wait_s = busy ? 0 : wait_s;
    ca_store_rollback(tx);
    return 1;
  }
  const char *who[1] = {node};
  CA_GUARD(ca_store_tx_command(
      tx,
      "UPDATE stats_snapshot SET claimed_by = $1, claimed_at ="
      " clock_timestamp() WHERE id = 1",
      1, who, PGRES_COMMAND_OK, "claiming the statistics"));
  CA_GUARD(ca_store_commit(&tx));
  *out_claimed = 1;
  return 1;
err:
  PQclear(res);
  ca_store_rollback(tx);
  return 0;
}

// format_bounds writes |now| and |now| plus 1, 7, 30 days.
static int format_bounds(int64_t now, char t[4][21]) {
  static const int64_t kDays[4] = {0, 1, 7, 30};
  for (int i = 0; i < 4; i++) {
    CA_ENSURE_RETURN(ca_time_format(now + kDays[i] * 86400, t[i]),
                     CA_ERR_PARAMETER_INVALID, "time out of range");
  }
  return 1;
}

int ca_store_stats_save(ca_store *store, const char *node, int64_t now,
                        const ca_expiry_counts *expiry, int64_t duration_ms,
                        int64_t *out_duration_ms) {
  ca_store_tx *tx = NULL;
  PGresult *res = NULL;
  char t[4][21], limit[16];
  CA_GUARD_RETURN(format_bounds(now, t));
  snprintf(limit, sizeof(limit), "%d", CA_STATS_MAX_GROUPS + 1);
  const int64_t start = now_ms();
  CA_GUARD(ca_store_begin(store, &tx));
  // The count may not outlive the claim (STATS_CLAIM_LAPSE): another node
  // would then take it and count too.
  CA_GUARD(ca_store_tx_command(tx, "SET LOCAL statement_timeout = '9min'", 0,
                               NULL, PGRES_COMMAND_OK,
                               "bounding the statistics count"));
  CA_GUARD(ca_store_tx_command(tx, "DELETE FROM stats_counts", 0, NULL,
                               PGRES_COMMAND_OK, "clearing the statistics"));
  const char *count_values[5] = {t[0], t[1], t[2], t[3], limit};
  res = ca_store_tx_query(tx,
                          "WITH g AS (INSERT INTO stats_counts " COUNT_SQL
                          " RETURNING 1) SELECT count(*) FROM g",
                          5, count_values, NULL, NULL, PGRES_TUPLES_OK,
                          "counting the certificates");
  CA_GUARD(res != NULL);
  CA_ENSURE(ca_store_get_int(res, 0, 0) <= CA_STATS_MAX_GROUPS,
            CA_ERR_OBJECT_TOO_LARGE, "more than %d groups of certificates",
            CA_STATS_MAX_GROUPS);
  PQclear(res);
  res = NULL;
  const int64_t total_ms = duration_ms + (now_ms() - start);
  char v[11][24];
  const uint64_t e[8] = {
      expiry->within_1d,           expiry->within_7d,
      expiry->within_30d,          expiry->expired,
      expiry->external_within_1d,  expiry->external_within_7d,
      expiry->external_within_30d, expiry->external_expired};
  for (int i = 0; i < 8; i++) {
    snprintf(v[i], sizeof(v[i]), "%" PRIu64, e[i]);
  }
  snprintf(v[8], sizeof(v[8]), "%" PRId64, total_ms);
  const char *values[11] = {v[0], v[1], v[2], v[3], v[4], v[5],
                            v[6], v[7], v[8], t[0], node};
  res = ca_store_tx_query(
      tx,
      "UPDATE stats_snapshot SET within_1d = $1, within_7d = $2,"
      " within_30d = $3, expired = $4, external_within_1d = $5,"
      " external_within_7d = $6, external_within_30d = $7,"
      " external_expired = $8, duration_ms = $9, computed_at = $10,"
      " finished_at = clock_timestamp(), computed_by = $11,"
      " refreshes = refreshes + 1, claimed_by = NULL, claimed_at = NULL"
      " WHERE id = 1 AND claimed_by = $11 RETURNING 1",
      11, values, NULL, NULL, PGRES_TUPLES_OK, "writing the statistics");
  CA_GUARD(res != NULL);
  CA_ENSURE(PQntuples(res) == 1, CA_ERR_CONFLICT,
            "the statistics claim of %.63s lapsed", node);
  PQclear(res);
  res = NULL;
  const char *history[3] = {t[0], node, v[8]};
  CA_GUARD(ca_store_tx_command(
      tx,
      "INSERT INTO stats_refreshes (computed_at, computed_by, duration_ms)"
      " VALUES ($1, $2, $3)",
      3, history, PGRES_COMMAND_OK, "recording the statistics"));
  CA_GUARD(ca_store_tx_command(
      tx,
      "DELETE FROM stats_refreshes WHERE id <= (SELECT max(id) FROM"
      " stats_refreshes) - 100",
      0, NULL, PGRES_COMMAND_OK, "trimming the statistics history"));
  CA_GUARD(ca_store_commit(&tx));
  *out_duration_ms = total_ms;
  return 1;
err:
  PQclear(res);
  ca_store_rollback(tx);
  return 0;
}

void ca_store_stats_release(ca_store *store, const char *node) {
  const char *values[1] = {node};
  PGresult *res = ca_store_query(
      store,
      "UPDATE stats_snapshot SET claimed_by = NULL, claimed_at = NULL"
      " WHERE id = 1 AND claimed_by = $1",
      1, values, PGRES_COMMAND_OK, "releasing the statistics claim");
  PQclear(res);
}

// The header's columns, then a group's (NULL when there is none).
#define READ_SQL                                                             \
  "SELECT s.computed_at IS NOT NULL,"                                        \
  " coalesce(extract(epoch FROM s.computed_at)::bigint, 0),"                 \
  " coalesce(extract(epoch FROM clock_timestamp() - s.computed_at)::bigint," \
  " 0), s.duration_ms, s.refreshes, s.computed_by, s.within_1d,"             \
  " s.within_7d, s.within_30d, s.expired, s.external_within_1d,"             \
  " s.external_within_7d, s.external_within_30d, s.external_expired,"        \
  " c.kind, c.issuer, c.profile, c.status, c.count, c.within_1d,"            \
  " c.within_7d, c.within_30d FROM stats_snapshot s"                         \
  " LEFT JOIN stats_counts c ON true WHERE s.id = 1"                         \
  " ORDER BY c.kind DESC, c.issuer, c.profile, c.status"
#define READ_GROUP_COLUMN 14

static uint64_t get_u64(PGresult *res, int row, int col) {
  const int64_t v = ca_store_get_int(res, row, col);
  return v > 0 ? (uint64_t)v : 0;
}

static void read_header(PGresult *res, ca_stats *out) {
  out->computed = ca_store_get_bool(res, 0, 0);
  out->computed_at = ca_store_get_int(res, 0, 1);
  out->age_s = ca_store_get_int(res, 0, 2);
  out->duration_ms = ca_store_get_int(res, 0, 3);
  out->refreshes = get_u64(res, 0, 4);
  snprintf(out->computed_by, sizeof(out->computed_by), "%s",
           PQgetvalue(res, 0, 5));
  uint64_t *e[8] = {
      &out->expiry.within_1d,           &out->expiry.within_7d,
      &out->expiry.within_30d,          &out->expiry.expired,
      &out->expiry.external_within_1d,  &out->expiry.external_within_7d,
      &out->expiry.external_within_30d, &out->expiry.external_expired};
  for (int i = 0; i < 8; i++) {
    *e[i] = get_u64(res, 0, 6 + i);
  }
}

static void read_group(PGresult *res, int row, ca_stats_count *c) {
  const int k = READ_GROUP_COLUMN;
  snprintf(c->kind, sizeof(c->kind), "%s", PQgetvalue(res, row, k));
  snprintf(c->issuer, sizeof(c->issuer), "%s", PQgetvalue(res, row, k + 1));
  snprintf(c->profile, sizeof(c->profile), "%s", PQgetvalue(res, row, k + 2));
  snprintf(c->status, sizeof(c->status), "%s", PQgetvalue(res, row, k + 3));
  c->count = get_u64(res, row, k + 4);
  c->within_1d = get_u64(res, row, k + 5);
  c->within_7d = get_u64(res, row, k + 6);
  c->within_30d = get_u64(res, row, k + 7);
}

int ca_store_stats_read(ca_store *store, ca_stats *out) {
  memset(out, 0, sizeof(*out));
  PGresult *res = ca_store_query(store, READ_SQL, 0, NULL, PGRES_TUPLES_OK,
                                 "reading the statistics");
  CA_GUARD_RETURN(res != NULL);
  const int n = PQntuples(res);
  if (n == 0 || PQntuples(res) > CA_STATS_MAX_GROUPS) {
    PQclear(res);
    CA_SET_ERROR(CA_ERR_STORAGE_UNAVAILABLE,
                 "the statistics snapshot is missing or too large");
    return 0;
  }
  read_header(res, out);
  // One row with NULL group columns when the snapshot holds no group.
  const size_t groups = PQgetisnull(res, 0, READ_GROUP_COLUMN) ? 0 : (size_t)n;
  out->counts = calloc(groups > 0 ? groups : 1, sizeof(ca_stats_count));
  if (out->counts == NULL) {
    PQclear(res);
    CA_SET_ERROR(CA_ERR_NO_MEMORY, "out of memory");
    return 0;
  }
  for (size_t i = 0; i < groups; i++) {
    read_group(res, (int)i, &out->counts[i]);
  }
  out->n_counts = groups;
  PQclear(res);
  return 1;
}
