// The certificate of the API listener that pki issues to itself: a tomcat
// profile certificate (serverAuth) from the RSA issuing CA, whose names are
// localhost, 127.0.0.1 and the host name, recorded like every issuance.
//
// Files, in DATA_DIR/tls (0700): api-SERIAL.key (0600, encrypted with the
// key passphrase when there is one), api-SERIAL.pem (the certificate, the
// issuing CA and the root), ca.pem (the root, for clients: curl --cacert)
// and current (which of them is served, with its expiry and names). A
// certificate is renewed when less than a third of its validity is left
// or the names changed.
#ifndef PKI_API_TLS_IDENTITY_H
#define PKI_API_TLS_IDENTITY_H

#include <stddef.h>
#include <stdint.h>

#include "ca/error.h"
#include "ca/issue/engine.h"

#define API_TLS_MAX_NAMES 8

typedef struct api_tls_identity_config {
  const char *data_dir;
  const char *node;                      // who asks, in the records
  const char *organization;              // O= of the subject
  unsigned days;                         // validity of a new certificate
  const char *passphrase;                // key passphrase; NULL for none
  const char *names[API_TLS_MAX_NAMES];  // the SANs; the first is the CN
  size_t n_names;
} api_tls_identity_config;

// api_tls_identity_ensure serves (api_tls_set) the certificate of
// DATA_DIR/tls when it is fresh and has the configured names, and
// otherwise issues a new one through |engine|, writes it and serves it;
// old files are removed once the new ones are in place. |*issued| says
// whether a certificate was made. It returns 0 with the engine's, the
// store's or CA_ERR_KEY_FILE's errors, and the identity served before (if
// any) stays.
int api_tls_identity_ensure(ca_engine *engine,
                            const api_tls_identity_config *config,
                            int *issued) CA_MUST_CHECK;

// api_tls_identity_load_files serves (api_tls_set) the PEM chain of
// |pem_path| with the key of |key_path| (read like a CA key: PKCS#8, mode
// 0600 or stricter, encrypted with |passphrase| or not): pkid --tls-cert
// and --tls-key. It returns 0 with CA_ERR_NOT_FOUND, CA_ERR_KEY_FILE or
// CA_ERR_CONFIG.
int api_tls_identity_load_files(const char *pem_path, const char *key_path,
                                const char *passphrase) CA_MUST_CHECK;

#endif  // PKI_API_TLS_IDENTITY_H
