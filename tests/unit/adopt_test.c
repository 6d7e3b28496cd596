// Unit tests of ca/issue/adopt.c: the CAs of one (ephemeral) authority, their
// keys written into a data directory as pki writes them and their
// certificates in a PEM file, are adopted with pki's names, roles, parents,
// algorithms, serials, validity and DER; a chain file repeating its root is
// fine; a missing key, a key others may read, a certificate without a key,
// a key without a certificate and a file without certificates are refused.
#include <openssl/bytestring.h>
#include <openssl/mem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ca/issue/adopt.h"
#include "ca/issue/authority.h"
#include "ca/limits.h"
#include "ca/x509/key.h"
#include "ca/x509/pem.h"
#include "ca/x509/serial.h"
#include "tests/support/test.h"

static ca_authority *authority, *other;
static char dir[512];

// make_dir writes the keys of |a| into a fresh |dir|/keys.
static void make_dir(const char *name, const ca_authority *a) {
  const char *tmp = getenv("TEST_TMPDIR");
  snprintf(dir, sizeof(dir), "%s/%s", tmp != NULL ? tmp : "/tmp", name);
  char path[700];
  CHECK(mkdir(dir, 0700) == 0);
  snprintf(path, sizeof(path), "%s/keys", dir);
  CHECK(mkdir(path, 0700) == 0);
  for (size_t i = 0; i < a->count; i++) {
    snprintf(path, sizeof(path), "%s/keys/%s.key", dir, a->issuers[i].name);
    CHECK(ca_key_write_file(path, a->issuers[i].key, NULL));
  }
}

// pem_of appends the certificates |names| of |a| as PEM to |cbb|.
static void pem_of(CBB *cbb, const ca_authority *a, const char *const *names,
                   size_t n) {
  for (size_t i = 0; i < n; i++) {
    const ca_issuer *ca = ca_authority_find(a, names[i]);
    CHECK(ca != NULL);
    if (ca != NULL) {
      CHECK(ca_pem_add(cbb, "CERTIFICATE", ca->der, ca->der_len));
    }
  }
}

static const char *const kAll[] = {"rsa-root", "rsa-issuing", "ec-root",
                                   "ec-issuing"};

// adopt runs ca_adopt_records on |dir| and the PEM in |cbb|.
static int adopt(CBB *cbb, ca_issuer_row **out, size_t *n) {
  return ca_adopt_records(dir, CBB_data(cbb), CBB_len(cbb), NULL, out, n);
}

TEST(the_four_cas_are_adopted_as_pki_names_them) {
  make_dir("adopt-ok", authority);
  CBB cbb;
  CHECK(CBB_init(&cbb, 8192));
  // As a chain file per issuing CA writes them: issuing, then its root;
  // the roots come twice.
  static const char *const kChains[] = {"rsa-issuing", "rsa-root", "rsa-root",
                                        "ec-issuing",  "ec-root",  "ec-root"};
  pem_of(&cbb, authority, kChains, 6);
  ca_issuer_row *records = NULL;
  size_t n = 0;
  CHECK(adopt(&cbb, &records, &n));
  CHECK_EQ_INT(n, 4);
  for (size_t i = 0; i < n && i < 4; i++) {
    const ca_issuer *want = ca_authority_find(authority, kAll[i]);
    const ca_issuer_row *r = &records[i];
    CHECK_EQ_STR(r->name, kAll[i]);
    CHECK_EQ_STR(r->role, want->role);
    CHECK_EQ_STR(r->algorithm, want->algorithm);
    CHECK_EQ_STR(r->subject, want->subject);
    CHECK_EQ_STR(r->serial, want->serial);
    CHECK_EQ_STR(r->parent != NULL ? r->parent : "",
                 want->parent != NULL ? want->parent->name : "");
    char key_file[64];
    snprintf(key_file, sizeof(key_file), "%s.key", kAll[i]);
    CHECK_EQ_STR(r->key_file, key_file);
    CHECK_EQ_INT(r->not_before, want->cert.not_before);
    CHECK_EQ_INT(r->not_after, want->cert.not_after);
    CHECK(r->der_len == want->der_len &&
          memcmp(r->der, want->der, r->der_len) == 0);
  }
  ca_issuer_rows_free(records, n);
  CBB_cleanup(&cbb);
}

// refused expects ca_adopt_records to fail with |code| and |text| in the
// message, on the data directory |dir| and the certificates |names| of
// |a|.
static void refused(const ca_authority *a, const char *const *names, size_t n,
                    ca_err_code code, const char *text) {
  CBB cbb;
  CHECK(CBB_init(&cbb, 8192));
  pem_of(&cbb, a, names, n);
  ca_issuer_row *records = NULL;
  size_t count = 0;
  CHECK(!adopt(&cbb, &records, &count));
  CHECK_EQ_INT(ca_err_get()->code, code);
  CHECK(strstr(ca_err_get()->message, text) != NULL);
  CBB_cleanup(&cbb);
}

TEST(encrypted_keys_are_adopted_with_the_passphrase) {
  const char *tmp = getenv("TEST_TMPDIR");
  snprintf(dir, sizeof(dir), "%s/adopt-enc", tmp != NULL ? tmp : "/tmp");
  char path[700];
  CHECK(mkdir(dir, 0700) == 0);
  snprintf(path, sizeof(path), "%s/keys", dir);
  CHECK(mkdir(path, 0700) == 0);
  for (size_t i = 0; i < authority->count; i++) {
    snprintf(path, sizeof(path), "%s/keys/%s.key", dir,
             authority->issuers[i].name);
    // One unencrypted key among encrypted ones: both are read.
    CHECK(ca_key_write_file(path, authority->issuers[i].key,
                            i == 0 ? NULL : "adopt passphrase"));
  }
  CBB cbb;
  CHECK(CBB_init(&cbb, 8192));
  pem_of(&cbb, authority, kAll, 4);
  ca_issuer_row *records = NULL;
  size_t n = 0;
  CHECK(ca_adopt_records(dir, CBB_data(&cbb), CBB_len(&cbb), "adopt passphrase",
                         &records, &n));
  CHECK_EQ_INT(n, 4);
  ca_issuer_rows_free(records, n);
  records = NULL;
  ca_err_clear();
  CHECK(!ca_adopt_records(dir, CBB_data(&cbb), CBB_len(&cbb), NULL, &records,
                          &n));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_KEY_FILE);
  CHECK(strstr(ca_err_get()->message, "passphrase") != NULL);
  ca_err_clear();
  CHECK(!ca_adopt_records(dir, CBB_data(&cbb), CBB_len(&cbb), "other", &records,
                          &n));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_KEY_FILE);
  CHECK(strstr(ca_err_get()->message, "wrong passphrase") != NULL);
  CBB_cleanup(&cbb);
}

TEST(what_does_not_match_is_refused) {
  char path[700];
  // A key missing.
  make_dir("adopt-missing", authority);
  snprintf(path, sizeof(path), "%s/keys/ec-issuing.key", dir);
  CHECK(unlink(path) == 0);
  refused(authority, kAll, 4, CA_ERR_CONFIG, "ec-issuing.key");
  // A key others may read.
  make_dir("adopt-mode", authority);
  snprintf(path, sizeof(path), "%s/keys/rsa-root.key", dir);
  CHECK(chmod(path, 0644) == 0);
  refused(authority, kAll, 4, CA_ERR_KEY_FILE, "group or others");
  // A key without its certificate.
  make_dir("adopt-no-cert", authority);
  refused(authority, kAll, 3, CA_ERR_CONFIG, "no certificate in the file");
  // A certificate without a key: another authority's root besides.
  CBB cbb;
  CHECK(CBB_init(&cbb, 8192));
  pem_of(&cbb, authority, kAll, 4);
  pem_of(&cbb, other, kAll, 1);
  ca_issuer_row *records = NULL;
  size_t n = 0;
  CHECK(!adopt(&cbb, &records, &n));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_CONFIG);
  CHECK(strstr(ca_err_get()->message, "has no key") != NULL);
  CBB_cleanup(&cbb);
  // The keys of one installation, the certificates of another.
  refused(other, kAll, 4, CA_ERR_CONFIG, "no certificate in the file");
  // No certificate at all.
  CHECK(CBB_init(&cbb, 64));
  CHECK(!adopt(&cbb, &records, &n));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_CONFIG);
  CBB_cleanup(&cbb);
}

TEST(the_file_is_read_bounded) {
  const char *tmp = getenv("TEST_TMPDIR");
  char path[600];
  snprintf(path, sizeof(path), "%s/adopt-big.pem", tmp != NULL ? tmp : "/tmp");
  FILE *f = fopen(path, "w");
  CHECK(f != NULL);
  if (f != NULL) {
    // One byte over the limit.
    for (int i = 0; i < CA_LIMIT_ADOPT_FILE_BYTES + 1; i++) {
      fputc(i % 64 == 63 ? '\n' : '#', f);
    }
    fclose(f);
  }
  uint8_t *buf = NULL;
  size_t len = 0;
  CHECK(!ca_adopt_read_file(path, &buf, &len));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_CONFIG);
  CHECK(strstr(ca_err_get()->message, "larger than") != NULL);
  // At the limit it is read.
  CHECK(truncate(path, CA_LIMIT_ADOPT_FILE_BYTES) == 0);
  CHECK(ca_adopt_read_file(path, &buf, &len));
  CHECK_EQ_INT(len, CA_LIMIT_ADOPT_FILE_BYTES);
  OPENSSL_free(buf);
  CHECK(!ca_adopt_read_file("/nonexistent/cas.pem", &buf, &len));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_CONFIG);
}

int main(void) {
  ca_authority_config config;
  ca_authority_config_init(&config);
  if (!ca_authority_new_ephemeral(&config, &authority) ||
      !ca_authority_new_ephemeral(&config, &other)) {
    return 1;
  }
  RUN(the_four_cas_are_adopted_as_pki_names_them);
  RUN(encrypted_keys_are_adopted_with_the_passphrase);
  RUN(what_does_not_match_is_refused);
  RUN(the_file_is_read_bounded);
  ca_authority_free(authority);
  ca_authority_free(other);
  return test_summary();
}
