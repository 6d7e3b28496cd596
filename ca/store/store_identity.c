// Registered identities in PostgreSQL (ca/store/store_identity.h).
#include "ca/store/store_identity.h"

#include <inttypes.h>
#include <openssl/mem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ca/limits.h"
#include "ca/store/store_internal.h"

// The parameters of a registration, in the order of kInsertSql's columns.
#define PUT_PARAMS 18

typedef struct put_params {
  const char *values[PUT_PARAMS];
  int lengths[PUT_PARAMS];
  int formats[PUT_PARAMS];
  char key_bits[16];
  char not_before[24];
  char not_after[24];
} put_params;

static void bind_binary(put_params *p, int i, const uint8_t *data, size_t len) {
  // An empty bytea is sent as a zero-length binary value, not SQL NULL.
  static const uint8_t kEmpty[1] = {0};
  p->values[i] = (const char *)(data != NULL ? data : kEmpty);
  p->lengths[i] = (int)len;
  p->formats[i] = 1;
}

static void bind_put(put_params *p, const ca_identity_put *put) {
  const ca_trust_cert *c = put->leaf;
  memset(p, 0, sizeof(*p));
  snprintf(p->key_bits, sizeof(p->key_bits), "%u", c->key_bits);
  snprintf(p->not_before, sizeof(p->not_before), "%" PRId64, c->not_before);
  snprintf(p->not_after, sizeof(p->not_after), "%" PRId64, c->not_after);
  p->values[0] = put->cluster;
  p->values[1] = put->node;
  p->values[2] = put->purpose;
  bind_binary(p, 3, c->fingerprint, CA_TRUST_FINGERPRINT_LEN);
  p->values[4] = c->subject;
  p->values[5] = c->issuer;
  p->values[6] = c->serial;
  p->values[7] = c->common_name;
  p->values[8] = c->key_type;
  p->values[9] = p->key_bits;
  p->values[10] = p->not_before;
  p->values[11] = p->not_after;
  bind_binary(p, 12, c->der, c->der_len);
  bind_binary(p, 13, put->chain, put->chain_len);
  p->values[14] = put->verified ? "true" : "false";
  p->values[15] = put->verify_detail;
  p->values[16] = put->description != NULL ? put->description : "";
  p->values[17] = put->added_by;
}

static const char kInsertSql[] =
    "INSERT INTO identities (cluster, node, purpose, fingerprint, subject,"
    " issuer, serial, common_name, key_type, key_bits, not_before, not_after,"
    " der, chain, verified, verify_detail, description, added_by) VALUES"
    " ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::integer,"
    " to_timestamp($11::bigint), to_timestamp($12::bigint), $13, $14,"
    " $15::boolean, $16, $17, $18)"
    " ON CONFLICT ON CONSTRAINT identities_node_purpose_key DO NOTHING"
    " RETURNING id";

int ca_store_tx_identity_insert(ca_store_tx *tx, const ca_identity_put *put,
                                int64_t *out_id) {
  put_params p;
  bind_put(&p, put);
  PGresult *res =
      ca_store_tx_query(tx, kInsertSql, PUT_PARAMS, p.values, p.lengths,
                        p.formats, PGRES_TUPLES_OK, "registering an identity");
  CA_GUARD_PTR_RETURN(res);
  const int inserted = PQntuples(res) == 1;
  *out_id = inserted ? ca_store_get_int(res, 0, 0) : 0;
  PQclear(res);
  CA_ENSURE_RETURN(inserted, CA_ERR_IDENTITY_EXISTS,
                   "%.253s already has a registered %s certificate%s%.64s: "
                   "replace it",
                   put->node, put->purpose, put->cluster[0] ? " in " : "",
                   put->cluster);
  return 1;
}

// $19 is the id. The cluster, node and purpose ($1-$3) are not written;
// they appear only because PostgreSQL cannot type a parameter a statement
// does not use.
static const char kReplaceSql[] =
    "UPDATE identities SET (fingerprint, subject, issuer, serial,"
    " common_name, key_type, key_bits, not_before, not_after, der, chain,"
    " verified, verify_detail, description, added_by, updated_at) = ($4, $5,"
    " $6, $7, $8, $9, $10::integer, to_timestamp($11::bigint),"
    " to_timestamp($12::bigint), $13, $14, $15::boolean, $16, $17, $18,"
    " now()) WHERE id = $19::bigint AND $1::text IS NOT NULL"
    " AND $2::text IS NOT NULL AND $3::text IS NOT NULL";

int ca_store_tx_identity_replace(ca_store_tx *tx, int64_t id,
                                 const ca_identity_put *put,
                                 uint8_t old_fp[CA_TRUST_FINGERPRINT_LEN]) {
  char id_text[24];
  snprintf(id_text, sizeof(id_text), "%" PRId64, id);
  const char *lock_values[1] = {id_text};
  PGresult *res = ca_store_tx_query(
      tx, "SELECT fingerprint FROM identities WHERE id = $1::bigint FOR UPDATE",
      1, lock_values, NULL, NULL, PGRES_TUPLES_OK, "locking an identity");
  CA_GUARD_PTR_RETURN(res);
  uint8_t *fp = NULL;
  size_t fp_len = 0;
  const int found = PQntuples(res) == 1;
  const int ok = !found || ca_store_get_bytea(res, 0, 0, &fp, &fp_len);
  PQclear(res);
  CA_ENSURE_RETURN(found, CA_ERR_NOT_FOUND, "no identity %" PRId64, id);
  if (!ok || fp_len != CA_TRUST_FINGERPRINT_LEN) {
    OPENSSL_free(fp);
    CA_SET_ERROR(CA_ERR_STORAGE_UNAVAILABLE, "bad fingerprint in identities");
    return 0;
  }
  memcpy(old_fp, fp, CA_TRUST_FINGERPRINT_LEN);
  OPENSSL_free(fp);
  put_params p;
  bind_put(&p, put);
  const char *values[PUT_PARAMS + 1];
  int lengths[PUT_PARAMS + 1], formats[PUT_PARAMS + 1];
  memcpy(values, p.values, sizeof(p.values));
  memcpy(lengths, p.lengths, sizeof(p.lengths));
  memcpy(formats, p.formats, sizeof(p.formats));
  values[PUT_PARAMS] = id_text;
  lengths[PUT_PARAMS] = 0;
  formats[PUT_PARAMS] = 0;
  res = ca_store_tx_query(tx, kReplaceSql, PUT_PARAMS + 1, values, lengths,
                          formats, PGRES_COMMAND_OK, "replacing an identity");
  CA_GUARD_PTR_RETURN(res);
  PQclear(res);
  return 1;
}

int ca_store_tx_identity_delete(ca_store_tx *tx, int64_t id, int *out_found) {
  char id_text[24];
  snprintf(id_text, sizeof(id_text), "%" PRId64, id);
  const char *values[1] = {id_text};
  PGresult *res = ca_store_tx_query(
      tx, "DELETE FROM identities WHERE id = $1::bigint RETURNING id", 1,
      values, NULL, NULL, PGRES_TUPLES_OK, "removing an identity");
  CA_GUARD_PTR_RETURN(res);
  *out_found = PQntuples(res) > 0;
  PQclear(res);
  return 1;
}

void ca_identity_rows_free(ca_identity_row *rows, size_t n) {
  if (rows == NULL) {
    return;
  }
  for (size_t i = 0; i < n; i++) {
    ca_identity_row *r = &rows[i];
    OPENSSL_free(r->cluster);
    OPENSSL_free(r->node);
    OPENSSL_free(r->purpose);
    OPENSSL_free(r->subject);
    OPENSSL_free(r->issuer);
    OPENSSL_free(r->serial);
    OPENSSL_free(r->common_name);
    OPENSSL_free(r->key_type);
    OPENSSL_free(r->verify_detail);
    OPENSSL_free(r->description);
    OPENSSL_free(r->added_by);
    OPENSSL_free(r->der);
    OPENSSL_free(r->chain);
  }
  free(rows);
}

// Every column of an identity; the DER and chain only when $5 asks.
static const char kListSql[] =
    "SELECT id, cluster, node, purpose, fingerprint, subject, issuer, serial,"
    " common_name, key_type, key_bits,"
    " extract(epoch FROM not_before)::bigint,"
    " extract(epoch FROM not_after)::bigint, verified, verify_detail,"
    " description, added_by, extract(epoch FROM created_at)::bigint,"
    " extract(epoch FROM updated_at)::bigint,"
    " CASE WHEN $5::boolean THEN der END,"
    " CASE WHEN $5::boolean THEN chain END"
    " FROM identities WHERE ($1::bigint IS NULL OR id = $1::bigint)"
    " AND ($2::text IS NULL OR cluster = $2)"
    " AND ($3::text IS NULL OR node = lower($3))"
    " AND ($4::text IS NULL OR purpose = $4)"
    " ORDER BY cluster, node, purpose LIMIT $6::integer";

static int decode_identity(PGresult *res, int i, void *elem, const void *arg) {
  const ca_identity_filter *f = arg;
  ca_identity_row *r = elem;
  r->id = ca_store_get_int(res, i, 0);
  r->key_bits = (unsigned)ca_store_get_int(res, i, 10);
  r->not_before = ca_store_get_int(res, i, 11);
  r->not_after = ca_store_get_int(res, i, 12);
  r->verified = ca_store_get_bool(res, i, 13);
  r->created_at = ca_store_get_int(res, i, 17);
  r->updated_at = ca_store_get_int(res, i, 18);
  CA_ENSURE_RETURN(ca_store_get_text(res, i, 1, &r->cluster) &&
                       ca_store_get_text(res, i, 2, &r->node) &&
                       ca_store_get_text(res, i, 3, &r->purpose) &&
                       ca_store_get_text(res, i, 5, &r->subject) &&
                       ca_store_get_text(res, i, 6, &r->issuer) &&
                       ca_store_get_text(res, i, 7, &r->serial) &&
                       ca_store_get_text(res, i, 8, &r->common_name) &&
                       ca_store_get_text(res, i, 9, &r->key_type) &&
                       ca_store_get_text(res, i, 14, &r->verify_detail) &&
                       ca_store_get_text(res, i, 15, &r->description) &&
                       ca_store_get_text(res, i, 16, &r->added_by),
                   CA_ERR_NO_MEMORY, "out of memory");
  uint8_t *fp = NULL;
  size_t fp_len = 0;
  CA_GUARD_RETURN(ca_store_get_bytea(res, i, 4, &fp, &fp_len));
  const int fp_ok = fp_len == CA_TRUST_FINGERPRINT_LEN;
  if (fp_ok) {
    memcpy(r->fingerprint, fp, CA_TRUST_FINGERPRINT_LEN);
  }
  OPENSSL_free(fp);
  CA_ENSURE_RETURN(fp_ok, CA_ERR_STORAGE_UNAVAILABLE,
                   "bad fingerprint in identities");
  if (!f->with_der) {
    return 1;
  }
  CA_GUARD_RETURN(ca_store_get_bytea(res, i, 19, &r->der, &r->der_len));
  return ca_store_get_bytea(res, i, 20, &r->chain, &r->chain_len);
}

static void free_identity_rows(void *rows, size_t n) {
  ca_identity_rows_free(rows, n);
}

static const ca_store_row_type kIdentityRows = {
    sizeof(ca_identity_row), decode_identity, free_identity_rows};

int ca_store_list_identities(ca_store *store, const ca_identity_filter *f,
                             ca_identity_row **out, size_t *out_n) {
  char id[24], limit[16];
  snprintf(id, sizeof(id), "%" PRId64, f->id);
  snprintf(limit, sizeof(limit), "%d", CA_LIMIT_IDENTITY_LIST);
  const char *values[6] = {
      f->id != 0 ? id : NULL,         f->cluster, f->node, f->purpose,
      f->with_der ? "true" : "false", limit};
  const ca_store_stmt stmt = {.sql = kListSql,
                              .n_params = 6,
                              .values = values,
                              .what = "listing identities"};
  ca_store_rows rows;
  CA_GUARD_RETURN(
      ca_store_read_rows(store, &stmt, &kIdentityRows, f, 0, &rows));
  *out = rows.rows;
  *out_n = rows.n;
  return 1;
}

// --- Bulk export ---

// The current registered identities of a cluster, unless pki issued the
// node a later certificate of the purpose; the columns of a bulk export's
// rows (store_bulk.c), the node in place of the common name.
static const char kExportSql[] =
    "SELECT x.id, x.serial, x.issuer, x.purpose, x.subject, x.node,"
    " extract(epoch FROM x.not_before)::bigint,"
    " extract(epoch FROM x.not_after)::bigint, 'good', 0, 0, x.der"
    " FROM identities x WHERE x.cluster = $1 AND x.purpose = ANY ($2::text[])"
    " AND x.not_after > to_timestamp($3::bigint)"
    " AND NOT EXISTS (SELECT 1 FROM certificates c WHERE c.cluster = $1"
    " AND lower(c.common_name) = x.node AND c.profile = x.purpose"
    " AND c.not_after > to_timestamp($3::bigint)"
    " AND c.not_before > x.not_before)"
    " ORDER BY x.node, x.purpose LIMIT $4::integer";

static int decode_exported(PGresult *res, int i, void *elem, const void *arg) {
  (void)arg;
  ca_cert_row *r = elem;
  r->external = 1;
  r->id = ca_store_get_int(res, i, 0);
  r->not_before = ca_store_get_int(res, i, 6);
  r->not_after = ca_store_get_int(res, i, 7);
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

static int same_slot(const ca_cert_row *a, const ca_cert_row *b) {
  return strcasecmp(a->common_name, b->common_name) == 0 &&
         strcmp(a->profile, b->profile) == 0;
}

// by_node_purpose orders rows as the export's query does.
static int by_node_purpose(const void *pa, const void *pb) {
  const ca_cert_row *a = pa, *b = pb;
  const int c = strcasecmp(a->common_name, b->common_name);
  return c != 0 ? c : strcmp(a->profile, b->profile);
}

int ca_store_identity_export_merge(ca_store *store, const char *cluster,
                                   const char *purposes_array,
                                   const char *now_text, ca_cert_row **rows,
                                   size_t *n) {
  char limit[16];
  snprintf(limit, sizeof(limit), "%d", CA_LIMIT_BUNDLE_ENTRIES + 1);
  const char *values[4] = {cluster, purposes_array, now_text, limit};
  const ca_store_stmt stmt = {.sql = kExportSql,
                              .n_params = 4,
                              .values = values,
                              .what = "reading the identities to export"};
  ca_store_rows ext;
  CA_GUARD_RETURN(
      ca_store_read_rows(store, &stmt, &kExportedRows, NULL, 0, &ext));
  ca_cert_row *x = ext.rows;
  if (ext.n == 0) {
    ca_cert_rows_free(x, 0);
    return 1;
  }
  ca_cert_row *merged = calloc(*n + ext.n, sizeof(*merged));
  ca_cert_row *dropped = calloc(*n + 1, sizeof(*dropped));
  if (merged == NULL || dropped == NULL) {
    free(merged);
    free(dropped);
    ca_cert_rows_free(x, ext.n);
    CA_SET_ERROR(CA_ERR_NO_MEMORY, "out of memory");
    return 0;
  }
  // pki's rows that a registered identity supersedes are dropped.
  size_t m = 0, n_dropped = 0;
  for (size_t i = 0; i < *n; i++) {
    int superseded = 0;
    for (size_t k = 0; k < ext.n && !superseded; k++) {
      superseded = same_slot(&(*rows)[i], &x[k]);
    }
    if (superseded) {
      dropped[n_dropped++] = (*rows)[i];
    } else {
      merged[m++] = (*rows)[i];
    }
  }
  for (size_t k = 0; k < ext.n; k++) {
    merged[m++] = x[k];
  }
  ca_cert_rows_free(dropped, n_dropped);
  free(x);
  free(*rows);
  qsort(merged, m, sizeof(*merged), by_node_purpose);
  *rows = merged;
  *n = m;
  CA_ENSURE_RETURN(m <= CA_LIMIT_BUNDLE_ENTRIES, CA_ERR_OBJECT_TOO_LARGE,
                   "cluster %s has more than %d certificates to export",
                   cluster, CA_LIMIT_BUNDLE_ENTRIES);
  return 1;
}
