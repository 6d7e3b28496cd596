// TLS of the API listener: the certificate chain and key it presents,
// through GnuTLS (libmicrohttpd's TLS library).
//
// DESIGN: libmicrohttpd asks for the credentials at every handshake
// (MHD_OPTION_HTTPS_CERT_CALLBACK), so a renewed certificate is served from
// the next handshake on, without a restart. GnuTLS's callback carries no
// argument, so the identity served is process-wide: pkid has one API
// listener. Identities replaced are kept until api_tls_shutdown, because a
// handshake in progress may still hold the one it was given.
#ifndef PKI_API_TLS_H
#define PKI_API_TLS_H

#include <stddef.h>
#include <stdint.h>

#include "ca/error.h"

// The lowest protocol version: TLS 1.2 (RFC 8996 deprecates 1.0 and 1.1).
#define API_TLS_PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

// api_tls_set serves |chain_pem| (the certificate, then its issuers) with
// |key_der| (its private key, PKCS#8 DER) from the next handshake on. Both
// are copied. It returns 0 with CA_ERR_CONFIG when GnuTLS cannot read them,
// and the identity served before stays.
int api_tls_set(const char *chain_pem, size_t chain_len, const char *key_der,
                size_t key_len) CA_MUST_CHECK;

// api_tls_ready returns 1 once an identity was set.
int api_tls_ready(void);

// api_tls_retrieve_function returns the GnuTLS certificate callback to give
// libmicrohttpd (a gnutls_certificate_retrieve_function2), as void * so that
// this header does not need GnuTLS's.
void *api_tls_retrieve_function(void);

// api_tls_shutdown frees every identity; call it after the server stopped.
void api_tls_shutdown(void);

#endif  // PKI_API_TLS_H
