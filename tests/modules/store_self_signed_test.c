// ca/store/store_self_signed.c against a real PostgreSQL:
// ca_store_tx_lock_for_regenerate finds a certificate by serial, prefers the
// self-signed one when a CA issued the same serial, says what replaced it,
// and locks its row so that two regenerations run one after the other.
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ca/store/store.h"
#include "tests/modules/fixture.h"
#include "tests/support/test.h"

static mod_ca ca;
static int64_t ec_id;

static const uint8_t kDer[] = {0x30, 0x03, 0x02, 0x01, 0x07};

static ca_new_cert_row record(int64_t issuer, const char *serial,
                              const char *cluster) {
  return (ca_new_cert_row){.issuer_id = issuer,
                           .serial = serial,
                           .profile = "CallManager",
                           .subject = "CN=cucm.example.com",
                           .common_name = "cucm.example.com",
                           .key_type = CA_KEY_RSA,
                           .key_bits = 2048,
                           .not_before = 1700000000,
                           .not_after = 1900000000,
                           .der = kDer,
                           .der_len = sizeof(kDer),
                           .requester = "module-test",
                           .cluster = cluster,
                           .self_signed = issuer == 0};
}

static int64_t insert(const ca_new_cert_row *r) {
  ca_store_tx *tx = NULL;
  uint8_t collided = 0;
  if (!ca_store_begin(ca.store, &tx)) {
    return 0;
  }
  if (!ca_store_tx_insert_certificates(tx, r, 1, &collided) ||
      !ca_store_commit(&tx)) {
    ca_store_rollback(tx);
    return 0;
  }
  return collided ? 0
                  : mod_db_int(&ca.db,
                               "SELECT max(id) FROM certificates WHERE serial"
                               " = $1",
                               r->serial, NULL);
}

static int find(const char *serial, ca_self_signed_row *row) {
  ca_store_tx *tx = NULL;
  int found = -1;
  if (!ca_store_begin(ca.store, &tx)) {
    return -1;
  }
  if (!ca_store_tx_lock_for_regenerate(tx, serial, row, &found)) {
    found = -1;
  }
  ca_store_rollback(tx);
  return found;
}

TEST(the_self_signed_one_is_found_with_what_replaced_it) {
  ca_new_cert_row self = record(0, "d1", "cluster-1");
  ca_new_cert_row issued = record(ec_id, "d1", NULL);
  ca_new_cert_row only_issued = record(ec_id, "d2", NULL);
  const int64_t self_id = insert(&self);
  CHECK(self_id > 0);
  CHECK(insert(&issued) > 0);
  CHECK(insert(&only_issued) > 0);

  ca_self_signed_row row;
  memset(&row, 0, sizeof(row));
  CHECK_EQ_INT(find("d1", &row), 1);
  CHECK_EQ_INT(row.id, self_id);
  CHECK_EQ_INT(row.self_signed, 1);
  CHECK_EQ_STR(row.profile, "CallManager");
  CHECK_EQ_STR(row.key_type, "RSA");
  CHECK_EQ_INT(row.key_bits, 2048);
  CHECK_EQ_STR(row.cluster, "cluster-1");
  CHECK_EQ_INT(row.not_before, 1700000000);
  CHECK_EQ_INT(row.not_after, 1900000000);
  CHECK_EQ_BYTES(row.der, row.der_len, kDer, sizeof(kDer));
  CHECK(row.replaced_by == NULL);
  ca_self_signed_row_cleanup(&row);

  CHECK_EQ_INT(find("d2", &row), 1);
  CHECK_EQ_INT(row.self_signed, 0);
  CHECK(row.cluster == NULL);
  ca_self_signed_row_cleanup(&row);

  memset(&row, 0x5a, sizeof(row));
  CHECK_EQ_INT(find("dead", &row), 0);
  CHECK_EQ_INT(row.id, 0x5a5a5a5a5a5a5a5a);  // untouched
  memset(&row, 0, sizeof(row));

  // A successor names the one it replaced.
  ca_new_cert_row next = record(0, "d3", "cluster-1");
  next.replaces_id = self_id;
  CHECK(insert(&next) > 0);
  CHECK_EQ_INT(find("d1", &row), 1);
  CHECK_EQ_STR(row.replaced_by, "d3");
  ca_self_signed_row_cleanup(&row);
  // And one certificate is replaced once.
  ca_new_cert_row again = record(0, "d4", NULL);
  again.replaces_id = self_id;
  CHECK_EQ_INT(insert(&again), 0);
}

static atomic_int second_done;

static void *second_regeneration(void *arg) {
  (void)arg;
  ca_self_signed_row row;
  memset(&row, 0, sizeof(row));
  (void)find("d5", &row);
  ca_self_signed_row_cleanup(&row);
  atomic_store(&second_done, 1);
  return NULL;
}

TEST(two_regenerations_of_one_certificate_take_turns) {
  ca_new_cert_row self = record(0, "d5", NULL);
  CHECK(insert(&self) > 0);
  ca_store_tx *tx = NULL;
  ca_self_signed_row row;
  int found = 0;
  CHECK(ca_store_begin(ca.store, &tx));
  CHECK(ca_store_tx_lock_for_regenerate(tx, "d5", &row, &found));
  CHECK_EQ_INT(found, 1);
  ca_self_signed_row_cleanup(&row);
  pthread_t thread;
  CHECK(pthread_create(&thread, NULL, second_regeneration, NULL) == 0);
  usleep(500 * 1000);
  // The second one waits on the row while the first holds it.
  CHECK_EQ_INT(atomic_load(&second_done), 0);
  ca_store_rollback(tx);
  pthread_join(thread, NULL);
  CHECK_EQ_INT(atomic_load(&second_done), 1);
}

int main(void) {
  if (!mod_ca_open(&ca, "store-self-signed", 3)) {
    mod_ca_close(&ca);
    return 1;
  }
  ec_id = ca_authority_find(ca.authority, "ec-issuing")->id;
  RUN(the_self_signed_one_is_found_with_what_replaced_it);
  RUN(two_regenerations_of_one_certificate_take_turns);
  mod_ca_close(&ca);
  return test_summary();
}
