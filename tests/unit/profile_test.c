// Unit tests of ca/policy/profile.c: the built-in table against README.md's
// "Profiles" table (written out again here, not copied from profile.c),
// look-up, the RSA-1024 switch, key checks and validity.
#include <limits.h>
#include <openssl/nid.h>
#include <stdio.h>
#include <string.h>

#include "ca/limits.h"
#include "ca/policy/profile.h"
#include "tests/support/test.h"

#define KU_RSA                                        \
  (CA_KU_DIGITAL_SIGNATURE | CA_KU_KEY_ENCIPHERMENT | \
   CA_KU_DATA_ENCIPHERMENT | CA_KU_KEY_AGREEMENT)
#define KU_EC (CA_KU_DIGITAL_SIGNATURE | CA_KU_KEY_AGREEMENT)
#define EKU3 (CA_EKU_SERVER_AUTH | CA_EKU_CLIENT_AUTH | CA_EKU_IPSEC_END_SYSTEM)
#define EKU2 (CA_EKU_SERVER_AUTH | CA_EKU_CLIENT_AUTH)
#define RSA3 (CA_RSA_2048 | CA_RSA_3072 | CA_RSA_4096)
#define EC2 (CA_EC_P256 | CA_EC_P384)

static ca_profile_table table;

TEST(builtin_table_is_the_design_table) {
  static const struct {
    const char *name;
    ca_key_type type;
    unsigned keys, ku, eku;
    int is_ca, path_len, multi_host;
  } kDesign[] = {
      {"tomcat", CA_KEY_RSA, RSA3, KU_RSA, EKU3, 0, -1, 1},
      {"tomcat-ECDSA", CA_KEY_EC, EC2, KU_EC, EKU3, 0, -1, 1},
      {"ipsec", CA_KEY_RSA, RSA3, KU_RSA, EKU3, 0, -1, 0},
      {"CallManager", CA_KEY_RSA, RSA3, KU_RSA, EKU2, 0, -1, 1},
      {"CallManager-ECDSA", CA_KEY_EC, EC2, KU_EC, EKU2, 0, -1, 1},
      {"CAPF", CA_KEY_RSA, RSA3, CA_KU_DIGITAL_SIGNATURE | CA_KU_KEY_CERT_SIGN,
       CA_EKU_SERVER_AUTH, 1, 0, 0},
      {"api-client", CA_KEY_RSA, RSA3, CA_KU_DIGITAL_SIGNATURE,
       CA_EKU_CLIENT_AUTH, 0, -1, 0},
      // CUCM's own self-signed purposes: the usages of CallManager.
      {"TVS", CA_KEY_RSA, RSA3, KU_RSA, EKU2, 0, -1, 0},
      {"ITLRecovery", CA_KEY_RSA, RSA3, KU_RSA, EKU2, 0, -1, 0},
  };
  ca_profile_table_init(&table);
  for (size_t i = 0; i < CA_PROFILE_COUNT; i++) {
    const ca_profile *p = ca_profile_find(&table, kDesign[i].name);
    CHECK(p != NULL);
    if (p == NULL) {
      continue;
    }
    CHECK_EQ_STR(p->name, kDesign[i].name);
    CHECK_EQ_INT(p->key_type, kDesign[i].type);
    CHECK_EQ_INT(p->keys, kDesign[i].keys);
    CHECK_EQ_INT(p->key_usage, kDesign[i].ku);
    CHECK_EQ_INT(p->ext_key_usage, kDesign[i].eku);
    CHECK_EQ_INT(p->is_ca, kDesign[i].is_ca);
    if (p->is_ca) {
      CHECK_EQ_INT(p->path_len, kDesign[i].path_len);
    }
    CHECK_EQ_INT(p->multi_host, kDesign[i].multi_host);
    // OU dropped but for api-client, whose OU names the holder's role
    // (api/server/auth.c trusts an OU "pki-role:" only because no other profile
    // keeps one); two years, never longer, one by default for api-client.
    const int api_client = strcmp(p->name, "api-client") == 0;
    CHECK_EQ_INT(p->keep_ou, api_client);
    CHECK_EQ_INT(p->default_days, api_client ? 365 : 730);
    CHECK_EQ_INT(p->max_days, 730);
    // keyEncipherment and dataEncipherment are RSA-only bits.
    if (p->key_type == CA_KEY_EC) {
      CHECK_EQ_INT(
          p->key_usage & (CA_KU_KEY_ENCIPHERMENT | CA_KU_DATA_ENCIPHERMENT), 0);
    }
    // RSA-1024 only when enabled.
    CHECK_EQ_INT(p->keys & CA_RSA_1024, 0);
    // Only ITLRecovery is never CA-issued, and only it may be valid 15 years.
    const int itl = strcmp(p->name, "ITLRecovery") == 0;
    CHECK_EQ_INT(p->self_signed_only, itl);
    CHECK_EQ_INT(ca_profile_check_issuer(p, 0), !itl);
    CHECK_EQ_INT(ca_profile_check_issuer(p, 1), 1);
    CHECK_EQ_INT(ca_self_signed_years_allowed(p, 15), itl);
    CHECK_EQ_INT(ca_self_signed_years_allowed(p, 20), 1);
    CHECK_EQ_INT(ca_self_signed_years_allowed(p, 7), 0);
    // Only ITLRecovery's CN is not the host name: CUCM writes
    // ITLRECOVERY_<host>.
    if (itl) {
      CHECK(p->cn_prefix != NULL && strcmp(p->cn_prefix, "ITLRECOVERY_") == 0);
    } else {
      CHECK(p->cn_prefix == NULL);
    }
  }
  // Every slot is one of the nine: no duplicates.
  for (size_t i = 0; i < CA_PROFILE_COUNT; i++) {
    for (size_t j = i + 1; j < CA_PROFILE_COUNT; j++) {
      CHECK(strcmp(table.profiles[i].name, table.profiles[j].name) != 0);
    }
  }
}

TEST(find) {
  ca_profile_table_init(&table);
  const ca_profile *cm = ca_profile_find(&table, "CallManager");
  CHECK(cm != NULL && strcmp(cm->name, "CallManager") == 0);
  // ASCII case-insensitive.
  CHECK(ca_profile_find(&table, "callmanager") == cm);
  CHECK(ca_profile_find(&table, "CALLMANAGER") == cm);
  const ca_profile *capf = ca_profile_find(&table, "capf");
  CHECK(capf != NULL && strcmp(capf->name, "CAPF") == 0);
  const ca_profile *ecdsa = ca_profile_find(&table, "callmanager-ecdsa");
  CHECK(ecdsa != NULL && strcmp(ecdsa->name, "CallManager-ECDSA") == 0);
  // Pointers borrow from the table.
  CHECK(cm >= table.profiles && cm < table.profiles + CA_PROFILE_COUNT);
  // Unknown names: no prefix match, no trailing text, no empty name.
  static const char *const kUnknown[] = {
      "nosuch", "tom",     "tomcat ",  " tomcat",     "tomcat-ecdsa2",
      "",       "CallMgr", "tomcat\n", "ipsec-ECDSA",
  };
  for (size_t i = 0; i < sizeof(kUnknown) / sizeof(kUnknown[0]); i++) {
    ca_err_clear();
    CHECK(ca_profile_find(&table, kUnknown[i]) == NULL);
    CHECK_EQ_INT(ca_err_get()->code, CA_ERR_PROFILE_UNKNOWN);
  }
  // The message quotes the name, bounded.
  CHECK(ca_profile_find(&table, "nosuch") == NULL);
  CHECK(strstr(ca_err_get()->message, "\"nosuch\"") != NULL);
  char long_name[1000];
  memset(long_name, 'x', sizeof(long_name) - 1);
  long_name[sizeof(long_name) - 1] = '\0';
  CHECK(ca_profile_find(&table, long_name) == NULL);
  CHECK(strlen(ca_err_get()->message) < CA_ERR_MESSAGE_LEN);
}

static int key_code(const ca_profile *p, ca_key_type type, unsigned bits,
                    int nid) {
  ca_key_info key = {.type = type, .bits = bits, .curve_nid = nid};
  ca_err_clear();
  return ca_profile_check_key(p, &key) ? CA_OK : ca_err_get()->code;
}

TEST(check_key) {
  ca_profile_table_init(&table);
  const ca_profile *tomcat = ca_profile_find(&table, "tomcat");
  const ca_profile *ec = ca_profile_find(&table, "tomcat-ECDSA");
  CHECK(tomcat != NULL && ec != NULL);
  if (tomcat == NULL || ec == NULL) {
    return;
  }
  CHECK_EQ_INT(key_code(tomcat, CA_KEY_RSA, 2048, 0), CA_OK);
  CHECK_EQ_INT(key_code(tomcat, CA_KEY_RSA, 3072, 0), CA_OK);
  CHECK_EQ_INT(key_code(tomcat, CA_KEY_RSA, 4096, 0), CA_OK);
  CHECK_EQ_INT(key_code(tomcat, CA_KEY_RSA, 1024, 0), CA_ERR_KEY_TOO_SMALL);
  CHECK_EQ_INT(key_code(tomcat, CA_KEY_RSA, 2047, 0), CA_ERR_KEY_TOO_SMALL);
  CHECK_EQ_INT(key_code(tomcat, CA_KEY_RSA, 512, 0), CA_ERR_KEY_TOO_SMALL);
  CHECK_EQ_INT(key_code(tomcat, CA_KEY_RSA, 2049, 0),
               CA_ERR_KEY_SIZE_UNSUPPORTED);
  CHECK_EQ_INT(key_code(tomcat, CA_KEY_RSA, 2560, 0),
               CA_ERR_KEY_SIZE_UNSUPPORTED);
  CHECK_EQ_INT(key_code(tomcat, CA_KEY_RSA, 8192, 0),
               CA_ERR_KEY_SIZE_UNSUPPORTED);
  CHECK_EQ_INT(key_code(tomcat, CA_KEY_EC, 256, NID_X9_62_prime256v1),
               CA_ERR_KEY_TYPE_MISMATCH);
  CHECK_EQ_INT(key_code(tomcat, CA_KEY_NONE, 0, 0), CA_ERR_KEY_TYPE_MISMATCH);
  CHECK_EQ_INT(key_code(ec, CA_KEY_EC, 256, NID_X9_62_prime256v1), CA_OK);
  CHECK_EQ_INT(key_code(ec, CA_KEY_EC, 384, NID_secp384r1), CA_OK);
  CHECK_EQ_INT(key_code(ec, CA_KEY_EC, 521, NID_secp521r1),
               CA_ERR_CURVE_UNSUPPORTED);
  CHECK_EQ_INT(key_code(ec, CA_KEY_EC, 224, NID_secp224r1),
               CA_ERR_CURVE_UNSUPPORTED);
  CHECK_EQ_INT(key_code(ec, CA_KEY_EC, 256, 0), CA_ERR_CURVE_UNSUPPORTED);
  CHECK_EQ_INT(key_code(ec, CA_KEY_RSA, 2048, 0), CA_ERR_KEY_TYPE_MISMATCH);
  // The message names the profile and the key types.
  CHECK(strstr(ca_err_get()->message, "tomcat-ECDSA") != NULL);
  CHECK(strstr(ca_err_get()->message, "RSA") != NULL);
  // Every RSA profile refuses RSA-1024 until it is enabled.
  for (size_t i = 0; i < CA_PROFILE_COUNT; i++) {
    const ca_profile *p = &table.profiles[i];
    if (p->key_type == CA_KEY_RSA) {
      CHECK_EQ_INT(key_code(p, CA_KEY_RSA, 1024, 0), CA_ERR_KEY_TOO_SMALL);
    }
  }
}

TEST(rsa1024_switch) {
  ca_profile_table_init(&table);
  CHECK(ca_profile_enable_rsa1024(&table, "CallManager"));
  const ca_profile *cm = ca_profile_find(&table, "CallManager");
  CHECK(cm != NULL && (cm->keys & CA_RSA_1024));
  CHECK_EQ_INT(key_code(cm, CA_KEY_RSA, 1024, 0), CA_OK);
  // Other sizes below 2048 stay refused, as sizes.
  CHECK_EQ_INT(key_code(cm, CA_KEY_RSA, 1536, 0), CA_ERR_KEY_SIZE_UNSUPPORTED);
  CHECK_EQ_INT(key_code(cm, CA_KEY_RSA, 2048, 0), CA_OK);
  // The others are untouched.
  const ca_profile *tomcat = ca_profile_find(&table, "tomcat");
  CHECK_EQ_INT(key_code(tomcat, CA_KEY_RSA, 1024, 0), CA_ERR_KEY_TOO_SMALL);
  // Names are found case-insensitively here too.
  CHECK(ca_profile_enable_rsa1024(&table, "capf"));
  CHECK_EQ_INT(key_code(ca_profile_find(&table, "CAPF"), CA_KEY_RSA, 1024, 0),
               CA_OK);
  // EC profiles cannot take RSA keys at all.
  CHECK(!ca_profile_enable_rsa1024(&table, "tomcat-ECDSA"));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_CONFIG);
  CHECK_EQ_INT(ca_profile_find(&table, "tomcat-ECDSA")->keys & CA_RSA_1024, 0);
  CHECK(!ca_profile_enable_rsa1024(&table, "nosuch"));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_PROFILE_UNKNOWN);
  // A fresh table is the built-in one again: the built-ins are not shared.
  ca_profile_table fresh;
  ca_profile_table_init(&fresh);
  CHECK_EQ_INT(ca_profile_find(&fresh, "CallManager")->keys & CA_RSA_1024, 0);
}

TEST(validity_days) {
  ca_profile_table_init(&table);
  const ca_profile *p = ca_profile_find(&table, "ipsec");
  CHECK_EQ_INT(ca_profile_validity_days(p, 0), 730);
  CHECK_EQ_INT(ca_profile_validity_days(p, 1), 1);
  CHECK_EQ_INT(ca_profile_validity_days(p, 365), 365);
  CHECK_EQ_INT(ca_profile_validity_days(p, 730), 730);
  ca_err_clear();
  CHECK_EQ_INT(ca_profile_validity_days(p, 731), 0);
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_VALIDITY_TOO_LONG);
  ca_err_clear();
  CHECK_EQ_INT(ca_profile_validity_days(p, UINT32_MAX), 0);
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_VALIDITY_TOO_LONG);
  // A tightened profile: the operator's maximum rules.
  table.profiles[2].max_days = 90;
  table.profiles[2].default_days = 30;
  CHECK_EQ_INT(ca_profile_validity_days(&table.profiles[2], 0), 30);
  CHECK_EQ_INT(ca_profile_validity_days(&table.profiles[2], 90), 90);
  CHECK_EQ_INT(ca_profile_validity_days(&table.profiles[2], 91), 0);
}

// host_of returns what ca_profile_cn_host makes of |cn|, in |buf|.
static const char *host_of(const ca_profile *p, const char *cn, char *buf,
                           size_t cap) {
  CBS c;
  CBS_init(&c, (const uint8_t *)cn, strlen(cn));
  ca_profile_cn_host(p, &c);
  snprintf(buf, cap, "%.*s", (int)CBS_len(&c), (const char *)CBS_data(&c));
  return buf;
}

TEST(common_name_as_cucm_writes_it) {
  ca_profile_table_init(&table);
  const ca_profile *itl = ca_profile_find(&table, "itlrecovery");
  const ca_profile *tvs = ca_profile_find(&table, "TVS");
  CHECK(itl != NULL && tvs != NULL);
  if (itl == NULL || tvs == NULL) {
    return;
  }
  char cn[CA_LIMIT_CN_LEN + 1], host[CA_LIMIT_CN_LEN + 1];
  // ITLRecovery: ITLRECOVERY_ before the host; TVS (and the others): the
  // host itself.
  CHECK(ca_profile_common_name(itl, "cucm1.example.com", cn, sizeof(cn)));
  CHECK_EQ_STR(cn, "ITLRECOVERY_cucm1.example.com");
  CHECK(ca_profile_common_name(tvs, "cucm1.example.com", cn, sizeof(cn)));
  CHECK_EQ_STR(cn, "cucm1.example.com");
  // A CN read back from such a certificate is not prefixed twice; the
  // prefix is CUCM's spelling, matched exactly.
  CHECK(ca_profile_common_name(itl, "ITLRECOVERY_cucm1.example.com", cn,
                               sizeof(cn)));
  CHECK_EQ_STR(cn, "ITLRECOVERY_cucm1.example.com");
  CHECK(ca_profile_common_name(itl, "itlrecovery_x", cn, sizeof(cn)));
  CHECK_EQ_STR(cn, "ITLRECOVERY_itlrecovery_x");
  // 64 bytes at most, prefix included: a host of 52 fits, 53 does not.
  char longest[CA_LIMIT_CN_LEN];
  memset(longest, 'a', 52);
  longest[52] = '\0';
  CHECK(ca_profile_common_name(itl, longest, cn, sizeof(cn)));
  CHECK_EQ_INT(strlen(cn), CA_LIMIT_CN_LEN);
  longest[52] = 'a';
  longest[53] = '\0';
  ca_err_clear();
  CHECK(!ca_profile_common_name(itl, longest, cn, sizeof(cn)));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_SUBJECT_INVALID);
  CHECK(ca_profile_common_name(tvs, longest, cn, sizeof(cn)));
  // The prefix alone names no host.
  ca_err_clear();
  CHECK(!ca_profile_common_name(itl, "ITLRECOVERY_", cn, sizeof(cn)));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_SUBJECT_INVALID);
  // Nor past the caller's buffer.
  char small[8];
  CHECK(!ca_profile_common_name(itl, "cucm1", small, sizeof(small)));
  // The host a CN names, against which the SANs are checked.
  CHECK_EQ_STR(
      host_of(itl, "ITLRECOVERY_cucm1.example.com", host, sizeof(host)),
      "cucm1.example.com");
  CHECK_EQ_STR(host_of(itl, "cucm1.example.com", host, sizeof(host)),
               "cucm1.example.com");
  CHECK_EQ_STR(host_of(itl, "ITLRECOVERY_", host, sizeof(host)),
               "ITLRECOVERY_");
  CHECK_EQ_STR(host_of(tvs, "ITLRECOVERY_cucm1", host, sizeof(host)),
               "ITLRECOVERY_cucm1");
}

int main(void) {
  RUN(builtin_table_is_the_design_table);
  RUN(find);
  RUN(check_key);
  RUN(rsa1024_switch);
  RUN(validity_days);
  RUN(common_name_as_cucm_writes_it);
  return test_summary();
}
