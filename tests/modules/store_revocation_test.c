// ca/store/store_revocation.c against a real PostgreSQL: certificates
// found and locked by serial with or without their issuer (a serial under
// two CAs is reported, not guessed); revocation state set and cleared; the
// revoked certificates a CRL lists (expired ones and other CAs' left out);
// CRL numbers that follow one another, with the CRL row locked so that two
// transactions publish one after the other; stored CRLs read back; the
// delegated responders recorded per node; the cursor's read-ahead between
// the other statements of a CRL; a batch of revocations committed only in
// the transaction that read its certificates.
#include <inttypes.h>
#include <openssl/mem.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ca/store/store.h"
#include "ca/store/store_crl.h"
#include "tests/modules/fixture.h"
#include "tests/support/test.h"

static mod_ca ca;
static int64_t ec_id, rsa_id;  // ec-issuing, rsa-issuing

static const uint8_t kDer[] = {0x30, 0x03, 0x02, 0x01, 0x01};

static ca_new_cert_row record(int64_t issuer, const char *serial,
                              int64_t not_after) {
  return (ca_new_cert_row){.issuer_id = issuer,
                           .serial = serial,
                           .profile = "tomcat",
                           .subject = "CN=r.example.com",
                           .common_name = "r.example.com",
                           .key_type = CA_KEY_EC,
                           .key_bits = 256,
                           .not_before = 1700000000,
                           .not_after = not_after,
                           .der = kDer,
                           .der_len = sizeof(kDer),
                           .requester = "module-test"};
}

static int insert(const ca_new_cert_row *records, size_t n) {
  ca_store_tx *tx = NULL;
  uint8_t collided[8] = {0};
  if (!ca_store_begin(ca.store, &tx)) {
    return 0;
  }
  if (!ca_store_tx_insert_certificates(tx, records, n, collided) ||
      !ca_store_commit(&tx)) {
    ca_store_rollback(tx);
    return 0;
  }
  for (size_t i = 0; i < n; i++) {
    if (collided[i]) {
      return 0;
    }
  }
  return 1;
}

// lock looks |serial| up under |issuer| (0: any) in a transaction of its
// own and returns the number of matches, -1 on error.
static long lock(const char *serial, int64_t issuer, ca_cert_state *state) {
  ca_store_tx *tx = NULL;
  size_t matches = 0;
  if (!ca_store_begin(ca.store, &tx)) {
    return -1;
  }
  const int ok =
      ca_store_tx_lock_certificate(tx, serial, issuer, state, &matches);
  ca_store_rollback(tx);
  return ok ? (long)matches : -1;
}

static int set_revocation(int64_t id, int revoked, int64_t at, int reason) {
  ca_store_tx *tx = NULL;
  if (!ca_store_begin(ca.store, &tx)) {
    return 0;
  }
  if (!ca_store_tx_set_revocation(tx, id, revoked, at, reason) ||
      !ca_store_commit(&tx)) {
    ca_store_rollback(tx);
    return 0;
  }
  return 1;
}

TEST(a_serial_is_found_under_its_issuer_and_reported_under_two) {
  const int64_t later = (int64_t)time(NULL) + 86400 * 30;
  ca_new_cert_row r[3] = {record(ec_id, "a1", later),
                          record(rsa_id, "a1", later),
                          record(ec_id, "a2", later)};
  CHECK(insert(r, 3));
  ca_cert_state state;
  memset(&state, 0x5a, sizeof(state));
  CHECK_EQ_INT(lock("ffff", 0, &state), 0);
  CHECK_EQ_INT(state.id, 0x5a5a5a5a5a5a5a5a);  // untouched
  CHECK_EQ_INT(lock("a1", 0, &state), 2);
  CHECK_EQ_INT(lock("a1", rsa_id, &state), 1);
  CHECK_EQ_INT(state.issuer_id, rsa_id);
  CHECK_EQ_INT(state.revoked, 0);
  CHECK_EQ_INT(state.not_before, 1700000000);
  CHECK_EQ_INT(state.not_after, later);
  CHECK_EQ_INT(lock("a2", 0, &state), 1);
  CHECK_EQ_INT(state.issuer_id, ec_id);
  CHECK_EQ_INT(lock("a2", rsa_id, &state), 0);

  // Revoked, then good again; the same serial under the other CA is not
  // touched.
  CHECK_EQ_INT(lock("a1", ec_id, &state), 1);
  CHECK(set_revocation(state.id, 1, 1750000000, 4));
  int found = 0;
  CHECK(ca_store_certificate_state(ca.store, ec_id, "a1", &state, &found));
  CHECK_EQ_INT(found, 1);
  CHECK_EQ_INT(state.revoked, 1);
  CHECK_EQ_INT(state.revoked_at, 1750000000);
  CHECK_EQ_INT(state.reason, 4);
  CHECK(ca_store_certificate_state(ca.store, rsa_id, "a1", &state, &found));
  CHECK(found && !state.revoked);
  CHECK_EQ_INT(lock("a1", ec_id, &state), 1);
  CHECK(set_revocation(state.id, 0, 0, 0));
  CHECK(ca_store_certificate_state(ca.store, ec_id, "a1", &state, &found));
  CHECK(found && !state.revoked && state.revoked_at == 0);
  CHECK(ca_store_certificate_state(ca.store, ec_id, "not-issued", &state,
                                   &found));
  CHECK_EQ_INT(found, 0);
}

// read_revoked reads the revoked certificates of |issuer| for a CRL made
// at |now| through the cursor, twice, as the CRL writer does: both passes
// must list the same entries.
static int read_revoked(int64_t issuer, int64_t now, ca_revoked_entry *out,
                        size_t cap, size_t *out_n) {
  ca_store_tx *tx = NULL;
  ca_revoked_stream *s = NULL;
  ca_revoked_entry again[8];
  size_t n = 0, m = 0, end = 1;
  int ok = ca_store_begin_large(ca.store, &tx) &&
           ca_store_tx_revoked_open(tx, issuer, 0, now, &s) &&
           ca_revoked_stream_next(s, out, cap, &n) &&
           ca_revoked_stream_next(s, again, 8, &end) && end == 0 &&
           ca_revoked_stream_rewind(s) &&
           ca_revoked_stream_next(s, again, 8, &m) && m == n;
  for (size_t i = 0; ok && i < n; i++) {
    ok = strcmp(out[i].serial, again[i].serial) == 0;
  }
  ca_revoked_stream_close(s);
  ca_store_rollback(tx);
  *out_n = n;
  return ok;
}

TEST(a_crl_lists_the_revoked_certificates_not_yet_expired) {
  const int64_t now = (int64_t)time(NULL);
  ca_new_cert_row r[4] = {
      record(ec_id, "b1", now + 86400),   // revoked
      record(ec_id, "b2", now + 86400),   // good
      record(ec_id, "b3", now - 86400),   // revoked, expired
      record(rsa_id, "b4", now + 86400),  // revoked, another CA
  };
  CHECK(insert(r, 4));
  const char *revoke[3] = {"b1", "b3", "b4"};
  const int64_t issuer[3] = {ec_id, ec_id, rsa_id};
  for (int i = 0; i < 3; i++) {
    ca_cert_state state;
    CHECK_EQ_INT(lock(revoke[i], issuer[i], &state), 1);
    CHECK(set_revocation(state.id, 1, 1750000000 + i, 1));
  }
  ca_revoked_entry entries[4];
  size_t n = 0;
  CHECK(read_revoked(ec_id, now, entries, 4, &n));
  CHECK_EQ_INT(n, 1);
  if (n == 1) {
    CHECK_EQ_STR(entries[0].serial, "b1");
    CHECK_EQ_INT(entries[0].revoked_at, 1750000000);
    CHECK_EQ_INT(entries[0].reason, 1);
  }
  // Seen from before its expiry, the expired one is listed too.
  CHECK(read_revoked(ec_id, now - 2 * 86400, entries, 4, &n));
  CHECK_EQ_INT(n, 2);
}

// The cursor reads ahead: batches of different sizes, a CRL's parts
// written and the list measured between them, and a rewind, all see the
// same entries, once each, and the transaction stays usable. rsa-issuing
// has one revoked certificate of an earlier test besides these 11. The
// CRL goes to shard 3, whose numbers no other test counts.
TEST(the_cursor_read_ahead_meets_the_crls_other_statements) {
  const int64_t now = (int64_t)time(NULL);
  char serials[11][8];
  ca_new_cert_row r[11];
  for (int i = 0; i < 11; i++) {
    snprintf(serials[i], sizeof(serials[i]), "c%02d", i);
    r[i] = record(rsa_id, serials[i], now + 86400);
  }
  CHECK(insert(r, 6) && insert(r + 6, 5));  // insert() takes 8 at most
  for (int i = 0; i < 11; i++) {
    ca_cert_state state;
    CHECK_EQ_INT(lock(serials[i], rsa_id, &state), 1);
    CHECK(set_revocation(state.id, 1, 1750000000 + i, 1));
  }
  ca_store_tx *tx = NULL;
  ca_revoked_stream *s = NULL;
  ca_crl_put *p = NULL;
  ca_revoked_entry got[12], batch[4];
  size_t total = 0, n = 0, count = 0, len = 0;
  CHECK(ca_store_begin_large(ca.store, &tx) &&
        ca_store_tx_revoked_open(tx, rsa_id, 0, now, &s) &&
        ca_store_tx_crl_put_begin(tx, rsa_id, 3, 99, now, now + 3600, 11, &p));
  // 3 rows (a FETCH of 3 then in flight), a part, 3, the measure, 2 (of the
  // 3 read ahead), 4: the read ahead is handed out across calls.
  static const size_t kCaps[] = {3, 3, 2, 4, 4, 4, 4};
  for (size_t k = 0; s != NULL && p != NULL && k < 7; k++) {
    CHECK(ca_revoked_stream_next(s, batch, kCaps[k], &n));
    for (size_t i = 0; i < n && total < 12; i++) {
      got[total++] = batch[i];
    }
    if (k == 0) {
      CHECK(ca_crl_put_write(p, kDer, 5));
    } else if (k == 1) {
      CHECK(ca_revoked_stream_measure(s, &count, &len));
      CHECK_EQ_INT(count, 12);
    }
  }
  CHECK_EQ_INT(total, 12);
  for (size_t i = 0; i < total; i++) {
    for (size_t j = 0; j < i; j++) {
      CHECK(strcmp(got[i].serial, got[j].serial) != 0);
    }
  }
  // Again from the first, with a FETCH in flight when it rewinds.
  CHECK(s != NULL && ca_revoked_stream_rewind(s) &&
        ca_revoked_stream_next(s, batch, 4, &n) && n == 4 &&
        ca_revoked_stream_rewind(s));
  size_t again = 0;
  for (int k = 0; s != NULL && k < 5; k++) {
    CHECK(ca_revoked_stream_next(s, batch, 4, &n));
    for (size_t i = 0; i < n && again < 12; i++, again++) {
      CHECK_EQ_STR(batch[i].serial, got[again].serial);
    }
  }
  CHECK_EQ_INT(again, 12);
  // A FETCH in flight when the stream closes.
  CHECK(s != NULL && ca_revoked_stream_rewind(s) &&
        ca_revoked_stream_next(s, batch, 4, &n));
  ca_revoked_stream_close(s);
  CHECK(p != NULL && ca_crl_put_write(p, kDer, 5) &&
        ca_crl_put_write(p, kDer, 1) && ca_crl_put_finish(p, 0));
  CHECK(ca_store_commit(&tx));
  ca_crl_row row;
  int found = 0;
  CHECK(ca_store_get_shard_crl(ca.store, rsa_id, 3, &row, &found) && found);
  CHECK(found && row.number == 99 && row.der_len == 11);
  if (found) {
    OPENSSL_free(row.der);
  }
}

typedef struct second_tx {
  int64_t issuer;
  uint64_t number;
  int ok;
} second_tx;

static void *next_number_in_second_tx(void *arg) {
  second_tx *s = arg;
  ca_store_tx *tx = NULL;
  s->ok = ca_store_begin_large(ca.store, &tx) &&
          ca_store_tx_next_crl_number(tx, s->issuer, &s->number);
  ca_store_rollback(tx);
  return NULL;
}

static int put_crl(ca_store_tx *tx, int64_t issuer, uint64_t number,
                   int64_t this_update) {
  const uint8_t der[3] = {0x30, 0x01, (uint8_t)number};
  return ca_store_tx_put_crl(tx, issuer, number, this_update,
                             this_update + 3600, der, sizeof(der));
}

TEST(crl_numbers_follow_one_another_and_the_row_is_locked) {
  ca_store_tx *tx = NULL;
  uint64_t number = 0;
  ca_crl_row crl;
  int found = -1;
  CHECK(ca_store_get_crl(ca.store, ec_id, &crl, &found));
  CHECK_EQ_INT(found, 0);
  CHECK(ca_store_begin(ca.store, &tx));
  CHECK(ca_store_tx_next_crl_number(tx, ec_id, &number));
  CHECK_EQ_INT(number, 1);
  CHECK(put_crl(tx, ec_id, number, 1760000000));
  CHECK(ca_store_commit(&tx));
  CHECK(ca_store_get_crl(ca.store, ec_id, &crl, &found));
  CHECK_EQ_INT(found, 1);
  CHECK_EQ_INT(crl.number, 1);
  CHECK_EQ_INT(crl.this_update, 1760000000);
  CHECK_EQ_INT(crl.next_update, 1760003600);
  const uint8_t want[3] = {0x30, 0x01, 1};
  CHECK_EQ_BYTES(crl.der, crl.der_len, want, sizeof(want));
  OPENSSL_free(crl.der);

  // A rolled back CRL leaves the stored one.
  CHECK(ca_store_begin(ca.store, &tx));
  CHECK(ca_store_tx_next_crl_number(tx, ec_id, &number));
  CHECK_EQ_INT(number, 2);
  CHECK(put_crl(tx, ec_id, number, 1760000100));
  ca_store_rollback(tx);
  CHECK(ca_store_get_crl(ca.store, ec_id, &crl, &found));
  CHECK(found && crl.number == 1);
  OPENSSL_free(crl.der);

  // While one transaction holds the row, another waits for it and then
  // reads the number the first one stored.
  CHECK(ca_store_begin(ca.store, &tx));
  CHECK(ca_store_tx_next_crl_number(tx, ec_id, &number));
  CHECK_EQ_INT(number, 2);
  second_tx s = {.issuer = ec_id};
  pthread_t thread;
  CHECK(pthread_create(&thread, NULL, next_number_in_second_tx, &s) == 0);
  usleep(300 * 1000);  // long enough for the second one to reach the lock
  CHECK(put_crl(tx, ec_id, number, 1760000200));
  CHECK(ca_store_commit(&tx));
  pthread_join(thread, NULL);
  CHECK(s.ok);
  CHECK_EQ_INT(s.number, 3);
  // Other CAs count on their own.
  CHECK(ca_store_begin(ca.store, &tx));
  CHECK(ca_store_tx_next_crl_number(tx, rsa_id, &number));
  ca_store_rollback(tx);
  CHECK_EQ_INT(number, 1);
}

TEST(responders_are_recorded_per_node_newest_first) {
  const int64_t now = (int64_t)time(NULL);
  ca_new_cert_row r[3] = {record(ec_id, "c1", now + 86400),
                          record(ec_id, "c2", now + 2 * 86400),
                          record(ec_id, "c3", now + 3 * 86400)};
  CHECK(insert(r, 3));
  const char *node[3] = {"node-a", "node-a", "node-b"};
  for (int i = 0; i < 3; i++) {
    ca_store_tx *tx = NULL;
    char file[32];
    snprintf(file, sizeof(file), "ocsp-%s.key", r[i].serial);
    CHECK(ca_store_begin(ca.store, &tx));
    CHECK(ca_store_tx_add_responder(tx, ec_id, r[i].serial, node[i], file));
    CHECK(ca_store_commit(&tx));
  }
  ca_responder_row *rows = NULL;
  size_t n = 0;
  CHECK(ca_store_find_responders(ca.store, ec_id, "node-a", &rows, &n));
  CHECK_EQ_INT(n, 2);
  if (n == 2) {
    CHECK_EQ_STR(rows[0].key_file, "ocsp-c2.key");
    CHECK_EQ_INT(rows[0].not_after, now + 2 * 86400);
    CHECK_EQ_BYTES(rows[0].der, rows[0].der_len, kDer, sizeof(kDer));
    CHECK_EQ_STR(rows[1].key_file, "ocsp-c1.key");
  }
  ca_responder_rows_free(rows, n);
  CHECK(ca_store_find_responders(ca.store, rsa_id, "node-a", &rows, &n));
  CHECK_EQ_INT(n, 0);
  ca_responder_rows_free(rows, n);
  // No certificate of that serial under that CA: nothing is recorded (the
  // call itself does not say so; ocsp_delegate.c inserts the certificate
  // first in the same transaction).
  ca_store_tx *tx = NULL;
  CHECK(ca_store_begin(ca.store, &tx));
  (void)ca_store_tx_add_responder(tx, rsa_id, "c1", "node-c", "x.key");
  CHECK(ca_store_commit(&tx));
  CHECK(ca_store_find_responders(ca.store, rsa_id, "node-c", &rows, &n));
  CHECK_EQ_INT(n, 0);
  ca_responder_rows_free(rows, n);
}

// ca_store_commit_revocations writes from the certificates that
// ca_store_begin_revocations kept in its transaction: any other transaction
// is refused and rolled back, its connection back in the pool.
TEST(a_batch_is_committed_only_in_the_transaction_that_read_it) {
  const int64_t now = (int64_t)time(NULL);
  const ca_new_cert_row r = record(ec_id, "e1", now + 86400);
  ca_store_tx *tx = NULL;
  uint8_t collided[1] = {0};
  CHECK(ca_store_begin(ca.store, &tx));
  CHECK(ca_store_tx_insert_certificates(tx, &r, 1, collided));
  const ca_revocation_row row = {.id = 1, .revoked_at = now, .reason = 1};
  const ca_revocation_writes w = {.rows = &row, .n = 1};
  CHECK(!ca_store_commit_revocations(&tx, &w));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_INTERNAL);
  CHECK(tx == NULL);
  ca_cert_state state;
  CHECK_EQ_INT(lock("e1", ec_id, &state), 0);  // rolled back
}

int main(void) {
  if (!mod_ca_open(&ca, "store-revocation", 3)) {
    mod_ca_close(&ca);
    return 1;
  }
  ec_id = ca_authority_find(ca.authority, "ec-issuing")->id;
  rsa_id = ca_authority_find(ca.authority, "rsa-issuing")->id;
  RUN(a_serial_is_found_under_its_issuer_and_reported_under_two);
  RUN(a_crl_lists_the_revoked_certificates_not_yet_expired);
  RUN(the_cursor_read_ahead_meets_the_crls_other_statements);
  RUN(crl_numbers_follow_one_another_and_the_row_is_locked);
  RUN(responders_are_recorded_per_node_newest_first);
  RUN(a_batch_is_committed_only_in_the_transaction_that_read_it);
  mod_ca_close(&ca);
  return test_summary();
}
