// ca/store/store_access.c against a real PostgreSQL: tokens stored as
// hashes only, found by hash while live and no longer once revoked; the
// first admin token made once; the admin allowlist with its one spelling
// per network, its conflicts and its bound; every change audited and
// announced on CA_ACCESS_CHANNEL.
#include <inttypes.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca/store/store_access.h"
#include "tests/modules/fixture.h"
#include "tests/support/test.h"

static mod_db db;
static ca_store *store;

// notices returns how many notifications |conn| receives on
// CA_ACCESS_CHANNEL, waiting until |want| came or a second passed (so
// that "none came" is a second of silence).
static int notices(PGconn *conn, int want) {
  return mod_wait_notices(conn, CA_ACCESS_CHANNEL, want, 1000, NULL, 0);
}

static PGconn *listen_access(void) {
  PGconn *conn = mod_db_connect(&db);
  PGresult *res = PQexec(conn, "LISTEN " CA_ACCESS_CHANNEL);
  CHECK(PQresultStatus(res) == PGRES_COMMAND_OK);
  PQclear(res);
  return conn;
}

TEST(tokens_are_found_by_hash_until_revoked) {
  PGconn *listener = listen_access();
  ca_principal scope;
  memset(&scope, 0, sizeof(scope));
  CHECK(ca_profiles_parse(&scope, "tomcat,ipsec"));
  char token[CA_TOKEN_LEN + 1];
  int64_t id = 0;
  CHECK(ca_store_token_create(store, "deployer", CA_ROLE_ISSUER, &scope,
                              "admin-a", "10.0.0.1", token, &id));
  CHECK_EQ_INT(strlen(token), CA_TOKEN_LEN);
  CHECK(id > 0);
  // A new token is announced to nobody: no node caches a miss
  // (api/server/auth.c), so none has anything to drop.
  // The token never enters the database; its hash does.
  CHECK_EQ_INT(mod_db_int(&db,
                          "SELECT count(*) FROM api_tokens WHERE"
                          " position($1 in name) > 0 OR"
                          " position($1 in profiles::text) > 0",
                          token, NULL),
               0);
  uint8_t hash[32];
  SHA256((const uint8_t *)token, strlen(token), hash);
  char hex[65];
  for (int i = 0; i < 32; i++) {
    snprintf(hex + 2 * i, 3, "%02x", hash[i]);
  }
  CHECK_EQ_INT(mod_db_int(&db,
                          "SELECT count(*) FROM api_tokens WHERE token_hash ="
                          " decode($1, 'hex')",
                          hex, NULL),
               1);

  ca_principal found_as;
  int found = -1;
  CHECK(ca_store_token_find(store, hash, &found_as, &found));
  CHECK_EQ_INT(found, 1);
  CHECK_EQ_INT(found_as.role, CA_ROLE_ISSUER);
  char name[96];
  snprintf(name, sizeof(name), "token:%" PRId64 ":deployer", id);
  CHECK_EQ_STR(found_as.name, name);
  CHECK_EQ_INT(found_as.profile_count, 2);
  CHECK(ca_principal_may_issue(&found_as, "tomcat"));
  CHECK(!ca_principal_may_issue(&found_as, "CallManager"));
  // Any other hash is nobody.
  uint8_t other[32];
  memcpy(other, hash, 32);
  other[31] ^= 1;
  CHECK(ca_store_token_find(store, other, &found_as, &found));
  CHECK_EQ_INT(found, 0);

  ca_token_row *records = NULL;
  size_t n = 0;
  CHECK(ca_store_token_list(store, &records, &n));
  CHECK_EQ_INT(n, 1);
  if (n == 1) {
    CHECK_EQ_INT(records[0].id, id);
    CHECK_EQ_STR(records[0].name, "deployer");
    CHECK_EQ_STR(records[0].created_by, "admin-a");
    CHECK_EQ_INT(records[0].revoked_at, 0);
  }
  free(records);

  CHECK(ca_store_token_revoke(store, id, "admin-b", "10.0.0.2"));
  CHECK_EQ_INT(notices(listener, 1), 1);
  CHECK(ca_store_token_find(store, hash, &found_as, &found));
  CHECK_EQ_INT(found, 0);
  CHECK(!ca_store_token_revoke(store, id, "admin-b", "10.0.0.2"));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_NOT_FOUND);
  CHECK(!ca_store_token_revoke(store, id + 1000, "admin-b", "10.0.0.2"));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_NOT_FOUND);
  CHECK(ca_store_token_list(store, &records, &n));
  CHECK(n == 1 && records[0].revoked_at > 0);
  free(records);
  char object[64];
  snprintf(object, sizeof(object), "token:%" PRId64, id);
  CHECK_EQ_INT(mod_db_int(&db,
                          "SELECT count(*) FROM audit_log WHERE object = $1"
                          " AND action IN ('token.create', 'token.revoke')",
                          object, NULL),
               2);
  PQfinish(listener);
}

TEST(the_first_admin_token_is_made_once_and_only_on_a_fresh_database) {
  mod_db fresh;
  mod_db_create(&fresh);
  ca_store *s = NULL;
  CHECK(ca_store_open(fresh.url, 1, &s) && ca_store_migrate(s));
  char token[CA_TOKEN_LEN + 1] = "";
  int created = -1;
  CHECK(ca_store_token_first_admin(s, "first-admin", "pkid", token, &created));
  CHECK_EQ_INT(created, 1);
  CHECK_EQ_INT(strlen(token), CA_TOKEN_LEN);
  uint8_t hash[32];
  SHA256((const uint8_t *)token, strlen(token), hash);
  ca_principal p;
  int found = 0;
  CHECK(ca_store_token_find(s, hash, &p, &found));
  CHECK(found && p.role == CA_ROLE_ADMIN);
  CHECK(ca_store_token_first_admin(s, "first-admin", "pkid", token, &created));
  CHECK_EQ_INT(created, 0);
  CHECK_EQ_INT(
      mod_db_int(&fresh, "SELECT count(*) FROM api_tokens", NULL, NULL), 1);
  ca_store_free(s);
  mod_db_drop(&fresh);
  // The shared database had a token made (and revoked) already.
  CHECK(ca_store_token_first_admin(store, "first-admin", "pkid", token,
                                   &created));
  CHECK_EQ_INT(created, 0);
}

static int allowlisted(const char *network) {
  ca_allow_entry *entries = NULL;
  size_t n = 0;
  int count = 0;
  if (!ca_store_allowlist_list(store, &entries, &n)) {
    return -1;
  }
  for (size_t i = 0; i < n; i++) {
    count += strcmp(entries[i].network, network) == 0;
  }
  free(entries);
  return count;
}

TEST(the_allowlist_keeps_one_spelling_and_its_bound) {
  PGconn *listener = listen_access();
  CHECK(ca_store_allowlist_change(store, 1, "10.0.0.0/8", "admin-a",
                                  "127.0.0.1"));
  CHECK_EQ_INT(allowlisted("10.0.0.0/8"), 1);
  CHECK_EQ_INT(notices(listener, 1), 1);
  // The same network in its IPv4-mapped spelling is the same network.
  CHECK(!ca_store_allowlist_change(store, 1, "::ffff:10.0.0.0/104", "admin-a",
                                   "127.0.0.1"));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_CONFLICT);
  CHECK(ca_store_allowlist_change(store, 1, "::ffff:192.168.1.0/120", "admin-a",
                                  "127.0.0.1"));
  CHECK_EQ_INT(allowlisted("192.168.1.0/24"), 1);
  CHECK_EQ_INT(notices(listener, 1), 1);
  CHECK(!ca_store_allowlist_change(store, 0, "172.16.0.0/12", "admin-a",
                                   "127.0.0.1"));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_NOT_FOUND);
  CHECK(!ca_store_allowlist_change(store, 1, "not-a-network", "admin-a",
                                   "127.0.0.1"));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_PARAMETER_INVALID);
  // Refusals announce nothing.
  CHECK_EQ_INT(notices(listener, 1), 0);
  CHECK(ca_store_allowlist_change(store, 0, "10.0.0.0/8", "admin-b",
                                  "127.0.0.1"));
  CHECK_EQ_INT(allowlisted("10.0.0.0/8"), 0);
  CHECK_EQ_INT(notices(listener, 1), 1);
  CHECK_EQ_INT(mod_db_int(&db,
                          "SELECT count(*) FROM audit_log WHERE action IN"
                          " ('allowlist.add', 'allowlist.delete')",
                          NULL, NULL),
               3);

  // Filled to its bound, it takes no more.
  char sql[256];
  snprintf(sql, sizeof(sql),
           "INSERT INTO admin_allowlist (network, added_by)"
           " SELECT ('10.' || (i / 256) || '.' || (i %% 256) || '.0/24')::cidr,"
           " 'test' FROM generate_series(1, %d) AS i",
           CA_LIMIT_ALLOWLIST - 1);
  CHECK(mod_db_exec(&db, sql));
  CHECK(!ca_store_allowlist_change(store, 1, "203.0.113.0/24", "admin-a",
                                   "127.0.0.1"));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_PARAMETER_INVALID);
  CHECK_EQ_INT(allowlisted("203.0.113.0/24"), 0);
  PQfinish(listener);
}

int main(void) {
  mod_db_create(&db);
  if (!ca_store_open(db.url, 2, &store) || !ca_store_migrate(store)) {
    fprintf(stderr, "cannot open the store: %s\n", ca_err_get()->message);
    ca_store_free(store);
    mod_db_drop(&db);
    return 1;
  }
  RUN(tokens_are_found_by_hash_until_revoked);
  RUN(the_first_admin_token_is_made_once_and_only_on_a_fresh_database);
  RUN(the_allowlist_keeps_one_spelling_and_its_bound);
  ca_store_free(store);
  mod_db_drop(&db);
  return test_summary();
}
