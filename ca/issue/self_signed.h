// Self-signed identities: a key pair and a certificate that is its own
// issuer, as a Cisco node makes for each purpose (tomcat, CallManager,
// ipsec, CAPF, ...) at install time, and their regeneration.
//
// The profile rules are those of a leaf (ca/issue/issue.h: key, subject, SANs;
// the profile decides KU and EKU) with three differences: the certificate
// carries keyCertSign and CA:TRUE, pathLenConstraint 0 (it is a trust
// anchor of its own: see ca/issue/issue.c), it is valid 5, 10 or 20 calendar
// years (ITLRecovery also 15), and an RSA profile also accepts RSA-1024 keys
// (labs with legacy phones). No pki CA signs it, so no CRL or OCSP answer ever
// covers it; its row has no issuer (migration 0005).
//
// Keys come from the key-generation pool when it has one ready (RSA-2048,
// 3072, 4096, P-256, P-384); others, RSA-1024 included, are generated on
// demand. Every function here may take as long as an RSA key generation:
// call them off the HTTP threads.
#ifndef PKI_CA_SELF_SIGNED_H
#define PKI_CA_SELF_SIGNED_H

#include <stddef.h>
#include <stdint.h>

#include "ca/error.h"
#include "ca/issue/authority.h"
#include "ca/issue/issue.h"
#include "ca/issue/keypool.h"
#include "ca/store/store.h"
#include "ca/x509/name.h"

// The validity of an identity whose request does not say.
#define CA_SELF_SIGNED_DEFAULT_YEARS 5

typedef struct ca_self_signed_request {
  const char *profile;
  const ca_name_fields *subject;
  const char *const *sans;  // "DNS:..", "IP:.." or bare; none: the CN
  size_t san_count;
  const char *key_type;     // "RSA-1024".."RSA-4096", "EC-P256", "EC-P384";
                            // NULL or "": RSA-2048 or EC-P256 by profile
  uint32_t validity_years;  // 5, 10 or 20 (15: ITLRecovery too);
                            // 0: CA_SELF_SIGNED_DEFAULT_YEARS
  const char *cluster;      // recorded with it; NULL or "": none
} ca_self_signed_request;

// ca_self_signed_make makes a key and the self-signed certificate
// |request| describes, valid from |now|, into |out| (which it initialises;
// |out->issuer| is NULL, |out->private_key| the PKCS#8 DER key). Nothing is
// stored. It returns 0 with |out->err| and the thread's error set:
// CA_ERR_VALIDITY_UNSUPPORTED, CA_ERR_PARAMETER_INVALID (key type), the key
// errors of ca_profile_check_key, or the subject and SAN errors of a leaf.
int ca_self_signed_make(const ca_authority *authority, ca_keypool *pool,
                        const ca_self_signed_request *request, int64_t now,
                        ca_issued *out) CA_MUST_CHECK;

// ca_self_signed_create makes an identity like ca_self_signed_make and
// records it in |store| (no issuer, self_signed, key_generated, |requester|,
// the cluster) with one audit row ("self-signed") in one transaction. It
// returns 1 only once that transaction committed: nothing is handed out
// before (ARCHITECTURE.md invariant 1). On 0 |out| holds only the error
// (CA_ERR_STORAGE_UNAVAILABLE besides those of ca_self_signed_make).
int ca_self_signed_create(const ca_authority *authority, ca_store *store,
                          ca_keypool *pool,
                          const ca_self_signed_request *request,
                          const char *requester, const char *source,
                          ca_issued *out) CA_MUST_CHECK;

// ca_self_signed_regenerate replaces the self-signed certificate |serial|
// (hex) by a new key of |key_type| (as in ca_self_signed_request; NULL or
// "": the type and length of the old key) and a new certificate with
// its profile, subject, SANs and cluster, valid |validity_years| (0: as long
// as the old one), and records that it replaced the old one (replaces_id,
// and an audit row "regenerate" naming the old serial). The old certificate
// stays as it was. It returns 0 with CA_ERR_NOT_FOUND, CA_ERR_NOT_SELF_SIGNED
// (a pki CA issued it: re-issue it instead), CA_ERR_CONFLICT (it was already
// replaced: the message names the replacement; regenerate that one), or the
// errors of ca_self_signed_create. |out_replaced| receives the old serial in
// canonical form.
int ca_self_signed_regenerate(
    const ca_authority *authority, ca_store *store, ca_keypool *pool,
    const char *serial, uint32_t validity_years, const char *key_type,
    const char *requester, const char *source, ca_issued *out,
    char out_replaced[CA_SERIAL_HEX_LEN]) CA_MUST_CHECK;

#endif  // PKI_CA_SELF_SIGNED_H
