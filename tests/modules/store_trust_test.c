// ca/store/store_trust.c against a real PostgreSQL: one certificate per
// subject and store, the later notBefore winning and the existing one kept
// on a tie (ARCHITECTURE.md, "Trust stores"); the same certificate twice is
// one entry whose revocation state and origin are refreshed; stores are
// apart; deletion; a rolled back put leaves nothing; the fingerprint look-up
// of issued certificates.
#include <openssl/bytestring.h>
#include <openssl/ec_key.h>
#include <openssl/evp.h>
#include <openssl/mem.h>
#include <openssl/nid.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ca/policy/trust.h"
#include "ca/store/store.h"
#include "tests/modules/fixture.h"
#include "tests/support/test.h"

static mod_ca ca;

// make_ca returns a self-signed CA certificate (DER, OPENSSL_free) named
// CN=|cn|, valid from |not_before| for a year, with a key of its own.
static uint8_t *make_ca(const char *cn, int64_t not_before, size_t *len) {
  EC_KEY *ec = EC_KEY_new_by_curve_name(NID_X9_62_prime256v1);
  EVP_PKEY *key = EVP_PKEY_new();
  X509 *x = X509_new();
  X509_NAME *name = X509_NAME_new();
  BASIC_CONSTRAINTS *bc = BASIC_CONSTRAINTS_new();
  uint8_t *der = NULL;
  int ok = ec != NULL && key != NULL && x != NULL && name != NULL &&
           bc != NULL && EC_KEY_generate_key(ec) &&
           EVP_PKEY_assign_EC_KEY(key, ec);
  if (ok) {
    ec = NULL;  // owned by |key|
    bc->ca = 1;
  }
  ok = ok &&
       X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const uint8_t *)cn,
                                  -1, -1, 0) &&
       X509_set_version(x, X509_VERSION_3) &&
       ASN1_INTEGER_set(X509_get_serialNumber(x), 7) &&
       X509_set_subject_name(x, name) && X509_set_issuer_name(x, name) &&
       ASN1_TIME_set(X509_getm_notBefore(x), (time_t)not_before) != NULL &&
       ASN1_TIME_set(X509_getm_notAfter(x),
                     (time_t)(not_before + 365 * 86400)) != NULL &&
       X509_set_pubkey(x, key) &&
       X509_add1_ext_i2d(x, NID_basic_constraints, bc, 1, 0) &&
       X509_sign(x, key, EVP_sha256());
  int n = ok ? i2d_X509(x, &der) : -1;
  *len = n > 0 ? (size_t)n : 0;
  EC_KEY_free(ec);
  EVP_PKEY_free(key);
  X509_free(x);
  X509_NAME_free(name);
  BASIC_CONSTRAINTS_free(bc);
  return n > 0 ? der : NULL;
}

// A certificate of subject |cn| read as the trust code reads uploads.
static int trust_cert(const char *cn, int64_t not_before, ca_trust_cert *out) {
  size_t len = 0;
  uint8_t *der = make_ca(cn, not_before, &len);
  memset(out, 0, sizeof(*out));
  const int ok = der != NULL && ca_trust_cert_read(der, len, out);
  OPENSSL_free(der);
  return ok;
}

// put stores |cert| in |store| in a transaction of its own and returns the
// outcome, or -1 when it failed.
static int put(const char *store, const ca_trust_cert *cert,
               uint8_t other[CA_TRUST_FINGERPRINT_LEN]) {
  ca_trust_put p = {.store = store,
                    .cert = cert,
                    .source = "upload",
                    .added_by = "module-test"};
  ca_store_tx *tx = NULL;
  ca_trust_outcome outcome;
  if (!ca_store_begin(ca.store, &tx)) {
    return -1;
  }
  if (!ca_store_tx_put_trust(tx, &p, &outcome, other) ||
      !ca_store_commit(&tx)) {
    ca_store_rollback(tx);
    return -1;
  }
  return (int)outcome;
}

// entries lists |store| (NULL: all) into |rows|; -1 on error.
static int entries(const char *store, const uint8_t *fingerprint,
                   ca_trust_row **rows) {
  size_t n = 0;
  *rows = NULL;
  if (!ca_store_list_trust(ca.store, store, fingerprint, 1, rows, &n)) {
    return -1;
  }
  return (int)n;
}

TEST(one_certificate_per_subject_the_later_not_before_wins) {
  const int64_t now = (int64_t)time(NULL);
  ca_trust_cert old_cert, new_cert, tie_cert;
  CHECK(trust_cert("Acme Root", now - 10 * 86400, &old_cert));
  CHECK(trust_cert("Acme Root", now - 86400, &new_cert));
  CHECK(trust_cert("Acme Root", now - 86400, &tie_cert));
  uint8_t other[CA_TRUST_FINGERPRINT_LEN];
  const char *tomcat = ca_trust_store_find("tomcat-trust");
  CHECK(tomcat != NULL);

  CHECK_EQ_INT(put(tomcat, &old_cert, other), CA_TRUST_ADDED);
  CHECK_EQ_INT(put(tomcat, &old_cert, other), CA_TRUST_UNCHANGED);
  memset(other, 0, sizeof(other));
  CHECK_EQ_INT(put(tomcat, &new_cert, other), CA_TRUST_REPLACED);
  CHECK_EQ_BYTES(other, sizeof(other), old_cert.fingerprint,
                 CA_TRUST_FINGERPRINT_LEN);
  memset(other, 0, sizeof(other));
  CHECK_EQ_INT(put(tomcat, &old_cert, other), CA_TRUST_KEPT);
  CHECK_EQ_BYTES(other, sizeof(other), new_cert.fingerprint,
                 CA_TRUST_FINGERPRINT_LEN);
  // Same notBefore: the one there stays.
  CHECK_EQ_INT(put(tomcat, &tie_cert, other), CA_TRUST_KEPT);

  ca_trust_row *rows = NULL;
  CHECK_EQ_INT(entries(tomcat, NULL, &rows), 1);
  if (rows != NULL) {
    CHECK_EQ_BYTES(rows[0].fingerprint, CA_TRUST_FINGERPRINT_LEN,
                   new_cert.fingerprint, CA_TRUST_FINGERPRINT_LEN);
    CHECK_EQ_BYTES(rows[0].der, rows[0].der_len, new_cert.der,
                   new_cert.der_len);
    CHECK_EQ_STR(rows[0].store, "tomcat-trust");
    CHECK_EQ_STR(rows[0].common_name, "Acme Root");
    CHECK_EQ_STR(rows[0].key_type, "EC");
    CHECK_EQ_INT(rows[0].key_bits, 256);
    CHECK_EQ_INT(rows[0].is_ca, 1);
    CHECK_EQ_INT(rows[0].not_before, now - 86400);
    CHECK_EQ_STR(rows[0].source, "upload");
    CHECK_EQ_STR(rows[0].added_by, "module-test");
    CHECK_EQ_INT(rows[0].revoked_at, 0);
  }
  ca_trust_rows_free(rows, 1);

  // Another store is another store.
  CHECK_EQ_INT(put("CallManager-trust", &old_cert, other), CA_TRUST_ADDED);
  CHECK_EQ_INT(entries(NULL, NULL, &rows), 2);
  ca_trust_rows_free(rows, 2);
  CHECK_EQ_INT(entries(NULL, old_cert.fingerprint, &rows), 1);
  if (rows != NULL) {
    CHECK_EQ_STR(rows[0].store, "CallManager-trust");
  }
  ca_trust_rows_free(rows, 1);
  // Listings of certificates see them as trust entries.
  ca_cert_filter f = {.usage = CA_USAGE_TRUST, .limit = 10};
  ca_cert_row *certs = NULL;
  size_t n = 0;
  CHECK(ca_store_list_certificates(ca.store, &f, &certs, &n));
  CHECK_EQ_INT(n, 2);
  for (size_t i = 0; i < n; i++) {
    CHECK_EQ_INT(certs[i].trust, 1);
  }
  ca_cert_rows_free(certs, n);

  // Deleted once; the second time there is nothing.
  int found = -1;
  ca_store_tx *tx = NULL;
  CHECK(ca_store_begin(ca.store, &tx));
  CHECK(ca_store_tx_delete_trust(tx, tomcat, new_cert.fingerprint, &found));
  CHECK(ca_store_commit(&tx));
  CHECK_EQ_INT(found, 1);
  CHECK(ca_store_begin(ca.store, &tx));
  CHECK(ca_store_tx_delete_trust(tx, tomcat, new_cert.fingerprint, &found));
  CHECK(ca_store_commit(&tx));
  CHECK_EQ_INT(found, 0);
  CHECK_EQ_INT(entries(tomcat, NULL, &rows), 0);
  ca_trust_rows_free(rows, 0);
  // With the newer one gone, the older one is welcome again.
  CHECK_EQ_INT(put(tomcat, &old_cert, other), CA_TRUST_ADDED);

  ca_trust_cert_cleanup(&old_cert);
  ca_trust_cert_cleanup(&new_cert);
  ca_trust_cert_cleanup(&tie_cert);
}

TEST(the_same_certificate_again_refreshes_its_revocation_and_origin) {
  const int64_t now = (int64_t)time(NULL);
  ca_trust_cert cert;
  CHECK(trust_cert("Bulk Issuing CA", now - 5 * 86400, &cert));
  const char *store = "ipsec-trust";
  ca_trust_put p = {.store = store,
                    .cert = &cert,
                    .source = "bulk",
                    .cluster = "cluster-1",
                    .node = "cucm-pub",
                    .purpose = "ipsec",
                    .revoked_at = now - 3600,
                    .revocation_reason = 1,
                    .added_by = "importer"};
  ca_trust_outcome outcome;
  ca_store_tx *tx = NULL;
  CHECK(ca_store_begin(ca.store, &tx));
  CHECK(ca_store_tx_put_trust(tx, &p, &outcome, NULL));
  CHECK(ca_store_commit(&tx));
  CHECK_EQ_INT(outcome, CA_TRUST_ADDED);
  ca_trust_row *rows = NULL;
  CHECK_EQ_INT(entries(store, NULL, &rows), 1);
  if (rows != NULL) {
    CHECK_EQ_STR(rows[0].source, "bulk");
    CHECK_EQ_STR(rows[0].cluster, "cluster-1");
    CHECK_EQ_STR(rows[0].node, "cucm-pub");
    CHECK_EQ_STR(rows[0].purpose, "ipsec");
    CHECK_EQ_INT(rows[0].revoked_at, now - 3600);
    CHECK_EQ_INT(rows[0].revocation_reason, 1);
  }
  ca_trust_rows_free(rows, 1);

  // A source that knows nothing of revocation keeps what is recorded.
  p.revoked_at = 0;
  p.revocation_reason = 0;
  p.revocation_unknown = 1;
  CHECK(ca_store_begin(ca.store, &tx));
  CHECK(ca_store_tx_put_trust(tx, &p, &outcome, NULL));
  CHECK(ca_store_commit(&tx));
  CHECK_EQ_INT(outcome, CA_TRUST_UNCHANGED);
  CHECK_EQ_INT(entries(store, NULL, &rows), 1);
  if (rows != NULL) {
    CHECK_EQ_INT(rows[0].revoked_at, now - 3600);
  }
  ca_trust_rows_free(rows, 1);
  // One that says it is not revoked is believed.
  p.revocation_unknown = 0;
  CHECK(ca_store_begin(ca.store, &tx));
  CHECK(ca_store_tx_put_trust(tx, &p, &outcome, NULL));
  CHECK(ca_store_commit(&tx));
  CHECK_EQ_INT(entries(store, NULL, &rows), 1);
  if (rows != NULL) {
    CHECK_EQ_INT(rows[0].revoked_at, 0);
  }
  ca_trust_rows_free(rows, 1);
  ca_trust_cert_cleanup(&cert);
}

TEST(a_rolled_back_put_leaves_nothing) {
  ca_trust_cert cert;
  CHECK(trust_cert("Rolled Back CA", (int64_t)time(NULL) - 86400, &cert));
  ca_trust_put p = {.store = "CAPF-trust",
                    .cert = &cert,
                    .source = "upload",
                    .added_by = "module-test"};
  ca_trust_outcome outcome;
  ca_store_tx *tx = NULL;
  CHECK(ca_store_begin(ca.store, &tx));
  CHECK(ca_store_tx_put_trust(tx, &p, &outcome, NULL));
  CHECK_EQ_INT(outcome, CA_TRUST_ADDED);
  ca_store_rollback(tx);
  ca_trust_row *rows = NULL;
  CHECK_EQ_INT(entries("CAPF-trust", NULL, &rows), 0);
  ca_trust_rows_free(rows, 0);
  ca_trust_cert_cleanup(&cert);
}

TEST(issued_certificates_are_found_by_fingerprint) {
  ca_issued leaf;
  CHECK(mod_issue(&ca, "tomcat-ECDSA", "EC-P256", "fp.example.com", &leaf));
  uint8_t fp[CA_TRUST_FINGERPRINT_LEN];
  SHA256(leaf.der, leaf.der_len, fp);
  int found = -1;
  CHECK(ca_store_identity_fingerprint(ca.store, fp, &found));
  CHECK_EQ_INT(found, 1);
  fp[0] ^= 1;
  CHECK(ca_store_identity_fingerprint(ca.store, fp, &found));
  CHECK_EQ_INT(found, 0);
  ca_issued_cleanup(&leaf);
}

int main(void) {
  if (!mod_ca_open(&ca, "store-trust", 2) || !mod_ca_start_engine(&ca, 1)) {
    mod_ca_close(&ca);
    return 1;
  }
  RUN(one_certificate_per_subject_the_later_not_before_wins);
  RUN(the_same_certificate_again_refreshes_its_revocation_and_origin);
  RUN(a_rolled_back_put_leaves_nothing);
  RUN(issued_certificates_are_found_by_fingerprint);
  mod_ca_close(&ca);
  return test_summary();
}
