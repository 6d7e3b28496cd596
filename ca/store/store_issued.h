// The store side of an --issued import (ca/exchange/issued_import.h).
#ifndef PKI_CA_STORE_ISSUED_H
#define PKI_CA_STORE_ISSUED_H

#include <stddef.h>
#include <stdint.h>

#include "ca/error.h"
#include "ca/store/store.h"

// ca_store_tx_find_issued finds and locks the certificate |serial| of the
// CA |issuer_id| (0: a self-signed one). |*out_found| is 0 when there is
// none; else |out| holds its state and |*out_der| its DER (OPENSSL_free).
int ca_store_tx_find_issued(ca_store_tx *tx, int64_t issuer_id,
                            const char *serial, int *out_found,
                            ca_cert_state *out, uint8_t **out_der,
                            size_t *out_der_len) CA_MUST_CHECK;

#endif  // PKI_CA_STORE_ISSUED_H
