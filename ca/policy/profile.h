// Certificate profiles: what each Cisco certificate purpose gets (README.md,
// "Profiles"). The profile decides every extension of a leaf.
#ifndef PKI_CA_PROFILE_H
#define PKI_CA_PROFILE_H

#include <openssl/bytestring.h>
#include <stddef.h>
#include <stdint.h>

#include "ca/error.h"
#include "ca/x509/csr.h"
#include "ca/x509/usage.h"

// The key sizes a profile may accept.
enum {
  CA_RSA_1024 = 1 << 0,
  CA_RSA_2048 = 1 << 1,
  CA_RSA_3072 = 1 << 2,
  CA_RSA_4096 = 1 << 3,
  CA_EC_P256 = 1 << 4,
  CA_EC_P384 = 1 << 5,
};

#define CA_PROFILE_NAME_MAX 32

typedef struct ca_profile {
  char name[CA_PROFILE_NAME_MAX];
  ca_key_type key_type;    // also selects the issuer: RSA CA or EC CA
  unsigned keys;           // CA_RSA_* / CA_EC_* accepted
  unsigned key_usage;      // CA_KU_*
  unsigned ext_key_usage;  // CA_EKU_*
  int is_ca;
  int path_len;    // pathLenConstraint when is_ca; -1 for none
  int multi_host;  // may carry the names of several hosts
  int keep_ou;     // keep OU attributes of the requested subject
  uint32_t default_days;
  uint32_t max_days;
  // Only ever self-signed (ITLRecovery): a pki CA never issues under it, and
  // a self-signed identity may also be valid 15 years, as on CUCM.
  int self_signed_only;
  // What CUCM puts before the host name in the CN (ITLRecovery:
  // "ITLRECOVERY_"), or NULL: the CN is the host name itself.
  const char *cn_prefix;
} ca_profile;

#define CA_PROFILE_COUNT 9

// The profile of client certificates for pki's own API: only admins may
// issue under it (ca/policy/access.h), and it alone keeps the OU that carries
// the holder's role ("pki-role:ROLE[:PROFILE...]").
#define CA_PROFILE_API_CLIENT "api-client"

// The operator's profile set: the built-in table, possibly tightened.
typedef struct ca_profile_table {
  ca_profile profiles[CA_PROFILE_COUNT];
} ca_profile_table;

// ca_profile_table_init fills |table| with the built-in profiles of
// README.md, "Profiles".
void ca_profile_table_init(ca_profile_table *table);

// ca_profile_find returns the profile named |name| (ASCII case-insensitive,
// so "callmanager" finds CallManager), or NULL with CA_ERR_PROFILE_UNKNOWN.
// The pointer borrows from |table|.
const ca_profile *ca_profile_find(const ca_profile_table *table,
                                  const char *name);

// ca_profile_enable_rsa1024 lets the profile named |name| accept RSA-1024
// keys, for labs with old phones. It returns 0 with CA_ERR_PROFILE_UNKNOWN,
// or CA_ERR_CONFIG for an EC profile.
int ca_profile_enable_rsa1024(ca_profile_table *table,
                              const char *name) CA_MUST_CHECK;

// ca_profile_check_key succeeds when |profile| accepts |key|. It returns 0
// with CA_ERR_KEY_TYPE_MISMATCH, CA_ERR_KEY_TOO_SMALL,
// CA_ERR_KEY_SIZE_UNSUPPORTED or CA_ERR_CURVE_UNSUPPORTED.
int ca_profile_check_key(const ca_profile *profile,
                         const ca_key_info *key) CA_MUST_CHECK;

// ca_profile_validity_days returns the validity for a request of
// |requested_days| (0 for the default), or 0 with CA_ERR_VALIDITY_TOO_LONG
// when it exceeds the profile maximum.
uint32_t ca_profile_validity_days(const ca_profile *profile,
                                  uint32_t requested_days);

// ca_profile_check_issuer succeeds unless a pki CA would issue under a
// self-signed-only |profile| (|self_signed| 0): then it returns 0 with
// CA_ERR_PARAMETER_INVALID.
int ca_profile_check_issuer(const ca_profile *profile,
                            int self_signed) CA_MUST_CHECK;

// ca_self_signed_years_allowed returns 1 when a self-signed identity of
// |profile| may be valid |years| calendar years: 5, 10 or 20, and also 15
// for a self-signed-only profile (CUCM's ITLRecovery choices).
int ca_self_signed_years_allowed(const ca_profile *profile, uint32_t years);

// ca_profile_common_name writes the CN of an identity of |profile| for the
// host |host| into |out| (|cap| bytes): |host| behind the profile's
// cn_prefix (ITLRecovery: "ITLRECOVERY_cucm1.example.com", as CUCM names
// it), or |host| alone. A |host| that already starts with the prefix is
// taken as written, so that a CN read back from such a certificate (a
// regeneration) is not prefixed twice. It returns 0 with
// CA_ERR_SUBJECT_INVALID when the CN would exceed CA_LIMIT_CN_LEN bytes or
// |cap|, or when |host| is the prefix alone.
int ca_profile_common_name(const ca_profile *profile, const char *host,
                           char *out, size_t cap) CA_MUST_CHECK;

// ca_profile_cn_host narrows |cn| to the host name it carries: |cn| without
// the profile's cn_prefix when it starts with it, else |cn| unchanged. The
// SANs are checked against that host (README.md, "Profiles").
void ca_profile_cn_host(const ca_profile *profile, CBS *cn);

#endif  // PKI_CA_PROFILE_H
