// Unit tests of ca/issue/keypool.c: the pool fills to its targets, hands each
// key out once, refills, falls back to generating on demand, and parses its
// configuration.
#include <openssl/evp.h>
#include <openssl/nid.h>
#include <unistd.h>

#include "ca/issue/keypool.h"
#include "tests/support/test.h"

static int wait_ready(ca_keypool *pool, ca_keypool_kind kind, size_t want) {
  for (int i = 0; i < 600; i++) {
    ca_keypool_stats stats;
    ca_keypool_get_stats(pool, &stats);
    if (stats.ready[kind] == want) {
      return 1;
    }
    usleep(50 * 1000);
  }
  return 0;
}

TEST(fills_hands_out_once_and_refills) {
  ca_keypool_config config;
  CHECK(ca_keypool_config_parse(&config, "none"));
  CHECK(ca_keypool_config_parse(&config, "EC-P256=5"));
  ca_keypool *pool = NULL;
  CHECK(ca_keypool_start(&config, &pool));
  CHECK(wait_ready(pool, CA_KEYPOOL_P256, 5));
  const ca_key_spec p256 = {CA_KEY_EC, 0, NID_X9_62_prime256v1};
  EVP_PKEY *keys[8];
  int pooled = 0;
  for (int i = 0; i < 8; i++) {
    int from_pool;
    keys[i] = ca_keypool_take(pool, &p256, &from_pool);
    CHECK(keys[i] != NULL);
    CHECK_EQ_INT(EVP_PKEY_id(keys[i]), EVP_PKEY_EC);
    pooled += from_pool;
  }
  // At least the five that were ready; the filler may have added some.
  CHECK(pooled >= 5);
  for (int i = 0; i < 8; i++) {
    for (int k = i + 1; k < 8; k++) {
      CHECK(EVP_PKEY_cmp(keys[i], keys[k]) != 1);
    }
  }
  ca_keypool_stats stats;
  ca_keypool_get_stats(pool, &stats);
  CHECK_EQ_INT(stats.from_pool + stats.on_demand, 8);
  CHECK_EQ_INT(stats.from_pool, pooled);
  CHECK(wait_ready(pool, CA_KEYPOOL_P256, 5));
  // A kind without a pool is generated on demand.
  const ca_key_spec p384 = {CA_KEY_EC, 0, NID_secp384r1};
  int from_pool = 1;
  EVP_PKEY *other = ca_keypool_take(pool, &p384, &from_pool);
  CHECK(other != NULL && !from_pool);
  EVP_PKEY_free(other);
  for (int i = 0; i < 8; i++) {
    EVP_PKEY_free(keys[i]);
  }
  ca_keypool_stop(pool);
}

TEST(no_pool_generates_every_key) {
  const ca_key_spec rsa = {CA_KEY_RSA, 2048, 0};
  int from_pool = 1;
  EVP_PKEY *key = ca_keypool_take(NULL, &rsa, &from_pool);
  CHECK(key != NULL && !from_pool);
  CHECK_EQ_INT(EVP_PKEY_bits(key), 2048);
  EVP_PKEY_free(key);
  ca_keypool_stats stats;
  ca_keypool_get_stats(NULL, &stats);
  CHECK_EQ_INT(stats.from_pool, 0);
  ca_keypool_stop(NULL);
}

TEST(configuration) {
  ca_keypool_config config;
  ca_keypool_config_init(&config);
  CHECK_EQ_INT(config.target[CA_KEYPOOL_RSA2048], 8);
  CHECK_EQ_INT(config.target[CA_KEYPOOL_P256], 32);
  CHECK(ca_keypool_config_parse(&config, "RSA-4096=0,EC-P384=3"));
  CHECK_EQ_INT(config.target[CA_KEYPOOL_RSA4096], 0);
  CHECK_EQ_INT(config.target[CA_KEYPOOL_P384], 3);
  CHECK_EQ_INT(config.target[CA_KEYPOOL_RSA2048], 8);
  const char *bad[] = {"RSA-2048", "RSA-2048=x",   "RSA-1024=2",
                       "DSA=1",    "EC-P256=5000", "EC-P256="};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    CHECK(!ca_keypool_config_parse(&config, bad[i]));
    CHECK_EQ_INT(ca_err_get()->code, CA_ERR_PARAMETER_INVALID);
  }
  CHECK_EQ_STR(ca_keypool_kind_name(CA_KEYPOOL_P384), "EC-P384");
}

TEST(stop_with_keys_inside_frees_them) {
  ca_keypool_config config;
  CHECK(ca_keypool_config_parse(&config, "none"));
  CHECK(ca_keypool_config_parse(&config, "EC-P256=3,EC-P384=2"));
  ca_keypool *pool = NULL;
  CHECK(ca_keypool_start(&config, &pool));
  CHECK(wait_ready(pool, CA_KEYPOOL_P384, 2));
  // Leak checking (the asan suite) proves the keys are freed.
  ca_keypool_stop(pool);
}

int main(void) {
  RUN(fills_hands_out_once_and_refills);
  RUN(no_pool_generates_every_key);
  RUN(configuration);
  RUN(stop_with_keys_inside_frees_them);
  return test_summary();
}
