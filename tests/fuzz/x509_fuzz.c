// Fuzz target: X.509 certificates and certificates-only PKCS#7 (.p7b), as
// uploaded to trust stores and moved between clusters. The same bytes go to
// both readers; every certificate a PKCS#7 holds is parsed in turn.
#include <openssl/bytestring.h>
#include <string.h>

#include "ca/oid.h"
#include "ca/x509/asn1_time.h"
#include "ca/x509/pkcs7.h"
#include "ca/x509/x509.h"
#include "tests/fuzz/fuzz.h"

#define MAX_CERTS 16

// check_time checks that a time read from a certificate within the range
// of ca/x509/asn1_time.h prints (the API shows it) and writes back as itself.
static void check_time(int64_t t) {
  if (t < CA_TIME_MIN || t > CA_TIME_MAX) {
    return;
  }
  char text[21];
  FUZZ_ASSERT(ca_time_format(t, text));
  CBB cbb;
  FUZZ_ASSERT(CBB_init(&cbb, 32));
  FUZZ_ASSERT(ca_time_add(&cbb, t));
  CBS cbs;
  int64_t again;
  CBS_init(&cbs, CBB_data(&cbb), CBB_len(&cbb));
  FUZZ_ASSERT(ca_time_parse(&cbs, &again) && again == t && CBS_len(&cbs) == 0);
  CBB_cleanup(&cbb);
}

static void check_certificate(const uint8_t *der, size_t der_len) {
  ca_x509 cert;
  if (!ca_x509_parse(&cert, der, der_len)) {
    FUZZ_ASSERT(ca_err_get()->code == CA_ERR_CERT_MALFORMED);
    return;
  }
  // The views must lie inside the input.
  FUZZ_ASSERT(CBS_data(&cert.tbs) >= der &&
              CBS_data(&cert.tbs) + CBS_len(&cert.tbs) <= der + der_len);
  static const struct {
    const uint8_t *oid;
    size_t len;
  } kExtensions[] = {
      {kOidSubjectAltName, sizeof(kOidSubjectAltName)},
      {kOidKeyUsage, sizeof(kOidKeyUsage)},
      {kOidExtKeyUsage, sizeof(kOidExtKeyUsage)},
      {kOidBasicConstraints, sizeof(kOidBasicConstraints)},
      {kOidSubjectKeyIdentifier, sizeof(kOidSubjectKeyIdentifier)},
      {kOidAuthorityKeyIdentifier, sizeof(kOidAuthorityKeyIdentifier)},
      {kOidAuthorityInfoAccess, sizeof(kOidAuthorityInfoAccess)},
  };
  for (size_t i = 0; i < sizeof(kExtensions) / sizeof(kExtensions[0]); i++) {
    CBS value;
    int critical = -1;
    if (ca_x509_find_extension(&cert, kExtensions[i].oid, kExtensions[i].len,
                               &value, &critical)) {
      FUZZ_ASSERT(critical == 0 || critical == 1);
    }
  }
  uint8_t key_id[CA_KEY_ID_LEN];
  if (!ca_spki_key_id(&cert.spki, key_id)) {
    FUZZ_ASSERT(ca_err_get()->code == CA_ERR_CERT_MALFORMED);
  }
  check_time(cert.not_before);
  check_time(cert.not_after);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  check_certificate(data, size);

  CBS in, certs[MAX_CERTS];
  size_t n = 0;
  CBS_init(&in, data, size);
  if (!ca_pkcs7_get_certificates(&in, certs, MAX_CERTS, &n)) {
    FUZZ_ASSERT(ca_err_get()->code == CA_ERR_CERT_MALFORMED);
    return 0;
  }
  FUZZ_ASSERT(n <= MAX_CERTS);
  for (size_t i = 0; i < n; i++) {
    check_certificate(CBS_data(&certs[i]), CBS_len(&certs[i]));
  }
  return 0;
}
