// Unit tests of api/server/bundle.c: entries are counted before protobuf-c
// allocates them, broken wire format is refused, and the view of a bundle
// fills in its cluster and checks version and status.
#include <openssl/mem.h>
#include <stdlib.h>
#include <string.h>

#include "api/server/bundle.h"
#include "ca/limits.h"
#include "tests/support/test.h"

static uint8_t *pack_bundle(const Pki__V1__Bundle *b, size_t *len) {
  *len = pki__v1__bundle__get_packed_size(b);
  uint8_t *buf = malloc(*len + 1);
  pki__v1__bundle__pack(b, buf);
  return buf;
}

TEST(entries_are_counted_before_decoding) {
  // CA_LIMIT_BUNDLE_ENTRIES + 1 empty entries: two bytes each on the wire.
  const size_t n = CA_LIMIT_BUNDLE_ENTRIES + 1;
  uint8_t *buf = malloc(2 * n);
  for (size_t i = 0; i < n; i++) {
    buf[2 * i] = 5 << 3 | 2;
    buf[2 * i + 1] = 0;
  }
  size_t bundles, entries;
  CHECK(!api_bundle_count(buf, 2 * n, 0, &bundles, &entries));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_OBJECT_TOO_LARGE);
  CHECK(api_bundle_unpack(buf, 2 * n) == NULL);
  CHECK(api_bundle_count(buf, 2 * (n - 1), 0, &bundles, &entries));
  CHECK_EQ_INT(entries, n - 1);
  // The same entries spread over two bundles of a ConsolidateRequest.
  free(buf);
  const size_t half = (n + 1) / 2;
  buf = malloc(2 * (2 * half + 8));
  size_t len = 0;
  for (int b = 0; b < 2; b++) {
    const size_t inner = 2 * half;
    buf[len++] = 1 << 3 | 2;
    buf[len++] = (uint8_t)(0x80 | (inner & 0x7f));
    buf[len++] = (uint8_t)(0x80 | ((inner >> 7) & 0x7f));
    buf[len++] = (uint8_t)(inner >> 14);
    for (size_t i = 0; i < half; i++) {
      buf[len++] = 5 << 3 | 2;
      buf[len++] = 0;
    }
  }
  CHECK(!api_bundle_count(buf, len, 1, &bundles, &entries));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_OBJECT_TOO_LARGE);
  free(buf);
}

TEST(crl_numbers_and_ca_certificates_count_as_entries) {
  // An --issued bundle's CRL numbers (field 9) and CA certificates (field
  // 7) are repeated messages and bytes protobuf-c allocates one by one.
  static const uint8_t kFields[] = {9, 7};
  for (size_t f = 0; f < sizeof(kFields); f++) {
    const size_t n = CA_LIMIT_BUNDLE_ENTRIES + 1;
    uint8_t *buf = malloc(2 * n);
    for (size_t i = 0; i < n; i++) {
      buf[2 * i] = (uint8_t)(kFields[f] << 3 | 2);
      buf[2 * i + 1] = 0;
    }
    size_t bundles, entries;
    CHECK(!api_bundle_count(buf, 2 * n, 0, &bundles, &entries));
    CHECK_EQ_INT(ca_err_get()->code, CA_ERR_OBJECT_TOO_LARGE);
    CHECK(api_bundle_count(buf, 2 * (n - 1), 0, &bundles, &entries));
    CHECK_EQ_INT(entries, n - 1);
    free(buf);
  }
}

TEST(broken_wire_format_is_refused) {
  const uint8_t truncated[] = {5 << 3 | 2, 10, 1, 2};
  const uint8_t group[] = {5 << 3 | 3};
  const uint8_t varint[] = {0x28, 0x80};
  size_t bundles, entries;
  CHECK(!api_bundle_count(truncated, sizeof(truncated), 0, &bundles, &entries));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_BUNDLE_MALFORMED);
  CHECK(!api_bundle_count(group, sizeof(group), 0, &bundles, &entries));
  CHECK(!api_bundle_count(varint, sizeof(varint), 0, &bundles, &entries));
  // Entries must be messages, not varints.
  const uint8_t number[] = {5 << 3 | 0, 1};
  CHECK(!api_bundle_count(number, sizeof(number), 0, &bundles, &entries));
}

TEST(the_view_fills_in_the_cluster_and_checks_the_entries) {
  uint8_t der[] = {0x30, 0x00};
  Pki__V1__BundleEntry e = PKI__V1__BUNDLE_ENTRY__INIT;
  e.node = "a1";
  e.purpose = "tomcat";
  e.certificate.data = der;
  e.certificate.len = sizeof(der);
  e.status = "good";
  Pki__V1__BundleEntry *ptrs[1] = {&e};
  Pki__V1__Bundle b = PKI__V1__BUNDLE__INIT;
  b.version = 1;
  b.cluster = "alpha";
  b.n_entries = 1;
  b.entries = ptrs;
  size_t len;
  uint8_t *buf = pack_bundle(&b, &len);
  Pki__V1__Bundle *u = api_bundle_unpack(buf, len);
  CHECK(u != NULL);
  ca_bundle_entry *entries = NULL;
  ca_bundle view;
  CHECK(u != NULL && api_bundle_view(u, &entries, &view));
  CHECK(view.n_entries == 1 && strcmp(entries[0].cluster, "alpha") == 0 &&
        !entries[0].revoked);
  OPENSSL_free(entries);
  pki__v1__bundle__free_unpacked(u, NULL);
  free(buf);
  e.status = "maybe";
  CHECK(!api_bundle_view(&b, &entries, &view));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_BUNDLE_MALFORMED);
  e.status = "revoked";  // without a time
  CHECK(!api_bundle_view(&b, &entries, &view));
  e.status = "good";
  b.version = 2;
  CHECK(!api_bundle_view(&b, &entries, &view));
  b.version = 1;
  b.cluster = "";
  CHECK(!api_bundle_view(&b, &entries, &view));  // no cluster at all
}

int main(void) {
  RUN(entries_are_counted_before_decoding);
  RUN(crl_numbers_and_ca_certificates_count_as_entries);
  RUN(broken_wire_format_is_refused);
  RUN(the_view_fills_in_the_cluster_and_checks_the_entries);
  return test_summary();
}
