// What a bulk export reads from PostgreSQL, and the audit rows of bulk
// calls that write nothing else.
#include <inttypes.h>
#include <openssl/mem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca/store/store_bulk.h"

#include "ca/limits.h"
#include "ca/policy/export.h"
#include "ca/store/store_internal.h"

static int dup_text(PGresult *res, int row, int col, char **out) {
  *out = OPENSSL_strdup(PQgetvalue(res, row, col));
  return *out != NULL;
}

// The current certificate of each node and purpose: DISTINCT ON keeps the
// first row of each (node, purpose) in the ORDER BY, the latest notBefore
// (then the latest issued). Nodes compare without regard to case, as host
// names do. One row more than the limit tells that there are too many.
static const char kExportSql[] =
    "SELECT * FROM (SELECT DISTINCT ON (lower(c.common_name), c.profile)"
    " c.id, c.serial, coalesce(i.name, ''), c.profile, c.subject,"
    " c.common_name, extract(epoch FROM c.not_before)::bigint,"
    " extract(epoch FROM c.not_after)::bigint, c.status,"
    " coalesce(extract(epoch FROM c.revoked_at)::bigint, 0),"
    " coalesce(c.revocation_reason, 0), c.der"
    " FROM certificates c LEFT JOIN issuers i ON i.id = c.issuer_id"
    " WHERE c.cluster = $1 AND c.profile = ANY ($2::text[])"
    " AND c.not_after > to_timestamp($3::bigint)"
    " ORDER BY lower(c.common_name), c.profile, c.not_before DESC, c.id DESC)"
    " AS current ORDER BY lower(common_name), profile LIMIT $4::bigint";

// text_array writes |n| names as a PostgreSQL array literal. The names are
// canonical purpose names (letters and '-'), so no quoting is needed.
static int text_array(const char *const *names, size_t n, char *out,
                      size_t cap) {
  size_t len = (size_t)snprintf(out, cap, "{");
  for (size_t i = 0; i < n && len < cap; i++) {
    len += (size_t)snprintf(out + len, cap - len, "%s%s", i > 0 ? "," : "",
                            names[i]);
  }
  if (len + 2 > cap) {
    return 0;
  }
  snprintf(out + len, cap - len, "}");
  return 1;
}

int ca_store_bulk_export_rows(ca_store *store, const char *cluster,
                              const char *const *purposes, size_t n_purposes,
                              int64_t now, ca_cert_row **out, size_t *out_n) {
  size_t slot;
  PGconn *conn = NULL;
  PGresult *res = NULL;
  ca_cert_row *rows = NULL;
  size_t n = 0;
  char array[512], when[24], limit[24];
  for (size_t i = 0; i < n_purposes; i++) {
    CA_ENSURE(ca_bulk_export_purpose(purposes[i]) != NULL,
              CA_ERR_PARAMETER_INVALID, "purpose %s cannot be exported",
              purposes[i]);
  }
  CA_ENSURE(text_array(purposes, n_purposes, array, sizeof(array)),
            CA_ERR_PARAMETER_INVALID, "too many purposes");
  snprintf(when, sizeof(when), "%" PRId64, now);
  snprintf(limit, sizeof(limit), "%d", CA_LIMIT_BUNDLE_ENTRIES + 1);
  const char *values[4] = {cluster, array, when, limit};
  CA_GUARD(ca_store_acquire(store, &slot, &conn));
  res = ca_store_check_result(
      conn, PQexecParams(conn, kExportSql, 4, NULL, values, NULL, NULL, 0),
      PGRES_TUPLES_OK, "reading the certificates to export");
  CA_GUARD(res != NULL);
  const int count = PQntuples(res);
  CA_ENSURE(count <= CA_LIMIT_BUNDLE_ENTRIES, CA_ERR_OBJECT_TOO_LARGE,
            "cluster %s has more than %d certificates to export", cluster,
            CA_LIMIT_BUNDLE_ENTRIES);
  rows = calloc((size_t)count + 1, sizeof(*rows));
  CA_ENSURE_ALLOC(rows);
  for (int i = 0; i < count; i++) {
    ca_cert_row *r = &rows[i];
    n++;
    r->id = ca_store_get_int(res, i, 0);
    r->not_before = ca_store_get_int(res, i, 6);
    r->not_after = ca_store_get_int(res, i, 7);
    r->revoked_at = ca_store_get_int(res, i, 9);
    r->revocation_reason = (int)ca_store_get_int(res, i, 10);
    CA_ENSURE(dup_text(res, i, 1, &r->serial) &&
                  dup_text(res, i, 2, &r->issuer) &&
                  dup_text(res, i, 3, &r->profile) &&
                  dup_text(res, i, 4, &r->subject) &&
                  dup_text(res, i, 5, &r->common_name) &&
                  dup_text(res, i, 8, &r->status),
              CA_ERR_NO_MEMORY, "out of memory");
    CA_GUARD(ca_store_get_bytea(res, i, 11, &r->der, &r->der_len));
  }
  PQclear(res);
  ca_store_release(store, slot);
  *out = rows;
  *out_n = n;
  return 1;
err:
  PQclear(res);
  ca_cert_rows_free(rows, n);
  if (conn != NULL) {
    ca_store_release(store, slot);
  }
  return 0;
}

// Every certificate pki issued or self-signed, in id order from the page's
// cursor: the id is the insertion order, so a page never misses or repeats
// a row even while new certificates are issued (they come later). One row
// more than the page tells that another page follows.
static const char kIssuedSql[] =
    "SELECT c.id, c.serial, coalesce(i.name, ''), c.profile, c.subject,"
    " c.common_name, extract(epoch FROM c.not_before)::bigint,"
    " extract(epoch FROM c.not_after)::bigint, c.status,"
    " coalesce(extract(epoch FROM c.revoked_at)::bigint, 0),"
    " coalesce(c.revocation_reason, 0), c.der, c.requester,"
    " c.key_generated, coalesce(c.cluster, ''), c.issuer_id IS NULL"
    " FROM certificates c LEFT JOIN issuers i ON i.id = c.issuer_id"
    " WHERE c.id > $1::bigint ORDER BY c.id LIMIT $2::bigint";

int ca_store_bulk_issued_rows(ca_store *store, int64_t after, size_t limit,
                              ca_cert_row **out, size_t *out_n, int *out_more) {
  size_t slot;
  PGconn *conn = NULL;
  PGresult *res = NULL;
  ca_cert_row *rows = NULL;
  size_t n = 0;
  char after_text[24], limit_text[24];
  CA_ENSURE(after >= 0, CA_ERR_PARAMETER_INVALID, "a negative cursor");
  CA_ENSURE(limit >= 1 && limit <= CA_LIMIT_ISSUED_PAGE,
            CA_ERR_PARAMETER_INVALID, "a page holds 1 to %d certificates",
            CA_LIMIT_ISSUED_PAGE);
  snprintf(after_text, sizeof(after_text), "%" PRId64, after);
  snprintf(limit_text, sizeof(limit_text), "%zu", limit + 1);
  const char *values[2] = {after_text, limit_text};
  CA_GUARD(ca_store_acquire(store, &slot, &conn));
  res = ca_store_check_result(
      conn, PQexecParams(conn, kIssuedSql, 2, NULL, values, NULL, NULL, 0),
      PGRES_TUPLES_OK, "reading the issued certificates to export");
  CA_GUARD(res != NULL);
  const size_t count = (size_t)PQntuples(res);
  const size_t take = count > limit ? limit : count;
  rows = calloc(take + 1, sizeof(*rows));
  CA_ENSURE_ALLOC(rows);
  for (size_t k = 0; k < take; k++) {
    const int i = (int)k;
    ca_cert_row *r = &rows[k];
    n++;
    r->id = ca_store_get_int(res, i, 0);
    r->not_before = ca_store_get_int(res, i, 6);
    r->not_after = ca_store_get_int(res, i, 7);
    r->revoked_at = ca_store_get_int(res, i, 9);
    r->revocation_reason = (int)ca_store_get_int(res, i, 10);
    r->key_generated = strcmp(PQgetvalue(res, i, 13), "t") == 0;
    r->self_signed = strcmp(PQgetvalue(res, i, 15), "t") == 0;
    CA_ENSURE(dup_text(res, i, 1, &r->serial) &&
                  dup_text(res, i, 2, &r->issuer) &&
                  dup_text(res, i, 3, &r->profile) &&
                  dup_text(res, i, 4, &r->subject) &&
                  dup_text(res, i, 5, &r->common_name) &&
                  dup_text(res, i, 8, &r->status) &&
                  dup_text(res, i, 12, &r->requester) &&
                  dup_text(res, i, 14, &r->cluster),
              CA_ERR_NO_MEMORY, "out of memory");
    CA_GUARD(ca_store_get_bytea(res, i, 11, &r->der, &r->der_len));
  }
  PQclear(res);
  ca_store_release(store, slot);
  *out = rows;
  *out_n = n;
  *out_more = count > limit;
  return 1;
err:
  PQclear(res);
  ca_cert_rows_free(rows, n);
  if (conn != NULL) {
    ca_store_release(store, slot);
  }
  return 0;
}

int ca_store_bulk_audit(ca_store *store, const char *actor, const char *action,
                        const char *object, const char *source,
                        const char *detail) {
  ca_store_tx *tx = NULL;
  CA_GUARD(ca_store_begin(store, &tx));
  CA_GUARD(ca_store_tx_audit(tx, actor, action, object, source, "ok", detail));
  CA_GUARD(ca_store_commit(&tx));
  return 1;
err:
  ca_store_rollback(tx);
  return 0;
}
