// ca/store/store_monitor.c against a real PostgreSQL: which certificates
// the expiry monitor counts (good ones in the window or expired at most
// CA_LIMIT_MONITOR_EXPIRED_DAYS ago; not revoked ones, not delegated
// responders, not ones renewed or replaced), soonest first; and the notices
// claimed by one node only, resent after a failure or a claim gone stale,
// never after they were sent.
#include <openssl/mem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ca/store/store_monitor.h"
#include "tests/modules/fixture.h"
#include "tests/support/test.h"

#define DAY 86400

static mod_ca ca;
static int64_t ec_id, now;

static const uint8_t kDer[] = {0x30, 0x03, 0x02, 0x01, 0x09};

static ca_new_cert_row record(int64_t issuer, const char *serial,
                              const char *profile, const char *cn,
                              int64_t not_after) {
  return (ca_new_cert_row){.issuer_id = issuer,
                           .serial = serial,
                           .profile = profile,
                           .subject = "CN=x",
                           .common_name = cn,
                           .key_type = CA_KEY_EC,
                           .key_bits = 256,
                           .not_before = now - 400 * DAY,
                           .not_after = not_after,
                           .der = kDer,
                           .der_len = sizeof(kDer),
                           .requester = "module-test",
                           .self_signed = issuer == 0};
}

static int64_t insert(const ca_new_cert_row *r) {
  ca_store_tx *tx = NULL;
  uint8_t collided = 0;
  if (!ca_store_begin(ca.store, &tx)) {
    return 0;
  }
  if (!ca_store_tx_insert_certificates(tx, r, 1, &collided) ||
      !ca_store_commit(&tx) || collided) {
    ca_store_rollback(tx);
    return 0;
  }
  return mod_db_int(&ca.db, "SELECT id FROM certificates WHERE serial = $1",
                    r->serial, NULL);
}

static int setup(void) {
  now = (int64_t)time(NULL);
  ca_new_cert_row r[] = {
      record(ec_id, "e1", "tomcat", "soon.example.com", now + 2 * DAY),
      record(ec_id, "e2", "tomcat", "revoked.example.com", now + 3 * DAY),
      record(ec_id, "e3", "ocsp-responder", "ocsp", now + 4 * DAY),
      // Renewed: the same profile and name expires later.
      record(ec_id, "e4", "tomcat", "renewed.example.com", now + 5 * DAY),
      record(ec_id, "e5", "tomcat", "renewed.example.com", now + 100 * DAY),
      record(ec_id, "e7", "tomcat", "expired.example.com", now - DAY),
      record(ec_id, "e8", "tomcat", "long-gone.example.com", now - 60 * DAY),
      // The same name under another profile is no renewal.
      record(ec_id, "e9", "ipsec", "renewed.example.com", now + 6 * DAY),
  };
  for (size_t i = 0; i < sizeof(r) / sizeof(r[0]); i++) {
    if (insert(&r[i]) == 0) {
      return 0;
    }
  }
  // A self-signed identity replaced by its successor (:regenerate).
  ca_new_cert_row old = record(0, "e6", "CallManager", "cucm", now + 3 * DAY);
  const int64_t old_id = insert(&old);
  ca_new_cert_row successor =
      record(0, "e10", "CallManager", "cucm-new", now + 300 * DAY);
  successor.replaces_id = old_id;
  return old_id != 0 && insert(&successor) != 0 &&
         mod_db_exec(&ca.db,
                     "INSERT INTO revocations SELECT issuer_id, serial, id,"
                     " crl_shard, not_after, now(), 1 FROM certificates"
                     " WHERE serial = 'e2'");
}

TEST(only_the_certificates_that_need_a_notice_count) {
  ca_expiring *rows = NULL;
  size_t n = 0;
  CHECK(ca_store_monitor_expiring(ca.store, now, 30 * DAY, &rows, &n));
  const char *want[] = {"e7", "e1", "e9"};
  CHECK_EQ_INT(n, 3);
  for (size_t i = 0; i < n && i < 3; i++) {
    CHECK_EQ_STR(rows[i].serial, want[i]);
    CHECK_EQ_INT(rows[i].trust, 0);
    CHECK_EQ_STR(rows[i].issuer, "ec-issuing");
  }
  ca_expiring_free(rows, n);
  // A narrower window.
  CHECK(ca_store_monitor_expiring(ca.store, now, 3 * DAY, &rows, &n));
  CHECK_EQ_INT(n, 2);
  ca_expiring_free(rows, n);

  ca_expiry_counts counts;
  CHECK(ca_store_monitor_counts(ca.store, now, &counts));
  CHECK_EQ_INT(counts.within_1d, 0);
  CHECK_EQ_INT(counts.within_7d, 2);
  CHECK_EQ_INT(counts.expired, 1);
}

// notices_where counts the rows of monitor_notices matching |where| (SQL).
static long long notices_where(const char *where) {
  char sql[256];
  snprintf(sql, sizeof(sql), "SELECT count(*) FROM monitor_notices WHERE %s",
           where);
  return mod_db_int(&ca.db, sql, NULL, NULL);
}

// The last claim's name (ca_store_monitor_claim's |out_claim|).
static int64_t last_claim;

static int claim(ca_expiring *rows, size_t n, const char *destination,
                 const char *node, uint8_t *claimed) {
  memset(claimed, 0xff, n);
  if (!ca_store_monitor_claim(ca.store, rows, n, 1, destination, node, claimed,
                              &last_claim)) {
    return -1;
  }
  int count = 0;
  for (size_t i = 0; i < n; i++) {
    count += claimed[i];
  }
  return count;
}

TEST(a_notice_is_claimed_by_one_node_and_sent_once) {
  ca_expiring *rows = NULL;
  size_t n = 0;
  CHECK(ca_store_monitor_expiring(ca.store, now, 30 * DAY, &rows, &n));
  CHECK_EQ_INT(n, 3);
  uint8_t claimed[3], other[3];
  const char *mail = "mailto:ops@example.com";
  CHECK_EQ_INT(claim(rows, n, mail, "node-a", claimed), 3);
  const int64_t mail_claim = last_claim;
  CHECK(mail_claim != 0);
  // Being sent by node-a: node-b gets none.
  CHECK_EQ_INT(claim(rows, n, mail, "node-b", other), 0);
  CHECK_EQ_INT(last_claim, 0);
  CHECK(ca_store_monitor_finish(ca.store, mail_claim, 1, NULL));
  // Sent: nobody sends it again ...
  CHECK_EQ_INT(claim(rows, n, mail, "node-b", other), 0);
  // ... to that destination; another one gets its own.
  const char *hook = "https://hooks.example.com/pki";
  CHECK_EQ_INT(claim(rows, n, hook, "node-b", claimed), 3);
  CHECK(last_claim != mail_claim);
  // A failure is claimed again at the next check.
  CHECK(ca_store_monitor_finish(ca.store, last_claim, 0, "connection refused"));
  CHECK_EQ_INT(
      notices_where("state = 'failed' AND error = 'connection refused'"), 3);
  CHECK_EQ_INT(claim(rows, n, hook, "node-a", claimed), 3);
  const int64_t slow_claim = last_claim;
  // A claim whose node died sending is taken over after ten minutes.
  CHECK(mod_db_exec(&ca.db,
                    "UPDATE monitor_notices SET claimed_at = now() -"
                    " interval '11 minutes' WHERE destination ="
                    " 'https://hooks.example.com/pki'"));
  CHECK_EQ_INT(claim(rows, n, hook, "node-b", claimed), 3);
  CHECK_EQ_INT(notices_where("node = 'node-b' AND state = 'sending'"), 3);
  // node-a was only slow: its outcome, late, leaves node-b's claim alone.
  CHECK(ca_store_monitor_finish(ca.store, slow_claim, 0, "timed out"));
  CHECK_EQ_INT(
      notices_where("node = 'node-b' AND state = 'sending' AND error IS NULL"),
      3);
  CHECK(ca_store_monitor_finish(ca.store, last_claim, 1, NULL));
  // One notice failed among sent ones: the next claim takes that one, and
  // marks it in the caller's order (the claim answers in its own).
  CHECK(mod_db_exec(&ca.db,
                    "UPDATE monitor_notices SET state = 'failed' WHERE"
                    " destination = 'https://hooks.example.com/pki' AND"
                    " cert_id = (SELECT id FROM certificates WHERE serial ="
                    " 'e1')"));
  CHECK_EQ_INT(claim(rows, n, hook, "node-c", claimed), 1);
  for (size_t i = 0; i < n; i++) {
    CHECK_EQ_INT(claimed[i], strcmp(rows[i].serial, "e1") == 0);
  }

  // Pruning keeps what still suppresses a resend.
  CHECK(ca_store_monitor_prune(ca.store));
  CHECK_EQ_INT(claim(rows, n, mail, "node-c", other), 0);
  CHECK(mod_db_exec(&ca.db,
                    "UPDATE monitor_notices SET claimed_at = now() -"
                    " interval '91 days'"));
  CHECK(ca_store_monitor_prune(ca.store));
  CHECK_EQ_INT(
      mod_db_int(&ca.db, "SELECT count(*) FROM monitor_notices", NULL, NULL),
      0);
  ca_expiring_free(rows, n);
}

int main(void) {
  if (!mod_ca_open(&ca, "store-monitor", 2)) {
    mod_ca_close(&ca);
    return 1;
  }
  ec_id = ca_authority_find(ca.authority, "ec-issuing")->id;
  if (!setup()) {
    fprintf(stderr, "setup failed\n");
    mod_ca_close(&ca);
    return 1;
  }
  RUN(only_the_certificates_that_need_a_notice_count);
  RUN(a_notice_is_claimed_by_one_node_and_sent_once);
  mod_ca_close(&ca);
  return test_summary();
}
