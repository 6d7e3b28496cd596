// Unit tests of ca/policy/issue_limits.c and of the run-time limits where ca/
// applies them: the ranges of ca_issue_limits, ca_csr_decode_max and
// ca_san_parse_max at and past their limits, and an ephemeral authority
// with small limits refusing a client's CSR for its size and its SANs, and
// a generated key for its SANs but not for the size of the request pki
// makes itself.
#include <openssl/bytestring.h>
#include <openssl/mem.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ca/issue/authority.h"
#include "ca/issue/issue.h"
#include "ca/limits.h"
#include "ca/policy/issue_limits.h"
#include "ca/x509/csr.h"
#include "ca/x509/san.h"
#include "tests/support/csr_maker.h"
#include "tests/support/test.h"

TEST(ranges) {
  ca_issue_limits l;
  ca_issue_limits_init(&l);
  CHECK_EQ_INT(l.csr_bytes, CA_LIMIT_CSR_BYTES);
  CHECK_EQ_INT(l.san_count, CA_LIMIT_SAN_COUNT);
  CHECK(ca_issue_limits_check(&l));
  l.csr_bytes = CA_LIMIT_CSR_BYTES_MIN;
  l.san_count = 1;
  CHECK(ca_issue_limits_check(&l));
  l.csr_bytes = CA_LIMIT_CSR_BYTES_MIN - 1;
  CHECK(!ca_issue_limits_check(&l));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_CONFIG);
  l.csr_bytes = CA_LIMIT_CSR_BYTES + 1;
  CHECK(!ca_issue_limits_check(&l));
  l.csr_bytes = 0;  // the ceiling
  l.san_count = CA_LIMIT_SAN_COUNT + 1;
  CHECK(!ca_issue_limits_check(&l));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_CONFIG);
  // What is applied never passes the ceilings, whatever the struct says.
  l.csr_bytes = 0;
  l.san_count = 0;
  CHECK_EQ_INT(ca_issue_limits_csr_bytes(&l), CA_LIMIT_CSR_BYTES);
  CHECK_EQ_INT(ca_issue_limits_san_count(&l), CA_LIMIT_SAN_COUNT);
  l.csr_bytes = 10 * CA_LIMIT_CSR_BYTES;
  l.san_count = 10 * CA_LIMIT_SAN_COUNT;
  CHECK_EQ_INT(ca_issue_limits_csr_bytes(&l), CA_LIMIT_CSR_BYTES);
  CHECK_EQ_INT(ca_issue_limits_san_count(&l), CA_LIMIT_SAN_COUNT);
  l.csr_bytes = 700;
  l.san_count = 3;
  CHECK_EQ_INT(ca_issue_limits_csr_bytes(&l), 700);
  CHECK_EQ_INT(ca_issue_limits_san_count(&l), 3);
}

TEST(csr_decode_max) {
  const test_csr_spec spec = {.key = "EC-P256", .subject = "/CN=a.example.com"};
  size_t len;
  uint8_t *der = test_make_csr(&spec, &len, NULL);
  CHECK(der != NULL);
  const uint8_t *out;
  size_t out_len;
  uint8_t *owned;
  // DER: at the limit it passes, one byte under it is refused.
  CHECK(ca_csr_decode_max(der, len, len, &out, &out_len, &owned));
  CHECK(out == der && out_len == len && owned == NULL);
  CHECK(!ca_csr_decode_max(der, len, len - 1, &out, &out_len, &owned));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_CSR_TOO_LARGE);
  // PEM: the limit is on the DER inside.
  char *pem = test_pem_csr(der, len);
  CHECK(pem != NULL);
  CHECK(ca_csr_decode_max((const uint8_t *)pem, strlen(pem), len, &out,
                          &out_len, &owned));
  CHECK_EQ_INT(out_len, len);
  OPENSSL_free(owned);
  CHECK(!ca_csr_decode_max((const uint8_t *)pem, strlen(pem), len - 1, &out,
                           &out_len, &owned));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_CSR_TOO_LARGE);
  // 0 and values past the ceiling mean the ceiling.
  CHECK(ca_csr_decode_max(der, len, 0, &out, &out_len, &owned));
  uint8_t *big = calloc(1, CA_LIMIT_CSR_BYTES + 1);
  CHECK(big != NULL);
  big[0] = 0x30;
  CHECK(!ca_csr_decode_max(big, CA_LIMIT_CSR_BYTES + 1, 2 * CA_LIMIT_CSR_BYTES,
                           &out, &out_len, &owned));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_CSR_TOO_LARGE);
  free(big);
  OPENSSL_free(pem);
  OPENSSL_free(der);
}

// general_names encodes |n| dNSNames h0.example.com, h1.example.com, ...
static size_t general_names(size_t n, uint8_t *out, size_t out_cap) {
  // |gn| outlives the loop: |seq| keeps a pointer to its last child and
  // flushes it at the next CBB_add_asn1 and at CBB_finish.
  CBB cbb, seq, gn;
  CHECK(CBB_init_fixed(&cbb, out, out_cap));
  CHECK(CBB_add_asn1(&cbb, &seq, CBS_ASN1_SEQUENCE));
  for (size_t i = 0; i < n; i++) {
    char name[32];
    const int len = snprintf(name, sizeof(name), "h%zu.example.com", i);
    CHECK(CBB_add_asn1(&seq, &gn, CBS_ASN1_CONTEXT_SPECIFIC | CA_SAN_DNS));
    CHECK(CBB_add_bytes(&gn, (const uint8_t *)name, (size_t)len));
  }
  size_t len;
  CHECK(CBB_finish(&cbb, NULL, &len));
  return len;
}

TEST(san_parse_max) {
  static uint8_t der[64 * (CA_LIMIT_SAN_COUNT + 1)];
  ca_san_list *list = malloc(sizeof(*list));
  CHECK(list != NULL);
  CBS cbs;
  CBS_init(&cbs, der, general_names(3, der, sizeof(der)));
  CHECK(ca_san_parse_max(list, &cbs, 3));
  CHECK_EQ_INT(list->count, 3);
  CHECK(!ca_san_parse_max(list, &cbs, 2));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_SAN_TOO_MANY);
  CHECK(strstr(ca_err_get()->message, "more than 2 ") != NULL);
  // 0 and values past the ceiling mean the ceiling: the size of the list.
  CBS_init(&cbs, der, general_names(CA_LIMIT_SAN_COUNT + 1, der, sizeof(der)));
  CHECK(!ca_san_parse_max(list, &cbs, 0));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_SAN_TOO_MANY);
  CHECK(!ca_san_parse_max(list, &cbs, 1000));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_SAN_TOO_MANY);
  free(list);
}

static ca_authority *authority;

static ca_err_code sign_code(const test_csr_spec *spec, size_t *out_len) {
  size_t len;
  uint8_t *der = test_make_csr(spec, &len, NULL);
  CHECK(der != NULL);
  *out_len = len;
  ca_issue_request req = {
      .profile = "tomcat-ECDSA", .csr = der, .csr_len = len};
  ca_issued out;
  const int ok =
      ca_issue_sign(authority, NULL, &req, (int64_t)time(NULL), &out);
  const ca_err_code code = ok ? CA_OK : out.err.code;
  CHECK(ok == (code == CA_OK));
  ca_issued_cleanup(&out);
  OPENSSL_free(der);
  return code;
}

TEST(authority_applies_its_limits) {
  // Two names pass and three do not; then a request just over the size.
  const test_csr_spec two = {.key = "EC-P256",
                             .subject = "/CN=a.example.com",
                             .sans = "DNS:a.example.com,DNS:b.example.com"};
  const test_csr_spec three = {
      .key = "EC-P256",
      .subject = "/CN=a.example.com",
      .sans = "DNS:a.example.com,DNS:b.example.com,DNS:c.example.com"};
  size_t len_two, len_three;
  CHECK_EQ_INT(sign_code(&two, &len_two), CA_OK);
  CHECK_EQ_INT(sign_code(&three, &len_three), CA_ERR_SAN_TOO_MANY);
  CHECK(len_three > len_two);
  // Each call makes a new key: an ECDSA signature varies by a few bytes.
  size_t len;
  authority->limits.csr_bytes = len_two - 16;
  CHECK_EQ_INT(sign_code(&two, &len), CA_ERR_CSR_TOO_LARGE);
  authority->limits.csr_bytes = len_two + 16;
  CHECK_EQ_INT(sign_code(&two, &len), CA_OK);

  // A generated key: the SAN limit holds, checked before a key is made;
  // the request pki makes itself is not held to the client CSR limit.
  authority->limits.csr_bytes = CA_LIMIT_CSR_BYTES_MIN;
  ca_key_spec key;
  CHECK(ca_key_spec_parse(&key, "EC-P256"));
  const ca_name_fields subject = {.common_name = "g.example.com"};
  const char *names[] = {"g.example.com", "h.example.com", "i.example.com"};
  for (size_t n = 2; n <= 3; n++) {
    ca_issue_request req = {.profile = "tomcat-ECDSA",
                            .generate = &key,
                            .subject = &subject,
                            .sans = names,
                            .san_count = n};
    ca_issued out;
    const int ok = ca_issue_generate(authority, NULL, NULL, &req,
                                     (int64_t)time(NULL), &out);
    if (n == 2 && !ok) {
      fprintf(stderr, "generate: %s\n", out.err.message);
    }
    CHECK_EQ_INT(ok, n == 2);
    CHECK_EQ_INT(out.err.code, n == 2 ? CA_OK : CA_ERR_SAN_TOO_MANY);
    ca_issued_cleanup(&out);
  }
}

int main(void) {
  RUN(ranges);
  RUN(csr_decode_max);
  RUN(san_parse_max);
  ca_authority_config config;
  ca_authority_config_init(&config);
  config.limits.san_count = 2;
  if (!ca_authority_new_ephemeral(&config, &authority)) {
    fprintf(stderr, "no authority: %s\n", ca_err_get()->message);
    return 1;
  }
  RUN(authority_applies_its_limits);
  ca_authority_free(authority);
  return test_summary();
}
