// Serial collisions (ARCHITECTURE.md invariant 2) through the real engine and a
// real PostgreSQL: a serial that exists already is drawn again and the
// certificate re-signed, never returned twice. The collision is forced
// with ca_serial_set_test_source; everything else is the production path
// (binary COPY fails on the duplicate, the group is redone with INSERT ...
// ON CONFLICT, the collided row re-signed).
#include <openssl/mem.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ca/issue/authority.h"
#include "ca/issue/engine.h"
#include "ca/store/store.h"
#include "ca/x509/serial.h"
#include "tests/integration/harness.h"
#include "tests/support/csr_maker.h"
#include "tests/support/test.h"

// The first |forced| draws all return the same value.
static atomic_int forced;

static int fixed_source(uint8_t out[16]) {
  if (atomic_fetch_sub(&forced, 1) <= 0) {
    return 0;
  }
  memset(out, 0x42, 16);
  return 1;
}

TEST(a_collided_serial_is_drawn_again_and_recorded_once) {
  it_db db;
  it_db_create(&db);
  char dir[512];
  it_tmpdir("collision", dir, sizeof(dir));
  ca_store *store = NULL;
  ca_authority *authority = NULL;
  ca_engine *engine = NULL;
  ca_authority_config config;
  ca_authority_config_init(&config);
  config.data_dir = dir;
  CHECK(ca_store_open(db.url, 2, &store));
  CHECK(ca_store_migrate(store));
  CHECK(ca_authority_open(store, &config, &authority));
  ca_engine_config engine_config;
  ca_engine_config_init(&engine_config);
  engine_config.workers = 1;
  CHECK(ca_engine_start(authority, store, &engine_config, &engine));

  test_csr_spec spec = {.key = "EC-P256", .subject = "/CN=dup.example.com"};
  size_t len;
  uint8_t *csr = test_make_csr(&spec, &len, NULL);
  ca_issue_request request = {.profile = "tomcat-ECDSA",
                              .csr = csr,
                              .csr_len = len,
                              .validity_days = 0};
  ca_issue_request four[4] = {request, request, request, request};

  // Two draws of the same serial: the first certificate takes it, the
  // second collides with it in the next transaction.
  atomic_store(&forced, 2);
  ca_serial_set_test_source(fixed_source);
  ca_issued first[1], second[4];
  CHECK(ca_engine_issue(engine, &request, 1, "test", "127.0.0.1", first));
  CHECK(ca_engine_issue(engine, four, 4, "test", "127.0.0.1", second));
  ca_serial_set_test_source(NULL);

  CHECK_EQ_INT(first[0].err.code, CA_OK);
  CHECK_EQ_STR(first[0].serial_hex, "42424242424242424242424242424242");
  for (int i = 0; i < 4; i++) {
    CHECK_EQ_INT(second[i].err.code, CA_OK);
    CHECK(strcmp(second[i].serial_hex, first[0].serial_hex) != 0);
  }
  ca_engine_stats stats;
  ca_engine_get_stats(engine, &stats);
  CHECK_EQ_INT(stats.serial_collisions, 1);
  CHECK_EQ_INT(stats.groups_failed, 0);
  // Five certificates, five serials, the forced one once.
  CHECK_EQ_INT(it_db_int(&db, "SELECT count(*) FROM certificates", NULL), 5);
  CHECK_EQ_INT(
      it_db_int(&db, "SELECT count(DISTINCT serial) FROM certificates", NULL),
      5);
  CHECK_EQ_INT(
      it_db_int(&db, "SELECT count(*) FROM certificates WHERE serial = $1",
                first[0].serial_hex),
      1);
  // The re-signed certificate carries the serial it was recorded under.
  for (int i = 0; i < 4; i++) {
    CHECK_EQ_INT(
        it_db_int(&db, "SELECT count(*) FROM certificates WHERE serial = $1",
                  second[i].serial_hex),
        1);
    ca_x509 cert;
    ca_serial serial;
    char hex[CA_SERIAL_HEX_LEN];
    CHECK(ca_x509_parse(&cert, second[i].der, second[i].der_len) &&
          ca_serial_from_integer(&cert.serial, &serial));
    ca_serial_to_hex(&serial, hex);
    CHECK_EQ_STR(hex, second[i].serial_hex);
  }
  ca_issued_cleanup(&first[0]);
  for (int i = 0; i < 4; i++) {
    ca_issued_cleanup(&second[i]);
  }
  OPENSSL_free(csr);
  ca_engine_stop(engine);
  ca_authority_free(authority);
  ca_store_free(store);
  it_db_drop(&db);
}

TEST(endless_collisions_fail_the_request_and_store_nothing) {
  it_db db;
  it_db_create(&db);
  char dir[512];
  it_tmpdir("collision-endless", dir, sizeof(dir));
  ca_store *store = NULL;
  ca_authority *authority = NULL;
  ca_engine *engine = NULL;
  ca_authority_config config;
  ca_authority_config_init(&config);
  config.data_dir = dir;
  CHECK(ca_store_open(db.url, 2, &store));
  CHECK(ca_store_migrate(store));
  CHECK(ca_authority_open(store, &config, &authority));
  ca_engine_config engine_config;
  ca_engine_config_init(&engine_config);
  CHECK(ca_engine_start(authority, store, &engine_config, &engine));
  test_csr_spec spec = {.key = "EC-P256", .subject = "/CN=dup.example.com"};
  size_t len;
  uint8_t *csr = test_make_csr(&spec, &len, NULL);
  ca_issue_request request = {.profile = "tomcat-ECDSA",
                              .csr = csr,
                              .csr_len = len,
                              .validity_days = 0};
  // A broken random source that always returns the same value: the first
  // certificate is fine, the next can never get a fresh serial.
  atomic_store(&forced, 1000);
  ca_serial_set_test_source(fixed_source);
  ca_issued one[1], two[1];
  CHECK(ca_engine_issue(engine, &request, 1, "test", "127.0.0.1", one));
  CHECK(!ca_engine_issue(engine, &request, 1, "test", "127.0.0.1", two));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_SERIAL_EXHAUSTED);
  CHECK_EQ_INT(two[0].err.code, CA_ERR_SERIAL_EXHAUSTED);
  CHECK(two[0].der == NULL);
  ca_serial_set_test_source(NULL);
  CHECK_EQ_INT(it_db_int(&db, "SELECT count(*) FROM certificates", NULL), 1);
  ca_issued_cleanup(&one[0]);
  ca_issued_cleanup(&two[0]);
  OPENSSL_free(csr);
  ca_engine_stop(engine);
  ca_authority_free(authority);
  ca_store_free(store);
  it_db_drop(&db);
}

int main(void) {
  RUN(a_collided_serial_is_drawn_again_and_recorded_once);
  RUN(endless_collisions_fail_the_request_and_store_nothing);
  return test_summary();
}
