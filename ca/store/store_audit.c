// Reading the audit log (ca/store/store_audit.h).
#include "ca/store/store_audit.h"

#include <inttypes.h>
#include <openssl/mem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca/store/store_internal.h"

void ca_audit_rows_free(ca_audit_row *rows, size_t n) {
  if (rows == NULL) {
    return;
  }
  for (size_t i = 0; i < n; i++) {
    OPENSSL_free(rows[i].actor);
    OPENSSL_free(rows[i].action);
    OPENSSL_free(rows[i].object);
    OPENSSL_free(rows[i].source);
    OPENSSL_free(rows[i].outcome);
    OPENSSL_free(rows[i].detail);
  }
  free(rows);
}

ca_audit_cursor ca_audit_row_cursor(const ca_audit_row *row) {
  const ca_audit_cursor c = {.set = 1, .at_us = row->at_us, .id = row->id};
  return c;
}

// The columns of a row, in the order decode_row reads them, of table
// alias T. Times are sent as whole seconds (floored: a row of 12:00:00.7
// is of 12:00:00, as since and until count) and as microseconds (exact:
// extract returns numeric), for the cursor.
#define AUDIT_COLUMNS(T)                                                 \
  T ".id, floor(extract(epoch FROM " T                                   \
    ".at))::bigint,"                                                     \
    " (extract(epoch FROM " T ".at) * 1000000)::bigint, " T ".actor, " T \
    ".action, " T ".object, " T ".source, " T ".outcome, " T ".detail"

// The cursor's time: whole seconds through to_timestamp, which is exact
// for them, plus the microseconds as an interval (no rounding through a
// double).
#define CURSOR_AT                       \
  "(to_timestamp($7::bigint / 1000000)" \
  " + ($7::bigint % 1000000) * interval '1 microsecond')"

// The filters other than action, on table alias T. A filter not given is
// a NULL parameter: PostgreSQL plans an unnamed statement with its values
// (PQexecParams), so "NULL IS NULL OR ..." folds away and each statement
// is planned for the filters it has, on the index of migration 0013 that
// serves them. The cursor is a row comparison, which a B-tree on
// (..., at, id) takes as an index condition.
#define AUDIT_FILTERS(T)                                           \
  " ($1::text IS NULL OR " T                                       \
  ".actor = $1)"                                                   \
  " AND ($3::text IS NULL OR " T                                   \
  ".object = $3)"                                                  \
  " AND ($4::text IS NULL OR " T                                   \
  ".outcome = $4)"                                                 \
  " AND ($5::bigint IS NULL OR " T                                 \
  ".at >= to_timestamp($5::bigint))"                               \
  " AND ($6::bigint IS NULL OR " T                                 \
  ".at < to_timestamp($6::bigint))"                                \
  " AND ($7::bigint IS NULL OR (" T ".at, " T ".id) < (" CURSOR_AT \
  ", $8::bigint))"

// The rows of one action (ACTION, an expression), newest first: a walk
// down audit_log_action_at_idx.
#define ONE_ACTION(ACTION)                             \
  "SELECT * FROM audit_log l WHERE l.action = " ACTION \
  " AND" AUDIT_FILTERS("l") " ORDER BY l.at DESC, l.id DESC LIMIT $9::bigint"

// Parameters: $1 actor, $2 action (exact, or the prefix without its '*'),
// $3 object, $4 outcome, $5 since, $6 until (Unix seconds), $7 and $8 the
// cursor (microseconds, id), $9 the page's rows plus one (whether there
// are more).

// No action: the whole log newest first (audit_log_at_idx), or one actor's
// (audit_log_actor_at_idx) or one object's (audit_log_object_at_idx).
static const char kListSql[] =
    "SELECT " AUDIT_COLUMNS("a") " FROM audit_log a WHERE $2::text IS NULL AND"
    AUDIT_FILTERS("a") " ORDER BY a.at DESC, a.id DESC LIMIT $9::bigint";

// One action.
static const char kActionSql[] =
    "SELECT " AUDIT_COLUMNS("e") " FROM (" ONE_ACTION(
        "$2::text") ") e ORDER BY e.at DESC, e.id DESC LIMIT $9::bigint";

// A prefix ("token.*"): the distinct actions, listed by a loose scan of
// audit_log_action_at_idx (one probe per action, a few dozen, whatever the
// number of rows), those beginning with the prefix kept; then a page of
// each, newest first, merged. A filter on the whole log's order would
// instead walk past every row of other actions to find a rare one.
static const char kPrefixSql[] =
    "WITH RECURSIVE acts(action) AS ("
    " (SELECT action FROM audit_log ORDER BY action LIMIT 1)"
    " UNION ALL"
    " SELECT (SELECT x.action FROM audit_log x WHERE x.action > acts.action"
    "  ORDER BY x.action LIMIT 1) FROM acts WHERE acts.action IS NOT NULL)"
    " SELECT " AUDIT_COLUMNS(
        "e") " FROM acts CROSS JOIN LATERAL (" ONE_ACTION("acts.action") ") e"
             " WHERE acts.action IS NOT NULL AND starts_with(acts.action, $2)"
             " ORDER BY e.at DESC, e.id DESC LIMIT $9::bigint";

static int decode_row(PGresult *res, int i, void *elem, const void *arg) {
  (void)arg;
  ca_audit_row *r = elem;
  r->id = ca_store_get_int(res, i, 0);
  r->at = ca_store_get_int(res, i, 1);
  r->at_us = ca_store_get_int(res, i, 2);
  CA_ENSURE_RETURN(ca_store_get_text(res, i, 3, &r->actor) &&
                       ca_store_get_text(res, i, 4, &r->action) &&
                       ca_store_get_text(res, i, 5, &r->object) &&
                       ca_store_get_text(res, i, 6, &r->source) &&
                       ca_store_get_text(res, i, 7, &r->outcome) &&
                       ca_store_get_text(res, i, 8, &r->detail),
                   CA_ERR_NO_MEMORY, "out of memory");
  return 1;
}

static void free_rows(void *rows, size_t n) {
  ca_audit_rows_free(rows, n);
}

static const ca_store_row_type kAuditRows = {sizeof(ca_audit_row), decode_row,
                                             free_rows};

int ca_store_list_audit(ca_store *store, const ca_audit_filter *f,
                        ca_audit_row **out, size_t *out_n, int *out_more) {
  *out = NULL;
  *out_n = 0;
  *out_more = 0;
  CA_ENSURE_RETURN(f->limit >= 1 && f->limit <= CA_AUDIT_PAGE_MAX,
                   CA_ERR_AUDIT_LIMIT_INVALID, "limit must be 1 to %d",
                   CA_AUDIT_PAGE_MAX);
  const char *sql = f->action == NULL  ? kListSql
                    : f->action_prefix ? kPrefixSql
                                       : kActionSql;
  char since[24], until[24], at_us[24], id[24], limit[24];
  snprintf(since, sizeof(since), "%" PRId64, f->since);
  snprintf(until, sizeof(until), "%" PRId64, f->until);
  snprintf(at_us, sizeof(at_us), "%" PRId64, f->after.at_us);
  snprintf(id, sizeof(id), "%" PRId64, f->after.id);
  // One row more than the page: whether there is a next one.
  snprintf(limit, sizeof(limit), "%zu", f->limit + 1);
  const char *values[9] = {f->actor,
                           f->action,
                           f->object,
                           f->outcome,
                           f->since != 0 ? since : NULL,
                           f->until != 0 ? until : NULL,
                           f->after.set ? at_us : NULL,
                           f->after.set ? id : NULL,
                           limit};
  const ca_store_stmt stmt = {.sql = sql,
                              .n_params = 9,
                              .values = values,
                              .what = "reading the audit log"};
  ca_store_rows rows;
  CA_GUARD_RETURN(
      ca_store_read_rows(store, &stmt, &kAuditRows, NULL, f->limit, &rows));
  *out = rows.rows;
  *out_n = rows.n;
  *out_more = rows.more;
  return 1;
}
