// Delegated OCSP responders (RFC 6960 4.2.2.2): a certificate the CA issues
// to a responder key, with id-kp-OCSPSigning and id-pkix-ocsp-nocheck, so
// that OCSP responses need not be signed by the CA key itself.
//
// Each node has its own responder key per CA, kept in its data directory
// (keys/ocsp-<ca>-<serial>.key, mode 0600) and never in the database; the
// certificate is recorded like any other (profile "ocsp-responder") and in
// the ocsp_responders table. A certificate is renewed when less than a third
// of its validity remains.
#ifndef PKI_CA_OCSP_DELEGATE_H
#define PKI_CA_OCSP_DELEGATE_H

#include <openssl/base.h>
#include <stdint.h>

#include "ca/error.h"
#include "ca/issue/authority.h"
#include "ca/store/store.h"

#define CA_OCSP_RESPONDER_PROFILE "ocsp-responder"

typedef struct ca_ocsp_delegate {
  EVP_PKEY *key;  // owned
  uint8_t *cert;  // owned (OPENSSL_malloc)
  size_t cert_len;
  int64_t not_after;
  int issued;  // made now rather than found
} ca_ocsp_delegate;

// ca_ocsp_delegate_ensure returns in |out| this node's responder for
// |issuer|: the newest one recorded for |node| whose key file is present in
// |data_dir| and that has more than a third of its |validity_days| left,
// or a new one issued now. It returns 0 with the store, key file or
// internal errors; the caller frees |out| with ca_ocsp_delegate_cleanup.
// Key files are read and a new one written with |passphrase| (ca/x509/key.h;
// NULL for unencrypted).
int ca_ocsp_delegate_ensure(const ca_authority *authority, ca_store *store,
                            const ca_issuer *issuer, const char *data_dir,
                            const char *node, int validity_days,
                            const char *passphrase,
                            ca_ocsp_delegate *out) CA_MUST_CHECK;

void ca_ocsp_delegate_cleanup(ca_ocsp_delegate *d);

#endif  // PKI_CA_OCSP_DELEGATE_H
