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

// What the API listener offers (a GnuTLS priority string):
// - TLS 1.3 and 1.2 only (RFC 8996 deprecates 1.0 and 1.1);
// - in TLS 1.2, only ECDHE key exchange, signed with the certificate's key
//   (RSA for the tomcat certificate pki issues itself, ECDSA for an EC
//   --tls-cert): with a static RSA key exchange (AES128-SHA,
//   AES256-GCM-SHA384) whoever later gets the key reads every recorded
//   session. Finite-field DHE is left out too: ECDHE gives the same
//   forward secrecy for less, and every client that has DHE has ECDHE;
// - only AEAD ciphers, AES-GCM and ChaCha20-Poly1305 (RFC 9325 4.2): no CBC
//   with SHA-1 or SHA-2 MACs (ECDHE-RSA-AES128-SHA and the like);
// - key exchange groups X25519 and the NIST curves: ECDHE in TLS 1.3 too.
// Every TLS 1.2 client of this decade and every TLS 1.3 client has one of
// these suites.
// clang-format off
#define API_TLS_PRIORITIES                                    \
  "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:"               \
  "-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:"                          \
  "-CIPHER-ALL:+AES-256-GCM:+AES-128-GCM:+CHACHA20-POLY1305:" \
  "-MAC-ALL:+AEAD:"                                           \
  "-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1:"                \
  "+GROUP-SECP384R1:+GROUP-SECP521R1"
// clang-format on

// api_tls_set serves |chain_pem| (the certificate, then its issuers) with
// |key_der| (its private key, PKCS#8 DER) from the next handshake on. Both
// are copied. It returns 0 with CA_ERR_CONFIG when GnuTLS cannot read them,
// and the identity served before stays.
int api_tls_set(const char *chain_pem, size_t chain_len, const char *key_der,
                size_t key_len) CA_MUST_CHECK;

// Session resumption: a client that reconnects presents the ticket of its
// earlier session (RFC 5077 in TLS 1.2, RFC 8446 4.6.1 in TLS 1.3) and skips
// the certificate exchange and its signature, the costly part of a
// handshake. Tickets are encrypted by a key that lives in pkid's memory
// only, so a restart ends every session; they are accepted for
// API_TLS_TICKET_SECONDS. A resumed session keeps the client certificate
// of the handshake it resumes, which api_authorize checks at every request
// as before (revoked certificates refused).
#define API_TLS_TICKET_SECONDS (2 * 60 * 60)

// api_tls_resumption_init makes the ticket key (once per process). It
// returns 0 with CA_ERR_CONFIG when GnuTLS cannot.
int api_tls_resumption_init(void) CA_MUST_CHECK;

// api_tls_enable_resumption lets the server session |session| (a
// gnutls_session_t, before its handshake) issue and accept session tickets.
int api_tls_enable_resumption(void *session) CA_MUST_CHECK;

// api_tls_ready returns 1 once an identity was set.
int api_tls_ready(void);

// api_tls_retrieve_function returns the GnuTLS certificate callback to give
// libmicrohttpd (a gnutls_certificate_retrieve_function2), as void * so that
// this header does not need GnuTLS's.
void *api_tls_retrieve_function(void);

// api_tls_shutdown frees every identity and wipes the ticket key; call it
// after the server stopped.
void api_tls_shutdown(void);

#endif  // PKI_API_TLS_H
