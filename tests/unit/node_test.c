// Unit tests of ca/policy/node.c (what a node registration accepts, the
// product rules of multi-server certificates) and of
// ca_bulk_share_entries (ca/exchange/bulk.c: a shared certificate handed
// to every node it names).
#include <openssl/ec_key.h>
#include <openssl/evp.h>
#include <openssl/mem.h>
#include <openssl/nid.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca/exchange/bulk.h"
#include "ca/policy/node.h"
#include "tests/support/test.h"

static int make(ca_node *out, const char *fqdn, const char *product,
                const char *role) {
  return ca_node_make("alpha", fqdn, NULL, product, role, NULL, 0, out);
}

TEST(node_make_checks_every_field) {
  ca_node n;
  const char *const addresses[] = {"10.0.0.1", "2001:DB8:0:0::1"};
  CHECK(ca_node_make("alpha", "CUCM1.Example.COM", NULL, "cucm", "Publisher",
                     addresses, 2, &n));
  CHECK_EQ_STR(n.fqdn, "cucm1.example.com");
  CHECK_EQ_STR(n.short_name, "cucm1");
  CHECK_EQ_STR(n.role, "publisher");
  CHECK_EQ_STR(ca_product_name(n.product), "CUCM");
  CHECK_EQ_INT(n.n_addresses, 2);
  CHECK_EQ_STR(n.addresses[1], "2001:db8::1");
  CHECK(ca_node_make("alpha", "imp1.example.com", "IMPPUB", "IMP", "publisher",
                     NULL, 0, &n));
  CHECK_EQ_STR(n.short_name, "imppub");
  CHECK_EQ_STR(ca_product_name(n.product), "IM&P");
  CHECK(make(&n, "ms1.example.com", "MediaSense", ""));
  CHECK(make(&n, "uccx1.example.com", "UCCX", "1"));

  static const struct {
    const char *cluster, *fqdn, *short_name, *product, *role, *address;
  } kRefused[] = {
      {"", "a.example.com", NULL, "CUCM", "publisher", NULL},
      {"a/b", "a.example.com", NULL, "CUCM", "publisher", NULL},
      {"alpha", "cucm1", NULL, "CUCM", "publisher", NULL},
      {"alpha", "a_b.example.com", NULL, "CUCM", "publisher", NULL},
      {"alpha", "*.example.com", NULL, "CUCM", "publisher", NULL},
      {"alpha", "a.example.com.", NULL, "CUCM", "publisher", NULL},
      {"alpha", "-a.example.com", NULL, "CUCM", "publisher", NULL},
      {"alpha", "", NULL, "CUCM", "publisher", NULL},
      {"alpha", "a.example.com", "a.b", "CUCM", "publisher", NULL},
      {"alpha", "a.example.com", NULL, "Webex", "", NULL},
      {"alpha", "a.example.com", NULL, "CUCM", "", NULL},
      {"alpha", "a.example.com", NULL, "CUCM", "primary", NULL},
      {"alpha", "a.example.com", NULL, "UCCX", "3", NULL},
      {"alpha", "a.example.com", NULL, "MediaSense", "publisher", NULL},
      {"alpha", "a.example.com", NULL, "UCCE", "", "300.1.1.1"},
      {"alpha", "a.example.com", NULL, "UCCE", "", "10.0.0.1/24"},
      {"alpha", "a.example.com", NULL, "UCCE", "", "host"},
  };
  for (size_t i = 0; i < sizeof(kRefused) / sizeof(kRefused[0]); i++) {
    const char *a[1] = {kRefused[i].address};
    ca_err_clear();
    CHECK(!ca_node_make(kRefused[i].cluster, kRefused[i].fqdn,
                        kRefused[i].short_name, kRefused[i].product,
                        kRefused[i].role, a, kRefused[i].address != NULL, &n));
    CHECK_EQ_INT(ca_err_get()->code, CA_ERR_PARAMETER_INVALID);
  }
  // Too many addresses, and one given twice.
  const char *many[CA_NODE_MAX_ADDRESSES + 1];
  for (size_t i = 0; i <= CA_NODE_MAX_ADDRESSES; i++) {
    many[i] = "10.0.0.1";
  }
  CHECK(!ca_node_make("alpha", "a.example.com", NULL, "UCCE", "", many,
                      CA_NODE_MAX_ADDRESSES + 1, &n));
  CHECK(!ca_node_make("alpha", "a.example.com", NULL, "UCCE", "", many, 2, &n));
}

// A cluster of every kind.
static size_t registry(ca_node *nodes) {
  size_t n = 0;
  CHECK(make(&nodes[n++], "cucmsub2.example.com", "CUCM", "subscriber"));
  CHECK(make(&nodes[n++], "cucmpub.example.com", "CUCM", "publisher"));
  CHECK(make(&nodes[n++], "cucmsub1.example.com", "CUCM", "subscriber"));
  CHECK(make(&nodes[n++], "imppub.example.com", "IM&P", "publisher"));
  CHECK(make(&nodes[n++], "uccx2.example.com", "UCCX", "2"));
  CHECK(make(&nodes[n++], "uccx1.example.com", "UCCX", "1"));
  CHECK(make(&nodes[n++], "ms1.example.com", "MediaSense", ""));
  CHECK(make(&nodes[n++], "ms2.example.com", "MediaSense", ""));
  CHECK(make(&nodes[n++], "sm1.example.com", "SocialMiner", ""));
  CHECK(make(&nodes[n++], "sm2.example.com", "SocialMiner", ""));
  CHECK(make(&nodes[n++], "fin2.example.com", "Finesse", "secondary"));
  CHECK(make(&nodes[n++], "fin1.example.com", "Finesse", "primary"));
  return n;
}

static void expect_sans(const ca_multi_server *m, const char *const *want,
                        size_t n) {
  CHECK_EQ_INT(m->n_sans, n);
  for (size_t i = 0; i < n && i < m->n_sans; i++) {
    CHECK_EQ_STR(m->sans[i], want[i]);
  }
  if (n > 0) {
    CHECK_EQ_STR(m->common_name, want[0]);
  }
}

TEST(multi_server_product_rules) {
  ca_node nodes[16];
  const size_t n = registry(nodes);
  ca_multi_server *m = calloc(1, sizeof(*m));
  CHECK(m != NULL);
  if (m == NULL) {
    return;
  }
  ca_product p;
  CHECK(ca_product_parse("CUCM", &p));
  CHECK(ca_multi_server_plan(nodes, n, "tomcat", p, m));
  static const char *const kTomcat[] = {
      "cucmpub-ms.example.com", "cucmpub.example.com", "cucmsub1.example.com",
      "cucmsub2.example.com", "imppub.example.com"};
  expect_sans(m, kTomcat, 5);
  CHECK(ca_multi_server_plan(nodes, n, "callmanager-ecdsa", p, m));
  static const char *const kCm[] = {
      "cucmpub-ms.example.com", "cucmpub.example.com", "cucmsub1.example.com",
      "cucmsub2.example.com"};
  expect_sans(m, kCm, 4);
  // IM&P asks: the same nodes, its publisher's name first.
  CHECK(ca_product_parse("IM&P", &p));
  CHECK(ca_multi_server_plan(nodes, n, "tomcat-ECDSA", p, m));
  CHECK_EQ_STR(m->common_name, "imppub-ms.example.com");
  CHECK_EQ_STR(m->sans[1], "imppub.example.com");
  CHECK_EQ_INT(m->n_nodes, 4);
  CHECK(!ca_multi_server_plan(nodes, n, "CallManager", p, m));
  // UCCX: nodes 1 and 2.
  CHECK(ca_product_parse("UCCX", &p));
  CHECK(ca_multi_server_plan(nodes, n, "tomcat", p, m));
  static const char *const kUccx[] = {"uccx1-ms.example.com",
                                      "uccx1.example.com", "uccx2.example.com"};
  expect_sans(m, kUccx, 3);
  CHECK(!ca_multi_server_plan(nodes, n, "CallManager", p, m));
  CHECK(ca_product_parse("Finesse", &p));
  CHECK(ca_multi_server_plan(nodes, n, "tomcat", p, m));
  CHECK_EQ_STR(m->common_name, "fin1-ms.example.com");
  // None for MediaSense and SocialMiner; none for other profiles.
  static const char *const kNone[] = {"MediaSense", "SocialMiner", "UCCE",
                                      "CUC", "CER"};
  for (size_t i = 0; i < sizeof(kNone) / sizeof(kNone[0]); i++) {
    CHECK(ca_product_parse(kNone[i], &p));
    ca_err_clear();
    CHECK(!ca_multi_server_plan(nodes, n, "tomcat", p, m));
    CHECK_EQ_INT(ca_err_get()->code, CA_ERR_PARAMETER_INVALID);
  }
  CHECK(ca_product_parse("CUCM", &p));
  CHECK(!ca_multi_server_plan(nodes, n, "ipsec", p, m));
  CHECK(!ca_multi_server_plan(nodes, n, "CAPF", p, m));
  CHECK(!ca_multi_server_plan(nodes, n, "TVS", p, m));
  // One node is no multi-server certificate.
  CHECK(!ca_multi_server_plan(nodes, 1, "tomcat", p, m));
  free(m);
}

// san_names makes the GeneralNames of |sans|, dNSNames separated by ',';
// the caller frees them.
static GENERAL_NAMES *san_names(const char *sans) {
  GENERAL_NAMES *names = GENERAL_NAMES_new();
  char copy[512];
  snprintf(copy, sizeof(copy), "%s", sans);
  for (char *save = NULL, *name = strtok_r(copy, ",", &save);
       names != NULL && name != NULL; name = strtok_r(NULL, ",", &save)) {
    GENERAL_NAME *gen = GENERAL_NAME_new();
    ASN1_IA5STRING *ia5 = ASN1_IA5STRING_new();
    if (gen == NULL || ia5 == NULL || !ASN1_STRING_set(ia5, name, -1)) {
      GENERAL_NAME_free(gen);
      ASN1_IA5STRING_free(ia5);
      GENERAL_NAMES_free(names);
      return NULL;
    }
    GENERAL_NAME_set0_value(gen, GEN_DNS, ia5);
    if (!sk_GENERAL_NAME_push(names, gen)) {
      GENERAL_NAME_free(gen);
      GENERAL_NAMES_free(names);
      return NULL;
    }
  }
  return names;
}

// cert_with_sans makes a certificate whose subjectAltName holds the
// dNSNames |sans| ("a,b"); the caller frees the DER with OPENSSL_free.
static uint8_t *cert_with_sans(const char *sans, size_t *out_len) {
  EVP_PKEY *key = EVP_PKEY_new();
  EC_KEY *ec = EC_KEY_new_by_curve_name(NID_X9_62_prime256v1);
  X509 *x = X509_new();
  GENERAL_NAMES *names = san_names(sans);
  uint8_t *der = NULL;
  *out_len = 0;
  if (key == NULL || ec == NULL || x == NULL || names == NULL ||
      !EC_KEY_generate_key(ec) || !EVP_PKEY_assign_EC_KEY(key, ec)) {
    goto done;
  }
  ec = NULL;
  if (!X509_set_version(x, X509_VERSION_3) ||
      !ASN1_INTEGER_set(X509_get_serialNumber(x), 1) ||
      !X509_gmtime_adj(X509_getm_notBefore(x), 0) ||
      !X509_gmtime_adj(X509_getm_notAfter(x), 3600) ||
      !X509_set_pubkey(x, key) ||
      !X509_add1_ext_i2d(x, NID_subject_alt_name, names, 0, 0) ||
      !X509_sign(x, key, EVP_sha256())) {
    goto done;
  }
  const int len = i2d_X509(x, &der);
  *out_len = len > 0 ? (size_t)len : 0;
done:
  GENERAL_NAMES_free(names);
  EC_KEY_free(ec);
  EVP_PKEY_free(key);
  X509_free(x);
  return der;
}

TEST(bulk_share_entries) {
  ca_node nodes[16];
  const size_t n = registry(nodes);
  size_t shared_len = 0, own_len = 0, other_len = 0;
  uint8_t *shared = cert_with_sans(
      "cucmpub-ms.example.com,CUCMPUB.example.com,"
      "cucmsub1.example.com,unknown.example.com",
      &shared_len);
  uint8_t *own = cert_with_sans("cucmsub1.example.com", &own_len);
  uint8_t *other = cert_with_sans("uccx1.example.com", &other_len);
  CHECK(shared != NULL && own != NULL && other != NULL);
  const ca_bundle_entry in[] = {
      {.cluster = "alpha",
       .node = "cucmpub-ms.example.com",
       .purpose = "tomcat",
       .der = shared,
       .der_len = shared_len},
      {.cluster = "alpha",
       .node = "cucmsub1.example.com",
       .purpose = "tomcat",
       .der = own,
       .der_len = own_len},
      {.cluster = "alpha",
       .node = "uccx1.example.com",
       .purpose = "tomcat",
       .der = other,
       .der_len = other_len},
  };
  // The shared certificate is newer than cucmsub1's own.
  const int64_t not_before[] = {2000, 1000, 1000};
  ca_bundle_entry *out = NULL;
  size_t out_n = 0;
  CHECK(ca_bulk_share_entries(in, not_before, 3, nodes, n, &out, &out_n));
  CHECK_EQ_INT(out_n, 3);
  if (out_n == 3) {
    CHECK_EQ_STR(out[0].node, "cucmpub.example.com");
    CHECK(out[0].der == shared);
    CHECK_EQ_STR(out[1].node, "cucmsub1.example.com");
    CHECK(out[1].der == shared);
    CHECK_EQ_STR(out[2].node, "uccx1.example.com");
    CHECK(out[2].der == other);
  }
  free(out);
  // cucmsub1's own certificate is the newer: it stays its current one.
  const int64_t own_newer[] = {1000, 2000, 1000};
  CHECK(ca_bulk_share_entries(in, own_newer, 3, nodes, n, &out, &out_n));
  CHECK_EQ_INT(out_n, 3);
  if (out_n == 3) {
    CHECK(out[1].der == own);
  }
  free(out);
  // Without a registry, entries stay as they are.
  CHECK(ca_bulk_share_entries(in, not_before, 3, nodes, 0, &out, &out_n));
  CHECK_EQ_INT(out_n, 3);
  free(out);
  // An unreadable certificate.
  ca_bundle_entry bad = in[0];
  static const uint8_t kJunk[] = {0x30, 0x03, 0x02, 0x01, 0x01};
  bad.der = kJunk;
  bad.der_len = sizeof(kJunk);
  ca_err_clear();
  CHECK(!ca_bulk_share_entries(&bad, not_before, 1, nodes, n, &out, &out_n));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_CERT_MALFORMED);
  OPENSSL_free(shared);
  OPENSSL_free(own);
  OPENSSL_free(other);
}

int main(void) {
  RUN(node_make_checks_every_field);
  RUN(multi_server_product_rules);
  RUN(bulk_share_entries);
  return test_summary();
}
