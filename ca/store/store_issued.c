// The store side of an --issued import (ca/exchange/issued_import.h).
#include <inttypes.h>
#include <openssl/mem.h>
#include <stdio.h>
#include <string.h>

#include "ca/store/store_internal.h"
#include "ca/store/store_issued.h"

int ca_store_tx_find_issued(ca_store_tx *tx, int64_t issuer_id,
                            const char *serial, int *out_found,
                            ca_cert_state *out, uint8_t **out_der,
                            size_t *out_der_len) {
  char issuer[24];
  snprintf(issuer, sizeof(issuer), "%" PRId64, issuer_id);
  const char *values[2] = {serial, issuer};
  // Self-signed rows have no issuer (migration 0005): 0 stands for NULL.
  PGresult *res = ca_store_tx_query(
      tx,
      "SELECT c.id, coalesce(c.issuer_id, 0), " CA_STORE_REVOKED
      ","
      " coalesce(extract(epoch FROM rv.revoked_at)::bigint, 0),"
      " coalesce(rv.reason, 0),"
      " extract(epoch FROM c.not_before)::bigint,"
      " extract(epoch FROM c.not_after)::bigint, c.der"
      " FROM " CA_STORE_STATE_FROM
      " WHERE c.serial = $1"
      " AND c.issuer_id IS NOT DISTINCT FROM nullif($2::bigint, 0)"
      " ORDER BY c.id LIMIT 1 FOR UPDATE OF c",
      2, values, NULL, NULL, PGRES_TUPLES_OK, "finding an issued certificate");
  if (res == NULL) {
    return 0;
  }
  *out_found = PQntuples(res) > 0;
  int ok = 1;
  if (*out_found) {
    ca_store_get_cert_state(res, 0, out);
    ok = ca_store_get_bytea(res, 0, 7, out_der, out_der_len);
  }
  PQclear(res);
  return ok;
}
