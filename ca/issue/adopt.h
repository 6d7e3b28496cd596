// Adopting the CAs of another pki instance (a restore or a migration): the
// new instance starts on an empty database with the old CA keys copied into
// its data directory and the old CA certificates in a PEM file (pkid
// --adopt-cas), and records those CAs instead of making new ones, so that
// the certificates the old instance issued (bulk import --issued) hang
// under the same CAs and its relying parties see no change.
#ifndef PKI_CA_ADOPT_H
#define PKI_CA_ADOPT_H

#include <stddef.h>
#include <stdint.h>

#include "ca/error.h"
#include "ca/store/store.h"

// ca_adopt_records reads the CA certificates of the PEM text |pem| (blocks
// labelled CERTIFICATE, at most CA_LIMIT_ADOPT_CAS) and matches each with
// a key file of |data_dir|/keys: rsa-root.key, rsa-issuing.key,
// ec-root.key, ec-issuing.key, the four CAs every pki has (their names are
// the key files' names). Every one of the four keys must be there and
// belong to exactly one certificate, and every certificate to a key; a
// root must be self-signed (its own key verifies it) and an issuing CA
// signed by the root of its family (rsa, ec). On success |*out| holds
// |*out_n| records, parents first, as ca_issuer_generator returns them
// (the caller frees them with ca_issuer_rows_free). It returns 0 with
// CA_ERR_CONFIG naming what is missing or does not match, CA_ERR_KEY_FILE
// for a key file that cannot be read or that group or others may access,
// CA_ERR_PEM_MALFORMED or CA_ERR_CERT_MALFORMED for a bad certificate.
// The key files are read with |passphrase| (ca/x509/key.h; NULL for none).
int ca_adopt_records(const char *data_dir, const uint8_t *pem, size_t pem_len,
                     const char *passphrase, ca_issuer_row **out,
                     size_t *out_n) CA_MUST_CHECK;

// ca_adopt_read_file reads the PEM file |path| of at most
// CA_LIMIT_ADOPT_FILE_BYTES into |*out| (OPENSSL_free). It returns 0 with
// CA_ERR_CONFIG.
int ca_adopt_read_file(const char *path, uint8_t **out,
                       size_t *out_len) CA_MUST_CHECK;

#endif  // PKI_CA_ADOPT_H
