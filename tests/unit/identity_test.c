// Unit tests of ca/policy/identity.c: purposes and names, finding the leaf
// of a registration, the chain kept, and the chain's verification against
// anchors (BoringSSL certificates made here: a root, an issuing CA, a leaf,
// a self-signed leaf and an unrelated root).
#include <openssl/evp.h>
#include <openssl/mem.h>
#include <openssl/nid.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ca/limits.h"
#include "ca/policy/identity.h"
#include "tests/support/test.h"

typedef struct made {
  EVP_PKEY *key;
  X509 *x;
  uint8_t *der;
  size_t len;
} made;

static EVP_PKEY *new_key(void) {
  EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_EC, NULL);
  EVP_PKEY *key = NULL;
  if (ctx == NULL || EVP_PKEY_keygen_init(ctx) <= 0 ||
      EVP_PKEY_CTX_set_ec_paramgen_curve_nid(ctx, NID_X9_62_prime256v1) <= 0 ||
      EVP_PKEY_keygen(ctx, &key) <= 0) {
    fprintf(stderr, "cannot make a key\n");
    exit(1);
  }
  EVP_PKEY_CTX_free(ctx);
  return key;
}

// make_cert makes a certificate for |cn|, a CA when |ca|, signed by |issuer|
// (self-signed when NULL), valid from |from| to |to| seconds from now.
static made make_cert(const char *cn, int ca, const made *issuer, long from,
                      long to) {
  made m = {new_key(), X509_new(), NULL, 0};
  X509_NAME *name = X509_NAME_new();
  BASIC_CONSTRAINTS *bc = BASIC_CONSTRAINTS_new();
  static long serial = 100;
  int ok = m.x != NULL && name != NULL && bc != NULL;
  bc->ca = ca ? 0xff : 0;
  ok = ok && X509_set_version(m.x, X509_VERSION_3) &&
       ASN1_INTEGER_set(X509_get_serialNumber(m.x), serial++) &&
       X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                  (const uint8_t *)cn, -1, -1, 0) &&
       X509_set_subject_name(m.x, name) &&
       X509_set_issuer_name(
           m.x, issuer != NULL ? X509_get_subject_name(issuer->x) : name) &&
       X509_gmtime_adj(X509_getm_notBefore(m.x), from) &&
       X509_gmtime_adj(X509_getm_notAfter(m.x), to) &&
       X509_set_pubkey(m.x, m.key) &&
       X509_add1_ext_i2d(m.x, NID_basic_constraints, bc, 1, 0) &&
       X509_sign(m.x, issuer != NULL ? issuer->key : m.key, EVP_sha256());
  const int len = ok ? i2d_X509(m.x, &m.der) : -1;
  X509_NAME_free(name);
  BASIC_CONSTRAINTS_free(bc);
  if (len <= 0) {
    fprintf(stderr, "cannot make a certificate\n");
    exit(1);
  }
  m.len = (size_t)len;
  return m;
}

static made root, issuing, leaf, self_leaf, other_root, expired_leaf;

static void made_free(made *m) {
  EVP_PKEY_free(m->key);
  X509_free(m->x);
  OPENSSL_free(m->der);
}

// pem_of writes |certs| as PEM blocks one after the other (OPENSSL_free).
static uint8_t *pem_of(const made *const *certs, size_t n, size_t *out_len) {
  BIO *bio = BIO_new(BIO_s_mem());
  CHECK(bio != NULL);
  for (size_t i = 0; i < n; i++) {
    CHECK(PEM_write_bio_X509(bio, certs[i]->x));
  }
  const uint8_t *data;
  size_t len;
  CHECK(BIO_mem_contents(bio, &data, &len));
  uint8_t *out = OPENSSL_memdup(data, len);
  CHECK(out != NULL);
  *out_len = len;
  BIO_free(bio);
  return out;
}

TEST(purposes_and_names) {
  CHECK_EQ_STR(ca_identity_purpose_find("TOMCAT-ecdsa"), "tomcat-ECDSA");
  CHECK_EQ_STR(ca_identity_purpose_find("callmanager"), "CallManager");
  CHECK_EQ_STR(ca_identity_purpose_find("ITLRecovery"), "ITLRecovery");
  CHECK(ca_identity_purpose_find("web") == NULL);
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_PARAMETER_INVALID);
  CHECK(ca_identity_node_check("cucm1.example.com"));
  CHECK(ca_identity_node_check("CUCM_2"));
  CHECK(!ca_identity_node_check(""));
  CHECK(!ca_identity_node_check("cucm 1"));
  CHECK(!ca_identity_node_check(".."));
  char longest[256];
  memset(longest, 'a', sizeof(longest));
  longest[253] = '\0';
  CHECK(ca_identity_node_check(longest));
  longest[253] = 'a';
  longest[254] = '\0';
  CHECK(!ca_identity_node_check(longest));
  CHECK(ca_identity_cluster_check(""));
  CHECK(ca_identity_cluster_check("clusterA"));
  CHECK(!ca_identity_cluster_check("cluster/A"));
}

TEST(finds_the_leaf) {
  // In any order: the leaf is the certificate that issued none of the
  // others.
  const made *chain[] = {&root, &leaf, &issuing};
  size_t len;
  uint8_t *pem = pem_of(chain, 3, &len);
  ca_identity_upload u;
  CHECK(ca_identity_parse(&u, pem, len));
  CHECK_EQ_INT(u.n, 3);
  CHECK_EQ_INT(u.leaf, 1);
  uint8_t *der;
  size_t der_len;
  CHECK(ca_identity_chain_der(&u, &der, &der_len));
  CHECK_EQ_INT(der_len, root.len + issuing.len);
  CHECK(memcmp(der, root.der, root.len) == 0);
  CHECK(memcmp(der + root.len, issuing.der, issuing.len) == 0);
  OPENSSL_free(der);
  ca_identity_upload_cleanup(&u);
  OPENSSL_free(pem);

  // A DER certificate alone, self-signed or not, is its own leaf.
  CHECK(ca_identity_parse(&u, self_leaf.der, self_leaf.len));
  CHECK_EQ_INT(u.n, 1);
  CHECK_EQ_INT(u.leaf, 0);
  CHECK(ca_identity_chain_der(&u, &der, &der_len));
  CHECK(der == NULL && der_len == 0);
  ca_identity_upload_cleanup(&u);

  // Two certificates, neither issued by the other: no single leaf.
  const made *two[] = {&leaf, &self_leaf};
  pem = pem_of(two, 2, &len);
  CHECK(!ca_identity_parse(&u, pem, len));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_CERT_MALFORMED);
  OPENSSL_free(pem);

  // More certificates than a chain has.
  const made *many[CA_LIMIT_IDENTITY_CERTS + 1];
  made extra[CA_LIMIT_IDENTITY_CERTS + 1];
  for (size_t i = 0; i <= CA_LIMIT_IDENTITY_CERTS; i++) {
    extra[i] = make_cert(i == 0 ? "chain 0" : "chain n", 1,
                         i == 0 ? NULL : &extra[i - 1], 0, 86400);
    many[i] = &extra[i];
  }
  pem = pem_of(many, CA_LIMIT_IDENTITY_CERTS + 1, &len);
  CHECK(!ca_identity_parse(&u, pem, len));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_OBJECT_TOO_LARGE);
  OPENSSL_free(pem);
  for (size_t i = 0; i <= CA_LIMIT_IDENTITY_CERTS; i++) {
    made_free(&extra[i]);
  }
}

// verify parses |certs| and verifies them at now against |anchors|.
static ca_identity_verdict verify(const made *const *certs, size_t n,
                                  const made *const *anchors, size_t n_a) {
  size_t len;
  uint8_t *pem = pem_of(certs, n, &len);
  ca_identity_upload u;
  CHECK(ca_identity_parse(&u, pem, len));
  const uint8_t *ders[4];
  size_t lens[4];
  for (size_t i = 0; i < n_a; i++) {
    ders[i] = anchors[i]->der;
    lens[i] = anchors[i]->len;
  }
  ca_identity_verdict v;
  CHECK(ca_identity_verify(&u, ders, lens, n_a, (int64_t)time(NULL), &v));
  ca_identity_upload_cleanup(&u);
  OPENSSL_free(pem);
  return v;
}

TEST(verification) {
  const made *with_chain[] = {&leaf, &issuing};
  const made *alone[] = {&leaf};
  const made *anchors_root[] = {&root};
  const made *anchors_issuing[] = {&issuing};
  const made *anchors_other[] = {&other_root};
  ca_identity_verdict v = verify(with_chain, 2, anchors_root, 1);
  CHECK(v.verified);
  CHECK(strstr(v.detail, "chains to") != NULL);
  CHECK(strstr(v.detail, "CN=Root") != NULL);
  // Without the issuing CA, the root alone cannot be reached...
  v = verify(alone, 1, anchors_root, 1);
  CHECK(!v.verified);
  CHECK(strstr(v.detail, "unable to get local issuer certificate") != NULL);
  // ...but an issuing CA in a store is an anchor by itself.
  v = verify(alone, 1, anchors_issuing, 1);
  CHECK(v.verified);
  v = verify(with_chain, 2, anchors_other, 1);
  CHECK(!v.verified);
  v = verify(with_chain, 2, NULL, 0);
  CHECK(!v.verified);
  // A peer's self-signed certificate is trusted when a store holds it.
  const made *self[] = {&self_leaf};
  v = verify(self, 1, self, 1);
  CHECK(v.verified);
  v = verify(self, 1, anchors_root, 1);
  CHECK(!v.verified);
  // Expired: recorded, not verified, and said so.
  const made *old[] = {&expired_leaf, &issuing};
  v = verify(old, 2, anchors_root, 1);
  CHECK(!v.verified);
  CHECK(strstr(v.detail, "expired") != NULL);
  // An anchor that does not parse is ignored.
  static const uint8_t kJunk[] = {0x30, 0x03, 0x02, 0x01, 0x01};
  ca_identity_upload u;
  CHECK(ca_identity_parse(&u, leaf.der, leaf.len));
  const uint8_t *ders[2] = {kJunk, issuing.der};
  const size_t lens[2] = {sizeof(kJunk), issuing.len};
  CHECK(ca_identity_verify(&u, ders, lens, 2, (int64_t)time(NULL), &v));
  CHECK(v.verified);
  ca_identity_upload_cleanup(&u);
}

int main(void) {
  root = make_cert("Root", 1, NULL, -3600, 86400 * 365);
  issuing = make_cert("Issuing", 1, &root, -3600, 86400 * 300);
  leaf = make_cert("cucm1.example.com", 0, &issuing, -3600, 86400 * 30);
  self_leaf = make_cert("cucm2.example.com", 0, NULL, -3600, 86400 * 30);
  other_root = make_cert("Other Root", 1, NULL, -3600, 86400 * 365);
  expired_leaf =
      make_cert("cucm3.example.com", 0, &issuing, -86400 * 10, -86400);
  RUN(purposes_and_names);
  RUN(finds_the_leaf);
  RUN(verification);
  made *all[] = {&root,      &issuing,    &leaf,
                 &self_leaf, &other_root, &expired_leaf};
  for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
    made_free(all[i]);
  }
  return test_summary();
}
