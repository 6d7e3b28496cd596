// The OCSP answers shared through PostgreSQL (ca/store/store_ocsp.c,
// ca/revocation/presign.c, migration 0011) against a real database: an
// answer one responder signed is served, byte for byte and unsigned, by
// another (a second node, or the same after a restart); a revocation,
// through pki or by SQL, removes it; with the trigger disabled the reading
// query alone still refuses an answer whose status is not the row's; stale
// answers are renewed by the background task and never served; another
// signer's answers are not served; `unknown` is never stored; answers of
// expired certificates are deleted.
//
// Requests are built and responses read with tests/support/ocsp_client.h.
#include <openssl/evp.h>
#include <openssl/mem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ca/revocation/presign.h"
#include "ca/revocation/responder.h"
#include "ca/revocation/revoke.h"
#include "ca/store/store_ocsp.h"
#include "ca/x509/reason.h"
#include "tests/modules/fixture.h"
#include "tests/support/ocsp_client.h"
#include "tests/support/test.h"

static const char kNeverIssued[] = "1234567890abcdef";

typedef struct fixture {
  mod_ca ca;
  ca_responder *a, *b;  // two nodes, or one before and after a restart
  X509 *issuer_x509;
  EVP_PKEY *issuer_key;
  ca_issued certs[2];
} fixture;

static int new_responder(fixture *f, ca_responder **out) {
  ca_responder_config config;
  ca_responder_config_init(&config);
  return ca_responder_new(f->ca.authority, f->ca.store, &config, out);
}

static int setup(fixture *f, const char *name) {
  memset(f, 0, sizeof(*f));
  int ok = mod_ca_open(&f->ca, name, 4) && mod_ca_start_engine(&f->ca, 1);
  for (int i = 0; ok && i < 2; i++) {
    char cn[64];
    snprintf(cn, sizeof(cn), "presign%d.example.com", i);
    ok = mod_issue(&f->ca, "tomcat-ECDSA", "EC-P256", cn, &f->certs[i]);
  }
  ok = ok && new_responder(f, &f->a) && new_responder(f, &f->b);
  if (ok) {
    f->issuer_x509 = mod_issuer_x509(f->certs[0].issuer);
    f->issuer_key =
        f->issuer_x509 != NULL ? X509_get_pubkey(f->issuer_x509) : NULL;
    ok = f->issuer_key != NULL;
  }
  return ok;
}

static void teardown(fixture *f) {
  ca_responder_free(f->a);
  ca_responder_free(f->b);
  for (int i = 0; i < 2; i++) {
    ca_issued_cleanup(&f->certs[i]);
  }
  EVP_PKEY_free(f->issuer_key);
  X509_free(f->issuer_x509);
  mod_ca_close(&f->ca);
}

// ask asks |r| about |serial| (SHA-1 CertID, no nonce: cacheable), keeps
// the response bytes in |answer| (OPENSSL_free its der) and returns the
// TEST_OCSP_* status, or -1 when the response is not a signed, successful
// one about that serial.
static int ask(fixture *f, ca_responder *r, const char *serial,
               ca_ocsp_answer *answer) {
  size_t len = 0;
  uint8_t *req =
      test_ocsp_request(f->issuer_x509, &serial, 1, 0, NULL, 0, &len);
  test_ocsp_response parsed;
  memset(&parsed, 0, sizeof(parsed));
  memset(answer, 0, sizeof(*answer));
  int status = -1;
  if (req != NULL && ca_responder_answer(r, req, len, answer) &&
      test_ocsp_parse(answer->der, answer->der_len, f->issuer_key, &parsed) &&
      parsed.response_status == 0 && parsed.count == 1 && parsed.signature_ok &&
      strcmp(parsed.singles[0].serial, serial) == 0) {
    status = parsed.singles[0].status;
  }
  test_ocsp_response_cleanup(&parsed);
  OPENSSL_free(req);
  return status;
}

static long long stored(fixture *f) {
  return mod_db_int(&f->ca.db, "SELECT count(*) FROM ocsp_answers", NULL, NULL);
}

static uint64_t shared_of(ca_responder *r) {
  ca_responder_stats s;
  ca_responder_get_stats(r, &s);
  return s.shared;
}

static int same_bytes(const ca_ocsp_answer *x, const ca_ocsp_answer *y) {
  return x->der_len == y->der_len && memcmp(x->der, y->der, x->der_len) == 0;
}

TEST(an_answer_signed_by_one_node_is_served_by_another_unsigned) {
  fixture f;
  CHECK(setup(&f, "presign-shared"));
  const char *serial = f.certs[0].serial_hex;
  ca_ocsp_answer first, second;
  CHECK_EQ_INT(ask(&f, f.a, serial, &first), TEST_OCSP_GOOD);
  CHECK(first.cacheable);
  CHECK_EQ_INT(stored(&f), 0);  // stored by the background task, not inline
  CHECK(ca_presign_flush(f.a, f.ca.store));
  CHECK_EQ_INT(stored(&f), 1);
  CHECK_EQ_INT(shared_of(f.b), 0);
  CHECK_EQ_INT(ask(&f, f.b, serial, &second), TEST_OCSP_GOOD);
  CHECK_EQ_INT(shared_of(f.b), 1);
  CHECK(same_bytes(&first, &second));
  CHECK_EQ_INT(second.produced_at, first.produced_at);
  CHECK_EQ_STR(second.etag, first.etag);
  OPENSSL_free(first.der);
  OPENSSL_free(second.der);
  // Storing the same answer again changes nothing.
  CHECK(ask(&f, f.a, serial, &first) == TEST_OCSP_GOOD);
  OPENSSL_free(first.der);
  CHECK(ca_presign_flush(f.a, f.ca.store));
  CHECK_EQ_INT(stored(&f), 1);
  teardown(&f);
}

TEST(unknown_is_never_stored) {
  fixture f;
  CHECK(setup(&f, "presign-unknown"));
  ca_ocsp_answer a;
  CHECK_EQ_INT(ask(&f, f.a, kNeverIssued, &a), TEST_OCSP_UNKNOWN);
  OPENSSL_free(a.der);
  CHECK(ca_presign_flush(f.a, f.ca.store));
  CHECK_EQ_INT(stored(&f), 0);
  teardown(&f);
}

TEST(a_revocation_removes_the_stored_answer) {
  fixture f;
  CHECK(setup(&f, "presign-revoke"));
  ca_ocsp_answer a;
  for (int i = 0; i < 2; i++) {
    CHECK_EQ_INT(ask(&f, f.a, f.certs[i].serial_hex, &a), TEST_OCSP_GOOD);
    OPENSSL_free(a.der);
  }
  CHECK(ca_presign_flush(f.a, f.ca.store));
  CHECK_EQ_INT(stored(&f), 2);
  // Through pki: the trigger deletes the answer in the revoking
  // transaction.
  ca_revocation request = {.serial = f.certs[0].serial_hex,
                           .reason = CA_REASON_KEY_COMPROMISE,
                           .actor = "module-test",
                           .source = "127.0.0.1"};
  ca_revocation_result result;
  CHECK(ca_revoke(f.ca.authority, f.ca.store, &request, &result));
  CHECK_EQ_INT(stored(&f), 1);
  CHECK_EQ_INT(ask(&f, f.b, f.certs[0].serial_hex, &a), TEST_OCSP_REVOKED);
  OPENSSL_free(a.der);
  // By SQL, as an operator might: the same.
  PGresult *res = mod_db_query(&f.ca.db,
                               "INSERT INTO revocations SELECT issuer_id,"
                               " serial, id, crl_shard, not_after, now(), 4"
                               " FROM certificates WHERE serial = $1"
                               " RETURNING certificate_id",
                               f.certs[1].serial_hex, NULL);
  CHECK(res != NULL && PQntuples(res) == 1);
  PQclear(res);
  CHECK_EQ_INT(stored(&f), 0);
  CHECK_EQ_INT(ask(&f, f.b, f.certs[1].serial_hex, &a), TEST_OCSP_REVOKED);
  OPENSSL_free(a.der);
  // The revoked answers B signed are stored in turn, and served.
  CHECK(ca_presign_flush(f.b, f.ca.store));
  CHECK_EQ_INT(stored(&f), 2);
  const uint64_t before = shared_of(f.a);
  CHECK_EQ_INT(ask(&f, f.a, f.certs[0].serial_hex, &a), TEST_OCSP_REVOKED);
  OPENSSL_free(a.der);
  CHECK_EQ_INT(shared_of(f.a), before + 1);
  teardown(&f);
}

TEST(without_the_trigger_the_read_still_refuses_a_stale_status) {
  fixture f;
  CHECK(setup(&f, "presign-no-trigger"));
  const char *serial = f.certs[0].serial_hex;
  ca_ocsp_answer a;
  CHECK_EQ_INT(ask(&f, f.a, serial, &a), TEST_OCSP_GOOD);
  OPENSSL_free(a.der);
  CHECK(ca_presign_flush(f.a, f.ca.store));
  CHECK(mod_db_exec(&f.ca.db,
                    "ALTER TABLE revocations"
                    " DISABLE TRIGGER revocations_inserted"));
  PGresult *res = mod_db_query(&f.ca.db,
                               "INSERT INTO revocations SELECT issuer_id,"
                               " serial, id, crl_shard, not_after, now(), 1"
                               " FROM certificates WHERE serial = $1"
                               " RETURNING certificate_id",
                               serial, NULL);
  CHECK(res != NULL && PQntuples(res) == 1);
  PQclear(res);
  CHECK_EQ_INT(stored(&f), 1);  // the good answer is still there
  CHECK_EQ_INT(ask(&f, f.b, serial, &a), TEST_OCSP_REVOKED);
  OPENSSL_free(a.der);
  CHECK_EQ_INT(shared_of(f.b), 0);
  // Nor does a late write of the old good answer (signed before the
  // revocation, stored after it) replace anything: it is not stored.
  CHECK(mod_db_exec(&f.ca.db, "DELETE FROM ocsp_answers"));
  ca_responder *c;
  CHECK(new_responder(&f, &c));
  CHECK(mod_db_exec(&f.ca.db, "DELETE FROM revocations"));
  CHECK_EQ_INT(ask(&f, c, serial, &a), TEST_OCSP_GOOD);
  OPENSSL_free(a.der);
  res = mod_db_query(&f.ca.db,
                     "INSERT INTO revocations SELECT issuer_id,"
                     " serial, id, crl_shard, not_after, now(), 1"
                     " FROM certificates WHERE serial = $1"
                     " RETURNING certificate_id",
                     serial, NULL);
  CHECK(res != NULL && PQntuples(res) == 1);
  PQclear(res);
  CHECK(ca_presign_flush(c, f.ca.store));
  CHECK_EQ_INT(stored(&f), 0);
  ca_responder_free(c);
  teardown(&f);
}

TEST(stale_answers_are_renewed_and_never_served) {
  fixture f;
  CHECK(setup(&f, "presign-renew"));
  const char *serial = f.certs[0].serial_hex;
  ca_ocsp_answer first, second;
  CHECK_EQ_INT(ask(&f, f.a, serial, &first), TEST_OCSP_GOOD);
  CHECK(ca_presign_flush(f.a, f.ca.store));
  size_t renewed = 99;
  // Fresh: nothing to renew.
  CHECK(ca_presign_renew(f.a, (int64_t)time(NULL), 16, &renewed));
  CHECK_EQ_INT(renewed, 0);
  // Past 40% of a day's validity, before half: renewed.
  CHECK(mod_db_exec(&f.ca.db,
                    "UPDATE ocsp_answers SET produced_at ="
                    " produced_at - interval '10 hours'"));
  const int64_t now = (int64_t)time(NULL) + 1;
  CHECK(ca_presign_renew(f.a, now, 16, &renewed));
  CHECK_EQ_INT(renewed, 1);
  CHECK_EQ_INT(mod_db_int(&f.ca.db,
                          "SELECT extract(epoch FROM produced_at)::bigint"
                          " FROM ocsp_answers",
                          NULL, NULL),
               now);
  CHECK_EQ_INT(ask(&f, f.b, serial, &second), TEST_OCSP_GOOD);
  CHECK_EQ_INT(shared_of(f.b), 1);
  CHECK_EQ_INT(second.produced_at, now);
  CHECK(!same_bytes(&first, &second));
  OPENSSL_free(first.der);
  OPENSSL_free(second.der);
  // Past half its validity: a reader signs instead.
  CHECK(mod_db_exec(&f.ca.db,
                    "UPDATE ocsp_answers SET produced_at ="
                    " now() - interval '13 hours'"));
  ca_responder *c;
  CHECK(new_responder(&f, &c));
  CHECK_EQ_INT(ask(&f, c, serial, &second), TEST_OCSP_GOOD);
  CHECK_EQ_INT(shared_of(c), 0);
  CHECK(second.produced_at >= now - 1);
  OPENSSL_free(second.der);
  ca_responder_free(c);
  teardown(&f);
}

TEST(another_signers_answers_are_not_served) {
  fixture f;
  CHECK(setup(&f, "presign-signer"));
  const char *serial = f.certs[0].serial_hex;
  ca_ocsp_answer a;
  CHECK_EQ_INT(ask(&f, f.a, serial, &a), TEST_OCSP_GOOD);
  OPENSSL_free(a.der);
  CHECK(ca_presign_flush(f.a, f.ca.store));
  CHECK(mod_db_exec(&f.ca.db,
                    "UPDATE ocsp_answers SET signer ="
                    " '\\x0000000000000000000000000000000000000000'"));
  CHECK_EQ_INT(ask(&f, f.b, serial, &a), TEST_OCSP_GOOD);
  OPENSSL_free(a.der);
  CHECK_EQ_INT(shared_of(f.b), 0);
  // Nor renewed by this node.
  size_t renewed;
  CHECK(mod_db_exec(&f.ca.db,
                    "UPDATE ocsp_answers SET produced_at ="
                    " produced_at - interval '10 hours'"));
  CHECK(ca_presign_renew(f.b, (int64_t)time(NULL), 16, &renewed));
  CHECK_EQ_INT(renewed, 0);
  teardown(&f);
}

TEST(answers_of_expired_certificates_are_deleted) {
  fixture f;
  CHECK(setup(&f, "presign-expired"));
  ca_ocsp_answer a;
  CHECK_EQ_INT(ask(&f, f.a, f.certs[0].serial_hex, &a), TEST_OCSP_GOOD);
  OPENSSL_free(a.der);
  CHECK(ca_presign_flush(f.a, f.ca.store));
  CHECK(mod_db_exec(&f.ca.db,
                    "UPDATE certificates SET"
                    " not_before = now() - interval '2 days',"
                    " not_after = now() - interval '1 day'"));
  CHECK_EQ_INT(stored(&f), 1);
  size_t renewed;
  CHECK(ca_presign_renew(f.a, (int64_t)time(NULL), 16, &renewed));
  CHECK_EQ_INT(renewed, 0);
  CHECK_EQ_INT(stored(&f), 0);
  teardown(&f);
}

TEST(the_background_task_stores_what_was_signed) {
  fixture f;
  CHECK(setup(&f, "presign-task"));
  ca_presign_config config;
  ca_presign_config_init(&config);
  config.flush_ms = 100;
  ca_presigner *p = NULL;
  CHECK(ca_presigner_start(f.a, f.ca.store, &config, &p));
  ca_ocsp_answer a;
  CHECK_EQ_INT(ask(&f, f.a, f.certs[0].serial_hex, &a), TEST_OCSP_GOOD);
  OPENSSL_free(a.der);
  long long n = 0;
  for (int i = 0; i < 100 && (n = stored(&f)) < 1; i++) {
    usleep(50 * 1000);
  }
  CHECK_EQ_INT(n, 1);
  // What is signed just before the stop is stored by it.
  CHECK_EQ_INT(ask(&f, f.a, f.certs[1].serial_hex, &a), TEST_OCSP_GOOD);
  OPENSSL_free(a.der);
  ca_presigner_stop(p);
  CHECK_EQ_INT(stored(&f), 2);
  teardown(&f);
}

int main(void) {
  RUN(an_answer_signed_by_one_node_is_served_by_another_unsigned);
  RUN(unknown_is_never_stored);
  RUN(a_revocation_removes_the_stored_answer);
  RUN(without_the_trigger_the_read_still_refuses_a_stale_status);
  RUN(stale_answers_are_renewed_and_never_served);
  RUN(another_signers_answers_are_not_served);
  RUN(answers_of_expired_certificates_are_deleted);
  RUN(the_background_task_stores_what_was_signed);
  return test_summary();
}
