#include "ca/policy/profile.h"

#include <openssl/nid.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ca/limits.h"

#define RSA_SIZES (CA_RSA_2048 | CA_RSA_3072 | CA_RSA_4096)
#define EC_CURVES (CA_EC_P256 | CA_EC_P384)
#define KU_RSA_SERVER                                 \
  (CA_KU_DIGITAL_SIGNATURE | CA_KU_KEY_ENCIPHERMENT | \
   CA_KU_DATA_ENCIPHERMENT | CA_KU_KEY_AGREEMENT)
// keyEncipherment and dataEncipherment are RSA operations: never on EC keys.
#define KU_EC_SERVER (CA_KU_DIGITAL_SIGNATURE | CA_KU_KEY_AGREEMENT)
#define EKU_WEB_IPSEC \
  (CA_EKU_SERVER_AUTH | CA_EKU_CLIENT_AUTH | CA_EKU_IPSEC_END_SYSTEM)
#define EKU_WEB (CA_EKU_SERVER_AUTH | CA_EKU_CLIENT_AUTH)
#define TWO_YEARS 730
#define CA_ITLRECOVERY_CN_PREFIX "ITLRECOVERY_"

// README.md, "Profiles". The comment on each row says why it differs from
// its neighbours.
static const ca_profile kBuiltin[CA_PROFILE_COUNT] = {
    {"tomcat", CA_KEY_RSA, RSA_SIZES, KU_RSA_SERVER, EKU_WEB_IPSEC, 0, -1, 1, 0,
     TWO_YEARS, TWO_YEARS, 0, NULL},
    // CSCvb58580: tomcat-ECDSA must be signed by an EC CA, never RSA.
    {"tomcat-ECDSA", CA_KEY_EC, EC_CURVES, KU_EC_SERVER, EKU_WEB_IPSEC, 0, -1,
     1, 0, TWO_YEARS, TWO_YEARS, 0, NULL},
    // One host's names only.
    {"ipsec", CA_KEY_RSA, RSA_SIZES, KU_RSA_SERVER, EKU_WEB_IPSEC, 0, -1, 0, 0,
     TWO_YEARS, TWO_YEARS, 0, NULL},
    {"CallManager", CA_KEY_RSA, RSA_SIZES, KU_RSA_SERVER, EKU_WEB, 0, -1, 1, 0,
     TWO_YEARS, TWO_YEARS, 0, NULL},
    {"CallManager-ECDSA", CA_KEY_EC, EC_CURVES, KU_EC_SERVER, EKU_WEB, 0, -1, 1,
     0, TWO_YEARS, TWO_YEARS, 0, NULL},
    // CAPF issues phone LSCs: CA:TRUE with pathlen 0, or CUCM fails TLS.
    {"CAPF", CA_KEY_RSA, RSA_SIZES,
     CA_KU_DIGITAL_SIGNATURE | CA_KU_KEY_CERT_SIGN, CA_EKU_SERVER_AUTH, 1, 0, 0,
     0, TWO_YEARS, TWO_YEARS, 0, NULL},
    // Clients of pki's own API (pkid's TLS): clientAuth only, and the OU
    // kept, for it names the role. One year: people and scripts change.
    {CA_PROFILE_API_CLIENT, CA_KEY_RSA, RSA_SIZES, CA_KU_DIGITAL_SIGNATURE,
     CA_EKU_CLIENT_AUTH, 0, -1, 0, 1, 365, 730, 0, NULL},
    // Trust Verification Service: one per CUCM node, RSA only (CUCM has no
    // TVS-ECDSA), the usages of CallManager. CUCM makes it self-signed and
    // can have a CA sign it.
    {"TVS", CA_KEY_RSA, RSA_SIZES, KU_RSA_SERVER, EKU_WEB, 0, -1, 0, 0,
     TWO_YEARS, TWO_YEARS, 0, NULL},
    // Signs the ITL file (CUCM 12.0 and later) and recovers phones whose ITL
    // no longer matches: one per cluster, always self-signed (a CA-signed
    // one would tie every phone's trust to that CA), valid 5 to 20 years.
    // CUCM names it CN=ITLRECOVERY_<host>; the SANs name the host.
    {"ITLRecovery", CA_KEY_RSA, RSA_SIZES, KU_RSA_SERVER, EKU_WEB, 0, -1, 0, 0,
     TWO_YEARS, TWO_YEARS, 1, CA_ITLRECOVERY_CN_PREFIX},
};

void ca_profile_table_init(ca_profile_table *table) {
  memcpy(table->profiles, kBuiltin, sizeof(kBuiltin));
}

const ca_profile *ca_profile_find(const ca_profile_table *table,
                                  const char *name) {
  for (size_t i = 0; i < CA_PROFILE_COUNT; i++) {
    if (strcasecmp(table->profiles[i].name, name) == 0) {
      return &table->profiles[i];
    }
  }
  CA_SET_ERROR(CA_ERR_PROFILE_UNKNOWN,
               "unknown profile \"%.*s\" (known: tomcat, tomcat-ECDSA, "
               "ipsec, CallManager, CallManager-ECDSA, CAPF, api-client, TVS, "
               "ITLRecovery)",
               CA_PROFILE_NAME_MAX, name);
  return NULL;
}

int ca_profile_enable_rsa1024(ca_profile_table *table, const char *name) {
  ca_profile *profile = (ca_profile *)ca_profile_find(table, name);
  CA_GUARD_PTR_RETURN(profile);
  CA_ENSURE_RETURN(profile->key_type == CA_KEY_RSA, CA_ERR_CONFIG,
                   "profile %s takes EC keys: RSA-1024 cannot be enabled",
                   profile->name);
  profile->keys |= CA_RSA_1024;
  return 1;
}

int ca_profile_check_key(const ca_profile *profile, const ca_key_info *key) {
  CA_ENSURE_RETURN(key->type == profile->key_type, CA_ERR_KEY_TYPE_MISMATCH,
                   "profile %s takes %s keys, the request has an %s key",
                   profile->name, ca_key_type_name(profile->key_type),
                   ca_key_type_name(key->type));
  if (key->type == CA_KEY_RSA) {
    unsigned size = 0;
    switch (key->bits) {
      case 1024:
        size = CA_RSA_1024;
        break;
      case 2048:
        size = CA_RSA_2048;
        break;
      case 3072:
        size = CA_RSA_3072;
        break;
      case 4096:
        size = CA_RSA_4096;
        break;
      default:
        break;
    }
    CA_ENSURE_RETURN(
        key->bits >= 2048 || (profile->keys & CA_RSA_1024),
        CA_ERR_KEY_TOO_SMALL,
        "RSA-%u is too small: profile %s takes 2048, 3072 or 4096 bits",
        key->bits, profile->name);
    CA_ENSURE_RETURN(
        size != 0 && (profile->keys & size), CA_ERR_KEY_SIZE_UNSUPPORTED,
        "RSA-%u is not accepted: profile %s takes 2048, 3072 or 4096 "
        "bits",
        key->bits, profile->name);
    return 1;
  }
  unsigned curve = 0;
  if (key->curve_nid == NID_X9_62_prime256v1) {
    curve = CA_EC_P256;
  } else if (key->curve_nid == NID_secp384r1) {
    curve = CA_EC_P384;
  }
  CA_ENSURE_RETURN(
      curve != 0 && (profile->keys & curve), CA_ERR_CURVE_UNSUPPORTED,
      "curve not accepted: profile %s takes P-256 or P-384", profile->name);
  return 1;
}

uint32_t ca_profile_validity_days(const ca_profile *profile,
                                  uint32_t requested_days) {
  if (requested_days == 0) {
    return profile->default_days;
  }
  CA_ENSURE_RETURN(requested_days <= profile->max_days,
                   CA_ERR_VALIDITY_TOO_LONG,
                   "validity of %u days exceeds the %u days of profile %s",
                   requested_days, profile->max_days, profile->name);
  return requested_days;
}

int ca_profile_check_issuer(const ca_profile *profile, int self_signed) {
  CA_ENSURE_RETURN(self_signed || !profile->self_signed_only,
                   CA_ERR_PARAMETER_INVALID,
                   "profile %s is self-signed only, as on CUCM: make it with "
                   "pkictl selfsigned",
                   profile->name);
  return 1;
}

int ca_self_signed_years_allowed(const ca_profile *profile, uint32_t years) {
  return years == 5 || years == 10 || years == 20 ||
         (years == 15 && profile->self_signed_only);
}

int ca_profile_common_name(const ca_profile *profile, const char *host,
                           char *out, size_t cap) {
  const char *prefix = profile->cn_prefix;
  if (prefix == NULL || strncmp(host, prefix, strlen(prefix)) == 0) {
    prefix = "";
  }
  CA_ENSURE_RETURN(
      profile->cn_prefix == NULL || strcmp(host, profile->cn_prefix) != 0,
      CA_ERR_SUBJECT_INVALID, "the CN of a %s identity needs a host after %s",
      profile->name, profile->cn_prefix);
  const size_t len = strlen(prefix) + strlen(host);
  CA_ENSURE_RETURN(len <= CA_LIMIT_CN_LEN && len < cap, CA_ERR_SUBJECT_INVALID,
                   "the CN of a %s identity, %s%.*s, is longer than %d bytes",
                   profile->name, prefix, CA_LIMIT_CN_LEN, host,
                   CA_LIMIT_CN_LEN);
  snprintf(out, cap, "%s%s", prefix, host);
  return 1;
}

void ca_profile_cn_host(const ca_profile *profile, CBS *cn) {
  const char *prefix = profile->cn_prefix;
  if (prefix == NULL) {
    return;
  }
  const size_t len = strlen(prefix);
  if (CBS_len(cn) > len && memcmp(CBS_data(cn), prefix, len) == 0) {
    CBS_init(cn, CBS_data(cn) + len, CBS_len(cn) - len);
  }
}
