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
#include "ca/store/store_identity.h"
#include "ca/store/store_internal.h"

// The current certificate of each node and purpose: DISTINCT ON keeps the
// first row of each (node, purpose) in the ORDER BY, the latest notBefore
// (then the latest issued). Nodes compare without regard to case, as host
// names do. One row more than the limit tells that there are too many.
static const char kExportSql[] =
    "SELECT * FROM (SELECT DISTINCT ON (lower(c.common_name), c.profile)"
    " c.id, c.serial, coalesce(i.name, ''), c.profile, c.subject,"
    " c.common_name, extract(epoch FROM c.not_before)::bigint,"
    " extract(epoch FROM c.not_after)::bigint, " CA_STORE_STATUS ","
    " coalesce(extract(epoch FROM rv.revoked_at)::bigint, 0),"
    " coalesce(rv.reason, 0), c.der"
    " FROM certificates c LEFT JOIN issuers i ON i.id = c.issuer_id"
    CA_STORE_JOIN_REVOCATION("c") " WHERE c.cluster = $1 AND c.profile = ANY ($2::text[])"
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

// decode_exported reads the twelve columns both statements start with.
static int decode_exported(PGresult *res, int i, void *elem, const void *arg) {
  (void)arg;
  ca_cert_row *r = elem;
  r->id = ca_store_get_int(res, i, 0);
  r->not_before = ca_store_get_int(res, i, 6);
  r->not_after = ca_store_get_int(res, i, 7);
  r->revoked_at = ca_store_get_int(res, i, 9);
  r->revocation_reason = (int)ca_store_get_int(res, i, 10);
  CA_ENSURE_RETURN(ca_store_get_text(res, i, 1, &r->serial) &&
                       ca_store_get_text(res, i, 2, &r->issuer) &&
                       ca_store_get_text(res, i, 3, &r->profile) &&
                       ca_store_get_text(res, i, 4, &r->subject) &&
                       ca_store_get_text(res, i, 5, &r->common_name) &&
                       ca_store_get_text(res, i, 8, &r->status),
                   CA_ERR_NO_MEMORY, "out of memory");
  return ca_store_get_bytea(res, i, 11, &r->der, &r->der_len);
}

static void free_cert_rows(void *rows, size_t n) {
  ca_cert_rows_free(rows, n);
}

static const ca_store_row_type kExportedRows = {
    sizeof(ca_cert_row), decode_exported, free_cert_rows};

int ca_store_bulk_export_rows(ca_store *store, const char *cluster,
                              const char *const *purposes, size_t n_purposes,
                              int64_t now, ca_cert_row **out, size_t *out_n) {
  int ret = 0;
  PGresult *res = NULL;
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
  const ca_store_stmt stmt = {.sql = kExportSql,
                              .n_params = 4,
                              .values = values,
                              .what = "reading the certificates to export"};
  // Not ca_store_read_rows: too many rows are refused before any is
  // decoded.
  res = ca_store_query_stmt(store, &stmt, PGRES_TUPLES_OK);
  CA_GUARD_PTR(res);
  CA_ENSURE(PQntuples(res) <= CA_LIMIT_BUNDLE_ENTRIES, CA_ERR_OBJECT_TOO_LARGE,
            "cluster %s has more than %d certificates to export", cluster,
            CA_LIMIT_BUNDLE_ENTRIES);
  ca_store_rows rows;
  CA_GUARD(ca_store_decode_rows(res, &kExportedRows, NULL, 0, &rows));
  // Registered identities go too, as the node's certificate of the purpose
  // when newer than pki's (ca/store/store_identity.h).
  ca_cert_row *found = rows.rows;
  size_t n_found = rows.n;
  if (!ca_store_identity_export_merge(store, cluster, array, when, &found,
                                      &n_found)) {
    ca_cert_rows_free(found, n_found);
    goto err;
  }
  *out = found;
  *out_n = n_found;
  ret = 1;
err:
  PQclear(res);
  return ret;
}

// Every certificate pki issued or self-signed, in id order from the page's
// cursor: the id is the insertion order, so a page never misses or repeats
// a row even while new certificates are issued (they come later). One row
// more than the page tells that another page follows.
static const char kIssuedSql[] =
    "SELECT c.id, c.serial, coalesce(i.name, ''), c.profile, c.subject,"
    " c.common_name, extract(epoch FROM c.not_before)::bigint,"
    " extract(epoch FROM c.not_after)::bigint, " CA_STORE_STATUS
    ","
    " coalesce(extract(epoch FROM rv.revoked_at)::bigint, 0),"
    " coalesce(rv.reason, 0), c.der, c.requester,"
    " c.key_generated, coalesce(c.cluster, ''), c.issuer_id IS NULL"
    " FROM certificates c LEFT JOIN issuers i ON i.id = "
    "c.issuer_id" CA_STORE_JOIN_REVOCATION(
        "c") " WHERE c.id > $1::bigint ORDER BY c.id LIMIT $2::bigint";

static int decode_issued(PGresult *res, int i, void *elem, const void *arg) {
  ca_cert_row *r = elem;
  CA_GUARD_RETURN(decode_exported(res, i, elem, arg));
  r->key_generated = ca_store_get_bool(res, i, 13);
  r->self_signed = ca_store_get_bool(res, i, 15);
  CA_ENSURE_RETURN(ca_store_get_text(res, i, 12, &r->requester) &&
                       ca_store_get_text(res, i, 14, &r->cluster),
                   CA_ERR_NO_MEMORY, "out of memory");
  return 1;
}

static const ca_store_row_type kIssuedRows = {sizeof(ca_cert_row),
                                              decode_issued, free_cert_rows};

int ca_store_bulk_issued_rows(ca_store *store, int64_t after, size_t limit,
                              ca_cert_row **out, size_t *out_n, int *out_more) {
  char after_text[24], limit_text[24];
  CA_ENSURE_RETURN(after >= 0, CA_ERR_PARAMETER_INVALID, "a negative cursor");
  CA_ENSURE_RETURN(limit >= 1 && limit <= CA_LIMIT_ISSUED_PAGE,
                   CA_ERR_PARAMETER_INVALID,
                   "a page holds 1 to %d certificates", CA_LIMIT_ISSUED_PAGE);
  snprintf(after_text, sizeof(after_text), "%" PRId64, after);
  snprintf(limit_text, sizeof(limit_text), "%zu", limit + 1);
  const char *values[2] = {after_text, limit_text};
  const ca_store_stmt stmt = {
      .sql = kIssuedSql,
      .n_params = 2,
      .values = values,
      .what = "reading the issued certificates to export"};
  ca_store_rows rows;
  CA_GUARD_RETURN(
      ca_store_read_rows(store, &stmt, &kIssuedRows, NULL, limit, &rows));
  *out = rows.rows;
  *out_n = rows.n;
  *out_more = rows.more;
  return 1;
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
