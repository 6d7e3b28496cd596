// Reading rows (ca/store/store_internal.h): the loop every read of the
// store shares, and the column decoders its decode functions use.
#include <openssl/mem.h>
#include <stdlib.h>

#include "ca/store/store_internal.h"

int ca_store_get_bool(PGresult *res, int row, int col) {
  return PQgetvalue(res, row, col)[0] == 't';
}

int ca_store_get_text(PGresult *res, int row, int col, char **out) {
  // PQgetvalue returns "" for SQL NULL.
  *out = OPENSSL_strdup(PQgetvalue(res, row, col));
  return *out != NULL;
}

int ca_store_get_text_or_null(PGresult *res, int row, int col, char **out) {
  *out = NULL;
  if (PQgetisnull(res, row, col)) {
    return 1;
  }
  return ca_store_get_text(res, row, col, out);
}

// The connection is back in the pool before the result is read.
PGresult *ca_store_query_stmt(ca_store *store, const ca_store_stmt *stmt,
                              ExecStatusType want) {
  size_t slot;
  PGconn *conn;
  if (!ca_store_acquire(store, &slot, &conn)) {
    return NULL;
  }
  PGresult *res = ca_store_check_result(
      conn,
      PQexecParams(conn, stmt->sql, stmt->n_params, NULL, stmt->values,
                   stmt->lengths, stmt->formats, 0),
      want, stmt->what);
  ca_store_release(store, slot);
  return res;
}

PGresult *ca_store_query(ca_store *store, const char *sql, int n,
                         const char *const *values, ExecStatusType want,
                         const char *what) {
  const ca_store_stmt stmt = {
      .sql = sql, .n_params = n, .values = values, .what = what};
  return ca_store_query_stmt(store, &stmt, want);
}

static void free_rows(const ca_store_row_type *type, void *rows, size_t n) {
  if (type->free_rows != NULL) {
    type->free_rows(rows, n);
  } else {
    free(rows);
  }
}

int ca_store_decode_rows(PGresult *res, const ca_store_row_type *type,
                         const void *arg, size_t max_rows, ca_store_rows *out) {
  int ret = 0;
  const size_t count = (size_t)PQntuples(res);
  const size_t take = max_rows != 0 && count > max_rows ? max_rows : count;
  size_t n = 0;
  // One element more than needed, so that an empty read is not NULL.
  uint8_t *rows = calloc(take + 1, type->size);
  CA_ENSURE_ALLOC(rows);
  for (size_t i = 0; i < take; i++) {
    // Counted before it is decoded: a half-decoded row is freed too.
    n++;
    CA_GUARD(type->decode(res, (int)i, rows + i * type->size, arg));
  }
  out->rows = rows;
  out->n = n;
  out->more = count > take;
  rows = NULL;
  ret = 1;
err:
  if (rows != NULL) {
    free_rows(type, rows, n);
  }
  return ret;
}

int ca_store_read_rows(ca_store *store, const ca_store_stmt *stmt,
                       const ca_store_row_type *type, const void *arg,
                       size_t max_rows, ca_store_rows *out) {
  PGresult *res = ca_store_query_stmt(store, stmt, PGRES_TUPLES_OK);
  if (res == NULL) {
    return 0;
  }
  const int ok = ca_store_decode_rows(res, type, arg, max_rows, out);
  PQclear(res);
  return ok;
}

int ca_store_read_one(ca_store *store, const ca_store_stmt *stmt,
                      ca_store_decode_fn decode, void *out, const void *arg,
                      int *out_found) {
  *out_found = 0;
  PGresult *res = ca_store_query_stmt(store, stmt, PGRES_TUPLES_OK);
  if (res == NULL) {
    return 0;
  }
  const int found = PQntuples(res) > 0;
  const int ok = !found || decode == NULL || decode(res, 0, out, arg);
  PQclear(res);
  *out_found = found && ok;
  return ok;
}
