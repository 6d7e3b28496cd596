// The self-signed half of ca/store/store.h: what :regenerate reads of a
// certificate.
#include <openssl/mem.h>
#include <stdlib.h>
#include <string.h>

#include "ca/store/store.h"
#include "ca/store/store_internal.h"

void ca_self_signed_row_cleanup(ca_self_signed_row *row) {
  OPENSSL_free(row->profile);
  OPENSSL_free(row->key_type);
  OPENSSL_free(row->cluster);
  OPENSSL_free(row->der);
  OPENSSL_free(row->replaced_by);
  memset(row, 0, sizeof(*row));
}

int ca_store_tx_lock_for_regenerate(ca_store_tx *tx, const char *serial,
                                    ca_self_signed_row *out, int *out_found) {
  PGresult *res = NULL;
  ca_self_signed_row row;
  memset(&row, 0, sizeof(row));
  *out_found = 0;
  const char *values[1] = {serial};
  // The self-signed row first: a CA may have drawn the same serial, and
  // only a self-signed certificate can be regenerated.
  res = ca_store_tx_query(tx,
                          "SELECT c.id, c.self_signed, c.profile, c.key_type,"
                          " c.key_bits, c.cluster,"
                          " extract(epoch FROM c.not_before)::bigint,"
                          " extract(epoch FROM c.not_after)::bigint, c.der,"
                          " (SELECT r.serial FROM certificates r"
                          "   WHERE r.replaces_id = c.id)"
                          " FROM certificates c WHERE c.serial = $1"
                          " ORDER BY c.self_signed DESC, c.id LIMIT 1"
                          " FOR UPDATE OF c",
                          1, values, NULL, NULL, PGRES_TUPLES_OK,
                          "finding a certificate to regenerate");
  CA_GUARD_PTR(res);
  if (PQntuples(res) == 0) {
    PQclear(res);
    return 1;
  }
  row.id = ca_store_get_int(res, 0, 0);
  row.self_signed = ca_store_get_bool(res, 0, 1);
  row.key_bits = (unsigned)ca_store_get_int(res, 0, 4);
  row.not_before = ca_store_get_int(res, 0, 6);
  row.not_after = ca_store_get_int(res, 0, 7);
  CA_ENSURE(ca_store_get_text_or_null(res, 0, 2, &row.profile) &&
                ca_store_get_text_or_null(res, 0, 3, &row.key_type) &&
                ca_store_get_text_or_null(res, 0, 5, &row.cluster) &&
                ca_store_get_text_or_null(res, 0, 9, &row.replaced_by),
            CA_ERR_NO_MEMORY, "out of memory");
  CA_GUARD(ca_store_get_bytea(res, 0, 8, &row.der, &row.der_len));
  PQclear(res);
  *out = row;
  *out_found = 1;
  return 1;
err:
  PQclear(res);
  ca_self_signed_row_cleanup(&row);
  return 0;
}
