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
      "SELECT id, coalesce(issuer_id, 0), status = 'revoked',"
      " coalesce(extract(epoch FROM revoked_at)::bigint, 0),"
      " coalesce(revocation_reason, 0),"
      " extract(epoch FROM not_before)::bigint,"
      " extract(epoch FROM not_after)::bigint, der"
      " FROM certificates WHERE serial = $1"
      " AND issuer_id IS NOT DISTINCT FROM nullif($2::bigint, 0)"
      " ORDER BY id LIMIT 1 FOR UPDATE",
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
