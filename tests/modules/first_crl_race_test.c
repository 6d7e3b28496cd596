// The first CRL of a CA has no row in `crls` yet, so a SELECT ... FOR
// UPDATE of that row locks nothing: two nodes (two stores) publishing at
// once used to both read number 1, and the second overwrote the first's
// CRL with another CRL numbered 1, built from what it saw before the first
// committed (RFC 5280 5.2.3 wants increasing numbers). The CA's CRL lock
// (ca_store_tx_lock_crl), which exists before the row does, makes the
// second wait for the first and take number 2.
//
// Once a row exists, the row lock works too (store_revocation_test).
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ca/store/store.h"
#include "tests/modules/fixture.h"
#include "tests/support/test.h"

typedef struct node_b {
  ca_store *store;
  int64_t issuer;
  uint64_t number;
  int ok;
} node_b;

static void *second_node(void *arg) {
  node_b *b = arg;
  ca_store_tx *tx = NULL;
  b->ok = ca_store_begin_large(b->store, &tx) &&
          ca_store_tx_next_crl_number(tx, b->issuer, &b->number);
  ca_store_rollback(tx);
  return NULL;
}

TEST(two_nodes_publishing_the_first_crl_get_two_numbers) {
  mod_ca ca;
  CHECK(mod_ca_open(&ca, "first-crl", 2));
  node_b b = {.issuer = ca_authority_find(ca.authority, "ec-issuing")->id};
  CHECK(ca_store_open(ca.db.url, 2, &b.store));
  ca_store_tx *tx = NULL;
  uint64_t number = 0;
  CHECK(ca_store_begin_large(ca.store, &tx));
  CHECK(ca_store_tx_next_crl_number(tx, b.issuer, &number));
  CHECK_EQ_INT(number, 1);
  pthread_t thread;
  CHECK(pthread_create(&thread, NULL, second_node, &b) == 0);
  usleep(300 * 1000);
  static const uint8_t kDer[] = {0x30, 0x00};
  CHECK(ca_store_tx_put_crl(tx, b.issuer, number, 1760000000, 1760003600, kDer,
                            sizeof(kDer)));
  CHECK(ca_store_commit(&tx));
  pthread_join(thread, NULL);
  CHECK(b.ok);
  // The second node must see the first one's CRL and take the next number.
  CHECK_EQ_INT(b.number, 2);
  ca_store_free(b.store);
  mod_ca_close(&ca);
}

int main(void) {
  RUN(two_nodes_publishing_the_first_crl_get_two_numbers);
  return test_summary();
}
