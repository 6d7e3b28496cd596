// ca/exchange/issued_import.c against a real PostgreSQL: what one pki
// issued moves to another that adopted the same CAs (pkid --adopt-cas, as
// pkid does at its first start), keeping DER, serial, revocation and hold;
// the new CRL is numbered above the exporter's and lists the revoked ones;
// importing again changes nothing; a hold may end, a final revocation never
// does; a bad entry or an unknown CA stores nothing of the import.
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/mem.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ca/exchange/issued_import.h"
#include "ca/revocation/revoke.h"
#include "ca/x509/reason.h"
#include "tests/modules/fixture.h"
#include "tests/support/test.h"

#define CERTS 4

static mod_ca a;             // the exporter
static mod_db b_db;          // the importer
static ca_store *b_store;    // ...
static ca_authority *b_cas;  // ... with a's CAs adopted
static ca_issued certs[CERTS];
static const uint8_t *ca_ders[CA_AUTHORITY_MAX_ISSUERS];
static size_t ca_lens[CA_AUTHORITY_MAX_ISSUERS];
static uint64_t a_crl_number;

static int revoke_on_a(int i, int reason) {
  ca_revocation r = {.serial = certs[i].serial_hex,
                     .reason = reason,
                     .actor = "module-test",
                     .source = "127.0.0.1"};
  ca_revocation_result result;
  if (!ca_revoke(a.authority, a.store, &r, &result)) {
    return 0;
  }
  // The exporter's CRL writer publishes the CRL that carries it; each
  // pass a minute later than the last, past the writer's interval.
  static int64_t passes;
  ca_crl_pass pass;
  if (!ca_crl_refresh(a.store, result.issuer, 0, 0,
                      (int64_t)time(NULL) + 60 * ++passes, &pass) ||
      pass.published == 0) {
    return 0;
  }
  a_crl_number = pass.published;
  return 1;
}

static int setup(void) {
  if (!mod_ca_open(&a, "issued-a", 2) || !mod_ca_start_engine(&a, 1)) {
    return 0;
  }
  for (int i = 0; i < CERTS; i++) {
    char cn[64];
    snprintf(cn, sizeof(cn), "moved%d.example.com", i);
    if (!mod_issue(&a, "tomcat-ECDSA", "EC-P256", cn, &certs[i])) {
      return 0;
    }
  }
  if (!revoke_on_a(1, CA_REASON_KEY_COMPROMISE) ||
      !revoke_on_a(2, CA_REASON_CERTIFICATE_HOLD)) {
    return 0;
  }
  // The importer: another database, the same key files, the CAs adopted.
  char pem[600];
  snprintf(pem, sizeof(pem), "%s/cas.pem", a.data_dir);
  BIO *out = BIO_new_file(pem, "w");
  int ok = out != NULL;
  for (size_t i = 0; ok && i < a.authority->count; i++) {
    const ca_issuer *ca = &a.authority->issuers[i];
    ca_ders[i] = ca->der;
    ca_lens[i] = ca->der_len;
    X509 *x = mod_issuer_x509(ca);
    ok = x != NULL && PEM_write_bio_X509(out, x);
    X509_free(x);
  }
  BIO_free(out);
  mod_db_create(&b_db);
  ca_authority_config config;
  ca_authority_config_init(&config);
  config.data_dir = a.data_dir;
  config.adopt_cas = pem;
  return ok && ca_store_open(b_db.url, 2, &b_store) &&
         ca_store_migrate(b_store) &&
         ca_authority_open(b_store, &config, &b_cas);
}

static void teardown(void) {
  for (int i = 0; i < CERTS; i++) {
    ca_issued_cleanup(&certs[i]);
  }
  ca_authority_free(b_cas);
  ca_store_free(b_store);
  mod_db_drop(&b_db);
  mod_ca_close(&a);
}

static ca_issued_entry entry(int i, int revoked, int reason) {
  return (ca_issued_entry){.der = certs[i].der,
                           .der_len = certs[i].der_len,
                           .issuer = "ec-issuing",
                           .serial = certs[i].serial_hex,
                           .profile = "tomcat-ECDSA",
                           .cluster = "",
                           .requester = "module-test",
                           .revoked = revoked,
                           .revoked_at = revoked ? certs[i].not_before + 60 : 0,
                           .reason = reason};
}

static int import(const ca_issued_entry *entries, size_t n,
                  ca_issued_import_summary *summary) {
  static const char *const kCrlCas[] = {"ec-issuing"};
  const ca_issued_import_request req = {.entries = entries,
                                        .n_entries = n,
                                        .ca_ders = ca_ders,
                                        .ca_lens = ca_lens,
                                        .n_cas = a.authority->count,
                                        .crl_cas = kCrlCas,
                                        .crl_numbers = &a_crl_number,
                                        .n_crl_numbers = 1,
                                        .actor = "importer",
                                        .source = "127.0.0.1"};
  memset(summary, 0, sizeof(*summary));
  return ca_issued_import(b_cas, b_store, &req, summary);
}

static long long b_int(const char *sql, const char *p1) {
  return mod_db_int(&b_db, sql, p1, NULL);
}

// crl_lists tells whether b's stored CRL of ec-issuing lists |serial|, and
// its number in |*number|.
static int crl_lists(const char *serial, long *number) {
  const ca_issuer *ec = ca_authority_find(b_cas, "ec-issuing");
  ca_crl_row crl;
  int found = 0, listed = 0;
  *number = -1;
  if (ec == NULL || !ca_store_get_crl(b_store, ec->id, &crl, &found) ||
      !found) {
    return -1;
  }
  const uint8_t *p = crl.der;
  X509_CRL *x = d2i_X509_CRL(NULL, &p, (long)crl.der_len);
  BIGNUM *bn = NULL;
  ASN1_INTEGER *s = NULL;
  X509_REVOKED *rev = NULL;
  if (x != NULL && BN_hex2bn(&bn, serial) &&
      (s = BN_to_ASN1_INTEGER(bn, NULL)) != NULL) {
    listed = X509_CRL_get0_by_serial(x, &rev, s) == 1;
  }
  *number = (long)crl.number;
  ASN1_INTEGER_free(s);
  BN_free(bn);
  X509_CRL_free(x);
  OPENSSL_free(crl.der);
  return listed;
}

TEST(certificates_move_with_their_revocation_state) {
  ca_issued_entry e[3] = {entry(0, 0, 0), entry(1, 1, CA_REASON_KEY_COMPROMISE),
                          entry(2, 1, CA_REASON_CERTIFICATE_HOLD)};
  ca_issued_import_summary s;
  CHECK(import(e, 3, &s));
  CHECK_EQ_INT(s.added, 3);
  CHECK_EQ_INT(s.updated, 0);
  CHECK_EQ_INT(s.crls, 1);
  for (int i = 0; i < 3; i++) {
    PGresult *res = mod_db_query(
        &b_db,
        "SELECT encode(c.der, 'hex'), s.status,"
        " coalesce(s.revocation_reason, -1), c.requester FROM certificates c"
        " JOIN certificate_status s ON s.id = c.id WHERE c.serial = $1",
        certs[i].serial_hex, NULL);
    CHECK(res != NULL && PQntuples(res) == 1);
    if (res != NULL && PQntuples(res) == 1) {
      char hex[8192] = "";
      for (size_t k = 0; k < certs[i].der_len && 2 * k + 2 < sizeof(hex); k++) {
        snprintf(hex + 2 * k, 3, "%02x", certs[i].der[k]);
      }
      CHECK_EQ_STR(PQgetvalue(res, 0, 0), hex);
      CHECK_EQ_STR(PQgetvalue(res, 0, 1), i == 0 ? "good" : "revoked");
      CHECK_EQ_INT(atoi(PQgetvalue(res, 0, 2)), i == 0 ? -1 : i == 1 ? 1 : 6);
      CHECK_EQ_STR(PQgetvalue(res, 0, 3), "module-test");
    }
    PQclear(res);
  }
  // The CRL: above the exporter's number, listing both revoked ones.
  long number;
  CHECK_EQ_INT(crl_lists(certs[1].serial_hex, &number), 1);
  CHECK_EQ_INT(crl_lists(certs[2].serial_hex, &number), 1);
  CHECK_EQ_INT(crl_lists(certs[0].serial_hex, &number), 0);
  CHECK_EQ_INT(number, (long)a_crl_number + 1);
  CHECK_EQ_INT(b_int("SELECT count(*) FROM audit_log WHERE action ="
                     " 'bulk-import' AND object = 'issued'",
                     NULL),
               1);

  // The same again: nothing changes, no new CRL is needed.
  CHECK(import(e, 3, &s));
  CHECK_EQ_INT(s.added, 0);
  CHECK_EQ_INT(s.unchanged, 3);
  CHECK_EQ_INT(s.crls, 0);

  // The hold ends in a final revocation; a final one is never undone.
  ca_issued_entry later[2] = {entry(1, 0, 0),
                              entry(2, 1, CA_REASON_SUPERSEDED)};
  CHECK(import(later, 2, &s));
  CHECK_EQ_INT(s.updated, 1);
  CHECK_EQ_INT(s.unchanged, 1);
  CHECK_EQ_INT(b_int("SELECT revocation_reason FROM certificate_status WHERE"
                     " serial = $1",
                     certs[2].serial_hex),
               CA_REASON_SUPERSEDED);
  CHECK_EQ_INT(b_int("SELECT revocation_reason FROM certificate_status WHERE"
                     " serial = $1 AND status = 'revoked'",
                     certs[1].serial_hex),
               CA_REASON_KEY_COMPROMISE);
}

TEST(a_bad_entry_or_an_unknown_ca_stores_nothing) {
  const long long before = b_int("SELECT count(*) FROM certificates", NULL);
  // Certificate 3 with another's serial: the DER is the truth.
  ca_issued_entry e[2] = {entry(3, 0, 0), entry(3, 0, 0)};
  e[1].serial = certs[0].serial_hex;
  ca_issued_import_summary s;
  CHECK(!import(e, 2, &s));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_BUNDLE_MALFORMED);
  CHECK_EQ_INT(b_int("SELECT count(*) FROM certificates", NULL), before);
  // A CA this pki does not hold.
  e[1] = entry(3, 0, 0);
  e[1].issuer = "rsa-issuing-elsewhere";
  CHECK(!import(e, 2, &s));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_ISSUER_UNAVAILABLE);
  CHECK_EQ_INT(b_int("SELECT count(*) FROM certificates", NULL), before);
  // Alone and well formed, it goes in.
  CHECK(import(e, 1, &s));
  CHECK_EQ_INT(s.added, 1);
}

int main(void) {
  if (!setup()) {
    fprintf(stderr, "setup failed: %s\n", ca_err_get()->message);
    teardown();
    return 1;
  }
  RUN(certificates_move_with_their_revocation_state);
  RUN(a_bad_entry_or_an_unknown_ca_stores_nothing);
  teardown();
  return test_summary();
}
