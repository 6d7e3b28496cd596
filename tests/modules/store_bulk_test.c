// ca/store/store_bulk.c against a real PostgreSQL: an EMCC bulk export
// takes, per node and purpose of one cluster, the certificate with the
// latest notBefore among those not expired, revoked ones included; the
// --issued export pages through every certificate in id order; bulk calls
// leave their audit row.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ca/limits.h"
#include "ca/store/store_bulk.h"
#include "tests/modules/fixture.h"
#include "tests/support/test.h"

#define DAY 86400

static mod_ca ca;
static int64_t ec_id, now;

static const uint8_t kDer[] = {0x30, 0x03, 0x02, 0x01, 0x0b};

static ca_new_cert_row record(const char *serial, const char *cluster,
                              const char *node, const char *profile,
                              int64_t not_before, int64_t not_after) {
  return (ca_new_cert_row){.issuer_id = ec_id,
                           .serial = serial,
                           .profile = profile,
                           .subject = "CN=x",
                           .common_name = node,
                           .key_type = CA_KEY_EC,
                           .key_bits = 256,
                           .not_before = not_before,
                           .not_after = not_after,
                           .der = kDer,
                           .der_len = sizeof(kDer),
                           .requester = "module-test",
                           .cluster = cluster};
}

static int setup(void) {
  now = (int64_t)time(NULL);
  ca_new_cert_row r[] = {
      record("b1", "c1", "node1", "tomcat", now - 10 * DAY, now + 100 * DAY),
      record("b2", "c1", "node1", "tomcat", now - 5 * DAY, now + 100 * DAY),
      // The latest notBefore, but expired: not current.
      record("b3", "c1", "node1", "tomcat", now - 3 * DAY, now - DAY),
      record("b4", "c1", "node2", "CAPF", now - 5 * DAY, now + 100 * DAY),
      record("b5", "c2", "node1", "tomcat", now - DAY, now + 100 * DAY),
      record("b6", "c1", "node3", "CallManager", now - DAY, now + 100 * DAY),
  };
  ca_store_tx *tx = NULL;
  uint8_t collided[6] = {0};
  if (!ca_store_begin(ca.store, &tx)) {
    return 0;
  }
  if (!ca_store_tx_insert_certificates(tx, r, 6, collided) ||
      !ca_store_commit(&tx)) {
    ca_store_rollback(tx);
    return 0;
  }
  return mod_db_exec(&ca.db,
                     "INSERT INTO revocations SELECT issuer_id, serial, id,"
                     " crl_shard, not_after, now(), 4 FROM certificates"
                     " WHERE serial = 'b4'");
}

TEST(an_export_takes_the_current_certificate_of_each_node_and_purpose) {
  const char *purposes[] = {"tomcat", "CAPF"};
  ca_cert_row *rows = NULL;
  size_t n = 0;
  CHECK(ca_store_bulk_export_rows(ca.store, "c1", purposes, 2, now, &rows, &n));
  CHECK_EQ_INT(n, 2);
  if (n == 2) {
    CHECK_EQ_STR(rows[0].serial, "b2");
    CHECK_EQ_STR(rows[0].common_name, "node1");
    CHECK_EQ_STR(rows[0].status, "good");
    CHECK_EQ_BYTES(rows[0].der, rows[0].der_len, kDer, sizeof(kDer));
    // Revoked, and exported: peers must learn of it.
    CHECK_EQ_STR(rows[1].serial, "b4");
    CHECK_EQ_STR(rows[1].status, "revoked");
    CHECK_EQ_INT(rows[1].revocation_reason, 4);
    CHECK_EQ_STR(rows[1].issuer, "ec-issuing");
  }
  ca_cert_rows_free(rows, n);
  // Seen from before b3 expired, b3 is the current one of node1.
  CHECK(ca_store_bulk_export_rows(ca.store, "c1", purposes, 1, now - 2 * DAY,
                                  &rows, &n));
  CHECK_EQ_INT(n, 1);
  if (n == 1) {
    CHECK_EQ_STR(rows[0].serial, "b3");
  }
  ca_cert_rows_free(rows, n);
  // Another cluster, another purpose.
  const char *callmanager[] = {"CallManager"};
  CHECK(ca_store_bulk_export_rows(ca.store, "c2", callmanager, 1, now, &rows,
                                  &n));
  CHECK_EQ_INT(n, 0);
  ca_cert_rows_free(rows, n);
  // A purpose that is never exported is refused, not ignored.
  const char *ipsec[] = {"ipsec"};
  CHECK(!ca_store_bulk_export_rows(ca.store, "c1", ipsec, 1, now, &rows, &n));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_PARAMETER_INVALID);
}

TEST(the_issued_export_pages_through_everything_in_id_order) {
  const char *want[] = {"b1", "b2", "b3", "b4", "b5", "b6"};
  int64_t after = 0;
  size_t got = 0;
  int more = 1, pages = 0;
  while (more && pages < 10) {
    ca_cert_row *rows = NULL;
    size_t n = 0;
    CHECK(ca_store_bulk_issued_rows(ca.store, after, 4, &rows, &n, &more));
    pages++;
    for (size_t i = 0; i < n; i++) {
      if (got < 6) {
        CHECK_EQ_STR(rows[i].serial, want[got]);
      }
      CHECK(rows[i].id > after);
      got++;
    }
    if (n > 0) {
      after = rows[n - 1].id;
      CHECK_EQ_STR(rows[0].requester, "module-test");
    }
    ca_cert_rows_free(rows, n);
  }
  CHECK_EQ_INT(got, 6);
  CHECK_EQ_INT(pages, 2);
  CHECK_EQ_INT(more, 0);
  ca_cert_row *rows = NULL;
  size_t n = 0;
  CHECK(!ca_store_bulk_issued_rows(ca.store, 0, 0, &rows, &n, &more));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_PARAMETER_INVALID);
  CHECK(!ca_store_bulk_issued_rows(ca.store, 0, CA_LIMIT_ISSUED_PAGE + 1, &rows,
                                   &n, &more));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_PARAMETER_INVALID);
}

TEST(bulk_calls_leave_an_audit_row) {
  CHECK(ca_store_bulk_audit(ca.store, "admin", "bulk.export", "c1", "10.1.1.1",
                            "entries=2"));
  CHECK_EQ_INT(mod_db_int(&ca.db,
                          "SELECT count(*) FROM audit_log WHERE action ="
                          " 'bulk.export' AND object = 'c1' AND actor ="
                          " 'admin' AND source = $1 AND detail = $2",
                          "10.1.1.1", "entries=2"),
               1);
}

int main(void) {
  if (!mod_ca_open(&ca, "store-bulk", 2)) {
    mod_ca_close(&ca);
    return 1;
  }
  ec_id = ca_authority_find(ca.authority, "ec-issuing")->id;
  if (!setup()) {
    fprintf(stderr, "setup failed\n");
    mod_ca_close(&ca);
    return 1;
  }
  RUN(an_export_takes_the_current_certificate_of_each_node_and_purpose);
  RUN(the_issued_export_pages_through_everything_in_id_order);
  RUN(bulk_calls_leave_an_audit_row);
  mod_ca_close(&ca);
  return test_summary();
}
