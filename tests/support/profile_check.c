#include "tests/support/profile_check.h"

#include <openssl/obj.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ca/policy/profile.h"
#include "tests/support/test.h"

#define KU_RSA                                                         \
  (KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT | KU_DATA_ENCIPHERMENT | \
   KU_KEY_AGREEMENT)
#define KU_EC (KU_DIGITAL_SIGNATURE | KU_KEY_AGREEMENT)
#define EKU_ALL \
  (CA_EKU_SERVER_AUTH | CA_EKU_CLIENT_AUTH | CA_EKU_IPSEC_END_SYSTEM)
#define EKU_WEB (CA_EKU_SERVER_AUTH | CA_EKU_CLIENT_AUTH)

static const test_profile kProfiles[] = {
    {"tomcat", "RSA-2048", KU_RSA, EKU_ALL, 0, "rsa-issuing"},
    {"tomcat-ECDSA", "EC-P256", KU_EC, EKU_ALL, 0, "ec-issuing"},
    {"ipsec", "RSA-3072", KU_RSA, EKU_ALL, 0, "rsa-issuing"},
    {"CallManager", "RSA-2048", KU_RSA, EKU_WEB, 0, "rsa-issuing"},
    {"CallManager-ECDSA", "EC-P384", KU_EC, EKU_WEB, 0, "ec-issuing"},
    {"CAPF", "RSA-2048", KU_DIGITAL_SIGNATURE | KU_KEY_CERT_SIGN,
     CA_EKU_SERVER_AUTH, 1, "rsa-issuing"},
};

const test_profile *test_profiles(size_t *out_n) {
  *out_n = sizeof(kProfiles) / sizeof(kProfiles[0]);
  return kProfiles;
}

// eku_bits maps |x|'s extKeyUsage to CA_EKU_* bits; an unexpected usage
// sets 0x100.
static unsigned eku_bits(X509 *x) {
  EXTENDED_KEY_USAGE *eku = X509_get_ext_d2i(x, NID_ext_key_usage, NULL, NULL);
  unsigned bits = 0;
  for (size_t i = 0; eku != NULL && i < sk_ASN1_OBJECT_num(eku); i++) {
    switch (OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, i))) {
      case NID_server_auth:
        bits |= CA_EKU_SERVER_AUTH;
        break;
      case NID_client_auth:
        bits |= CA_EKU_CLIENT_AUTH;
        break;
      case NID_ipsecEndSystem:
        bits |= CA_EKU_IPSEC_END_SYSTEM;
        break;
      default:
        bits |= 0x100;
    }
  }
  EXTENDED_KEY_USAGE_free(eku);
  return bits;
}

static int is_critical(X509 *x, int nid) {
  const int idx = X509_get_ext_by_NID(x, nid, -1);
  return idx >= 0 && X509_EXTENSION_get_critical(X509_get_ext(x, idx));
}

static int other_critical(X509 *x) {
  int n = 0;
  for (int i = 0; i < X509_get_ext_count(x); i++) {
    X509_EXTENSION *ext = X509_get_ext(x, i);
    const int nid = OBJ_obj2nid(X509_EXTENSION_get_object(ext));
    if (X509_EXTENSION_get_critical(ext) && nid != NID_key_usage &&
        nid != NID_basic_constraints) {
      n++;
    }
  }
  return n;
}

X509 *test_check_profile(const uint8_t *der, size_t len,
                         const test_profile *want) {
  const uint8_t *p = der;
  X509 *x = d2i_X509(NULL, &p, (long)len);
  CHECK(x != NULL);
  if (x == NULL) {
    return NULL;
  }
  CHECK(p == der + len);
  CHECK_EQ_INT(X509_get_version(x), 2);
  CHECK_EQ_INT(X509_get_key_usage(x), want->key_usage);
  CHECK_EQ_INT(eku_bits(x), want->ext_key_usage);
  CHECK(is_critical(x, NID_key_usage));
  CHECK(is_critical(x, NID_basic_constraints));
  CHECK_EQ_INT(other_critical(x), 0);
  BASIC_CONSTRAINTS *bc =
      X509_get_ext_d2i(x, NID_basic_constraints, NULL, NULL);
  CHECK(bc != NULL);
  if (bc != NULL) {
    CHECK_EQ_INT(bc->ca != 0, want->is_ca);
    if (want->is_ca) {
      CHECK(bc->pathlen != NULL && ASN1_INTEGER_get(bc->pathlen) == 0);
    } else {
      CHECK(bc->pathlen == NULL);
    }
    BASIC_CONSTRAINTS_free(bc);
  }
  CHECK(X509_get_ext_by_NID(x, NID_subject_key_identifier, -1) >= 0);
  CHECK(X509_get_ext_by_NID(x, NID_authority_key_identifier, -1) >= 0);
  return x;
}
