// Unit tests of ca/x509/x509_verify.c on the CAs of ca_authority_new_ephemeral:
// each CA certificate verifies with its signer's key (RSA and ECDSA), not
// with another key, of the other type, or once a byte of its TBS or
// signature is changed.
#include <openssl/evp.h>
#include <openssl/mem.h>
#include <string.h>

#include "ca/issue/authority.h"
#include "ca/x509/x509.h"
#include "ca/x509/x509_verify.h"
#include "tests/support/test.h"

static ca_authority *authority;

static const ca_issuer *find(const char *name) {
  const ca_issuer *i = ca_authority_find(authority, name);
  CHECK(i != NULL);
  return i;
}

TEST(each_ca_verifies_with_its_signers_key) {
  static const struct {
    const char *ca, *signer;
  } kPairs[] = {
      {"rsa-root", "rsa-root"},
      {"rsa-issuing", "rsa-root"},
      {"ec-root", "ec-root"},
      {"ec-issuing", "ec-root"},
  };
  for (size_t i = 0; i < sizeof(kPairs) / sizeof(kPairs[0]); i++) {
    const ca_issuer *ca = find(kPairs[i].ca);
    const ca_issuer *signer = find(kPairs[i].signer);
    CHECK(ca_x509_verify_signed_by(&ca->cert, signer->key));
  }
}

TEST(another_key_or_type_does_not_verify) {
  // Same type, other key.
  CHECK(!ca_x509_verify_signed_by(&find("rsa-issuing")->cert,
                                  find("rsa-issuing")->key));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_CERT_MALFORMED);
  CHECK(strstr(ca_err_get()->message, "does not verify") != NULL);
  // The other type.
  CHECK(!ca_x509_verify_signed_by(&find("ec-issuing")->cert,
                                  find("rsa-root")->key));
  CHECK(strstr(ca_err_get()->message, "does not fit") != NULL);
}

// verify_changed changes byte |at| (from the end when negative) of a copy
// of |ca|'s DER and verifies it with |signer|'s key.
static int verify_changed(const ca_issuer *ca, const ca_issuer *signer,
                          long at) {
  uint8_t *der = OPENSSL_memdup(ca->der, ca->der_len);
  CHECK(der != NULL);
  const size_t pos = at < 0 ? ca->der_len - (size_t)(-at) : (size_t)at;
  der[pos] ^= 0x01;
  ca_x509 x;
  int ok = ca_x509_parse(&x, der, ca->der_len) &&
           ca_x509_verify_signed_by(&x, signer->key);
  OPENSSL_free(der);
  return ok;
}

TEST(a_changed_byte_does_not_verify) {
  const ca_issuer *rsa = find("rsa-issuing"), *rsa_root = find("rsa-root");
  const ca_issuer *ec = find("ec-issuing"), *ec_root = find("ec-root");
  // In the signature (the last bytes of an RSA signature are its value;
  // of an ECDSA one, the s INTEGER).
  CHECK(!verify_changed(rsa, rsa_root, -3));
  CHECK(!verify_changed(ec, ec_root, -3));
  // In the TBSCertificate (a byte of the serial number, well inside).
  const size_t serial_at = (size_t)(CBS_data(&rsa->cert.serial) - rsa->der);
  CHECK(!verify_changed(rsa, rsa_root, (long)serial_at + 2));
  const size_t ec_serial_at = (size_t)(CBS_data(&ec->cert.serial) - ec->der);
  CHECK(!verify_changed(ec, ec_root, (long)ec_serial_at + 2));
}

int main(void) {
  ca_authority_config config;
  ca_authority_config_init(&config);
  if (!ca_authority_new_ephemeral(&config, &authority)) {
    return 1;
  }
  RUN(each_ca_verifies_with_its_signers_key);
  RUN(another_key_or_type_does_not_verify);
  RUN(a_changed_byte_does_not_verify);
  ca_authority_free(authority);
  return test_summary();
}
