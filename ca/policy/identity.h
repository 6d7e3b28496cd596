// Identity certificates pki did not issue (README.md, "Registered
// identities"): a node's certificate for one purpose, signed by a public or
// corporate CA (or self-signed by the node), registered so that finds, the
// expiry monitor, /metrics and bulk exports cover it. This module reads
// and judges what is registered; ca/store/store_identity.h keeps it.
#ifndef PKI_CA_IDENTITY_H
#define PKI_CA_IDENTITY_H

#include <stddef.h>
#include <stdint.h>

#include "ca/error.h"
#include "ca/policy/trust.h"

// ca_identity_purpose_find returns the canonical spelling of |name|
// (without regard to case): tomcat, tomcat-ECDSA, CallManager,
// CallManager-ECDSA, CAPF, ipsec, TVS or ITLRecovery, the purposes of a
// Cisco UC node's identity certificates. Else NULL with
// CA_ERR_PARAMETER_INVALID.
const char *ca_identity_purpose_find(const char *name);

// ca_identity_node_check accepts a node name: 1 to 253 bytes of letters,
// digits, '.', '-' and '_' (a host name, FQDN or short), else 0 with
// CA_ERR_PARAMETER_INVALID.
int ca_identity_node_check(const char *node) CA_MUST_CHECK;

// ca_identity_cluster_check accepts a cluster name: empty, or up to
// CA_LIMIT_CLUSTER_LEN bytes of letters, digits, '.', '-' and '_', the
// names bulk exports use. Else 0 with CA_ERR_PARAMETER_INVALID.
int ca_identity_cluster_check(const char *cluster) CA_MUST_CHECK;

// What a registration carries: the leaf and the chain given with it.
// |certs| is owned (free with ca_identity_upload_cleanup).
typedef struct ca_identity_upload {
  ca_trust_cert *certs;
  size_t n;
  size_t leaf;  // index of the leaf in |certs|; the others are its chain
} ca_identity_upload;

// ca_identity_parse reads a registration's certificates (PEM, DER or
// PKCS#7, as ca_trust_parse_upload reads them; at most
// CA_LIMIT_IDENTITY_CERTS) and finds the leaf: the one certificate no other
// of the upload names as its issuer (a self-signed certificate alone is its
// own leaf). It returns 0 with the codes of ca_trust_parse_upload, or
// CA_ERR_OBJECT_TOO_LARGE, or CA_ERR_CERT_MALFORMED when no single leaf
// can be told (two unrelated certificates, or a loop of issuers).
int ca_identity_parse(ca_identity_upload *out, const uint8_t *in,
                      size_t in_len) CA_MUST_CHECK;

// ca_identity_upload_cleanup frees what |u| owns and zeroes it. Accepts
// NULL.
void ca_identity_upload_cleanup(ca_identity_upload *u);

// ca_identity_chain_der writes the chain (every certificate but the leaf,
// DER, one after the other, in upload order) into a new buffer the caller
// frees with OPENSSL_free; |*out| is NULL and |*out_len| 0 for no chain.
int ca_identity_chain_der(const ca_identity_upload *u, uint8_t **out,
                          size_t *out_len) CA_MUST_CHECK;

// What pki could tell of a registered certificate's chain.
typedef struct ca_identity_verdict {
  int verified;      // a chain to one of the anchors verifies at |now|
  char detail[192];  // "chains to SUBJECT" or why not, for people
} ca_identity_verdict;

// ca_identity_verify verifies the leaf of |u| at |now| up to one of the
// DER certificates |anchors| (pki's trust entries and its own CAs), with the
// chain of |u| as intermediates. An anchor may be an intermediate CA or the
// leaf itself (a self-signed certificate in a trust store), as CUCM trusts
// whatever its stores hold. An anchor that does not parse is ignored. A
// certificate that does not verify is not an error: |out| says why. It
// returns 0 with CA_ERR_NO_MEMORY only.
int ca_identity_verify(const ca_identity_upload *u,
                       const uint8_t *const *anchors, const size_t *anchor_lens,
                       size_t n_anchors, int64_t now,
                       ca_identity_verdict *out) CA_MUST_CHECK;

#endif  // PKI_CA_IDENTITY_H
