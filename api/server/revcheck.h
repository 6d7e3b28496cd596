// Revocation checking of trusted certificates in pkid: the libcurl fetcher
// given to ca/revocation/trust_check.h, the per-store upload policy, the
// background thread that checks entries again on schedule (one node at a
// time, under an advisory lock), and the /metrics gauge. README.md,
// "Revocation checking of trusted certificates", says what an operator sees.
#ifndef PKI_API_REVCHECK_H
#define PKI_API_REVCHECK_H

#include <openssl/bytestring.h>
#include <stddef.h>
#include <stdint.h>

#include "ca/error.h"
#include "ca/issue/authority.h"
#include "ca/policy/trust.h"
#include "ca/revocation/trust_check.h"
#include "ca/store/store.h"

// What an upload whose status is revoked, or not established, gets.
typedef enum api_revcheck_policy {
  // Common Criteria (the default): revoked, unknown and unreachable are all
  // refused (TRUST_CERT_REVOKED, REVOCATION_UNKNOWN, REVOCATION_UNREACHABLE).
  API_REVCHECK_REFUSE = 0,
  // Revoked is refused; unknown and unreachable are stored with a warning.
  API_REVCHECK_WARN_UNDETERMINED,
  // Everything is stored; revoked, unknown and unreachable with a warning.
  API_REVCHECK_WARN,
} api_revcheck_policy;

typedef struct api_revcheck_config {
  unsigned interval_s;  // --revcheck-interval; 0: no background checks
  unsigned timeout_s;   // --revcheck-timeout: one fetch
  unsigned skew_s;      // --revcheck-skew: clock skew allowed
  // Per store (index of ca_trust_store_names).
  api_revcheck_policy policy[CA_TRUST_STORE_COUNT];
  const char *responder[CA_TRUST_STORE_COUNT];  // --revcheck-responder
} api_revcheck_config;

// api_revcheck_config_init sets the defaults: every 12 hours, 10 s a fetch,
// 300 s of skew, the Common Criteria policy and the AIA's responder for
// every store.
void api_revcheck_config_init(api_revcheck_config *config);

// api_revcheck_config_flag reads |flag| |value| when it is one of the
// --revcheck-* flags: it returns 1 when read, 0 when |flag| is not one of
// them, -1 after printing why |value| is refused.
int api_revcheck_config_flag(api_revcheck_config *config, const char *flag,
                             const char *value);

// The --revcheck-* lines of pkid --help.
extern const char kApiRevcheckUsage[];

typedef struct api_revcheck api_revcheck;

// api_revcheck_new returns the checker of |store| (borrowed; |authority| is
// searched for issuers of entries the store does not hold), no thread yet;
// NULL when out of memory. Free with api_revcheck_free.
api_revcheck *api_revcheck_new(ca_store *store, const ca_authority *authority,
                               const api_revcheck_config *config);

// api_revcheck_start starts the background thread when the interval is not
// 0. It returns 0 with CA_ERR_INTERNAL.
int api_revcheck_start(api_revcheck *rc) CA_MUST_CHECK;

// api_revcheck_free stops the thread (after the check in progress) and
// frees |rc|. Accepts NULL.
void api_revcheck_free(api_revcheck *rc);

// api_revcheck_check checks |cert| for |trust_store| now, its issuer looked
// for among |batch| (the other certificates of an upload; may be NULL),
// then in the store, then among pki's CAs. It fills |out| whatever the
// status; nothing is recorded.
void api_revcheck_check(api_revcheck *rc, const char *trust_store,
                        const ca_trust_cert *cert, const ca_trust_cert *batch,
                        size_t batch_n, ca_revcheck_result *out);

// api_revcheck_check_identity checks the certificate |der| of a registered
// identity of |purpose| now, at its own AIA (no store's responder), its
// issuer looked for in |chain| (the DER certificates uploaded with it, back
// to back; may be NULL), then in the trust stores of |purpose|, then among
// pki's CAs. It fills |out| whatever the status; nothing is recorded, and
// no policy applies: a registration is never refused by its status.
void api_revcheck_check_identity(api_revcheck *rc, const char *purpose,
                                 const uint8_t *der, size_t der_len,
                                 const uint8_t *chain, size_t chain_len,
                                 ca_revcheck_result *out);

// api_revcheck_record stores |result| as the status of the certificate
// |fp|, checked now. It returns 0 when the database fails.
int api_revcheck_record(api_revcheck *rc,
                        const uint8_t fp[CA_TRUST_FINGERPRINT_LEN],
                        const ca_revcheck_result *result) CA_MUST_CHECK;

// api_revcheck_admit applies |trust_store|'s policy to |result|: it returns
// 1 when the upload may go on (|warning| then holds a warning, or ""), or 0
// with TRUST_CERT_REVOKED, REVOCATION_UNKNOWN or REVOCATION_UNREACHABLE.
int api_revcheck_admit(const api_revcheck *rc, const char *trust_store,
                       const char *subject, const ca_revcheck_result *result,
                       char *warning, size_t warning_len) CA_MUST_CHECK;

// api_revcheck_add_metrics appends pki_trust_revocation_status (a gauge per
// usage, trust or external, and status, unchecked included), one group; left
// out when the database does not answer. It returns 0 when out of memory.
int api_revcheck_add_metrics(ca_store *store, CBB *cbb) CA_MUST_CHECK;

#endif  // PKI_API_REVCHECK_H
