// ca/store/store_pg.c against a real PostgreSQL: migrations applied once, CAs
// created exactly once by concurrent starters, serial collisions detected
// row by row, a failed transaction storing nothing, the audit log refusing
// changes.
#include <openssl/mem.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca/store/store.h"
#include "migrations/migrations.h"
#include "tests/integration/harness.h"
#include "tests/support/test.h"

static it_db db;

TEST(migrations_apply_once) {
  ca_store *store = NULL;
  CHECK(ca_store_open(db.url, 2, &store));
  CHECK(ca_store_migrate(store));
  CHECK(ca_store_migrate(store));
  CHECK(ca_store_ping(store));
  ca_store_free(store);
  CHECK_EQ_INT(it_db_int(&db, "SELECT count(*) FROM schema_migrations", NULL),
               (long long)pki_migration_count);
  CHECK_EQ_INT(it_db_int(&db,
                         "SELECT count(*) FROM information_schema.tables"
                         " WHERE table_name IN ('issuers', 'certificates',"
                         " 'audit_log')",
                         NULL),
               3);
}

static atomic_int generated;

// make_records stands in for the CA generator: records only, no keys.
static int make_records(void *arg, ca_issuer_row **out, size_t *out_n) {
  (void)arg;
  atomic_fetch_add(&generated, 1);
  ca_issuer_row *r = calloc(2, sizeof(*r));
  if (r == NULL) {
    return 0;
  }
  static const uint8_t kDer[] = {0x30, 0x00};
  for (int i = 0; i < 2; i++) {
    r[i].name = OPENSSL_strdup(i == 0 ? "t-root" : "t-issuing");
    r[i].role = OPENSSL_strdup(i == 0 ? "root" : "issuing");
    r[i].algorithm = OPENSSL_strdup("RSA-2048");
    r[i].parent = i == 0 ? NULL : OPENSSL_strdup("t-root");
    r[i].subject = OPENSSL_strdup("CN=t");
    r[i].serial = OPENSSL_strdup(i == 0 ? "01" : "02");
    r[i].der = OPENSSL_memdup(kDer, sizeof(kDer));
    r[i].der_len = sizeof(kDer);
    r[i].key_file = OPENSSL_strdup("t.key");
    r[i].not_before = 1700000000;
    r[i].not_after = 1900000000;
  }
  *out = r;
  *out_n = 2;
  return 1;
}

typedef struct starter {
  const char *url;
  size_t n;
  char first_parent_empty;
  int ok;
} starter;

static void *start_node(void *arg) {
  starter *s = arg;
  ca_store *store = NULL;
  ca_issuer_row *records = NULL;
  s->ok =
      ca_store_open(s->url, 1, &store) && ca_store_migrate(store) &&
      ca_store_bootstrap_issuers(store, make_records, NULL, &records, &s->n);
  if (s->ok && s->n == 2) {
    s->first_parent_empty =
        records[0].parent == NULL && strcmp(records[1].parent, "t-root") == 0;
  }
  ca_issuer_rows_free(records, s->n);
  ca_store_free(store);
  return NULL;
}

TEST(concurrent_starters_create_the_cas_once) {
  it_db fresh;
  it_db_create(&fresh);
  starter nodes[4];
  pthread_t threads[4];
  for (int i = 0; i < 4; i++) {
    memset(&nodes[i], 0, sizeof(nodes[i]));
    nodes[i].url = fresh.url;
    CHECK(pthread_create(&threads[i], NULL, start_node, &nodes[i]) == 0);
  }
  for (int i = 0; i < 4; i++) {
    pthread_join(threads[i], NULL);
    CHECK(nodes[i].ok);
    CHECK_EQ_INT(nodes[i].n, 2);
    CHECK(nodes[i].first_parent_empty);
  }
  CHECK_EQ_INT(atomic_load(&generated), 1);
  CHECK_EQ_INT(it_db_int(&fresh, "SELECT count(*) FROM issuers", NULL), 2);
  it_db_drop(&fresh);
}

static ca_new_cert_row record(int64_t issuer, const char *serial) {
  static const uint8_t kDer[] = {0x30, 0x03, 0x02, 0x01, 0x01};
  static const char *const kSans[] = {"DNS:a.example.com", "IP:10.0.0.1"};
  ca_new_cert_row r = {
      .issuer_id = issuer,
      .serial = serial,
      .profile = "tomcat",
      .subject = "CN=a.example.com",
      .common_name = "a.example.com",
      .sans = kSans,
      .san_count = 2,
      .key_type = CA_KEY_RSA,
      .key_bits = 2048,
      .not_before = 1700000000,
      .not_after = 1800000000,
      .der = kDer,
      .der_len = sizeof(kDer),
      .requester = "test",
  };
  return r;
}

TEST(collisions_are_reported_row_by_row) {
  ca_store *store = NULL;
  CHECK(ca_store_open(db.url, 2, &store));
  CHECK(ca_store_migrate(store));
  ca_issuer_row *issuers = NULL;
  size_t n = 0;
  CHECK(ca_store_bootstrap_issuers(store, make_records, NULL, &issuers, &n));
  const int64_t issuer = n > 0 ? issuers[n - 1].id : 0;
  ca_issuer_rows_free(issuers, n);

  ca_store_tx *tx = NULL;
  ca_new_cert_row first = record(issuer, "aa01");
  uint8_t collided[3] = {9, 9, 9};
  CHECK(ca_store_begin(store, &tx));
  CHECK(ca_store_tx_insert_certificates(tx, &first, 1, collided));
  CHECK_EQ_INT(collided[0], 0);
  CHECK(ca_store_commit(&tx));

  ca_new_cert_row batch[3] = {record(issuer, "bb01"), record(issuer, "aa01"),
                              record(issuer, "bb02")};
  CHECK(ca_store_begin(store, &tx));
  CHECK(ca_store_tx_insert_certificates(tx, batch, 3, collided));
  CHECK_EQ_INT(collided[0], 0);
  CHECK_EQ_INT(collided[1], 1);
  CHECK_EQ_INT(collided[2], 0);
  // The caller re-draws the collided serial and inserts it in the same
  // transaction.
  ca_new_cert_row again = record(issuer, "bb03");
  CHECK(ca_store_tx_insert_certificates(tx, &again, 1, collided));
  CHECK_EQ_INT(collided[0], 0);
  CHECK(ca_store_commit(&tx));
  CHECK_EQ_INT(it_db_int(&db, "SELECT count(*) FROM certificates", NULL), 4);
  CHECK_EQ_INT(it_db_int(&db,
                         "SELECT count(*) FROM certificates WHERE serial ="
                         " 'aa01'",
                         NULL),
               1);
  PGresult *res = it_db_query(
      &db,
      "SELECT array_to_string(sans, '|') FROM certificates WHERE serial = $1",
      "bb03", NULL);
  CHECK(res != NULL && PQntuples(res) == 1);
  if (res != NULL && PQntuples(res) == 1) {
    CHECK_EQ_STR(PQgetvalue(res, 0, 0), "DNS:a.example.com|IP:10.0.0.1");
  }
  PQclear(res);

  // A failing statement fails the transaction: nothing of it is stored.
  ca_new_cert_row bad = record(issuer + 1000, "cc01");  // no such issuer
  ca_new_cert_row good = record(issuer, "cc02");
  CHECK(ca_store_begin(store, &tx));
  CHECK(ca_store_tx_insert_certificates(tx, &good, 1, collided));
  CHECK(!ca_store_tx_insert_certificates(tx, &bad, 1, collided));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_STORAGE_UNAVAILABLE);
  CHECK(!ca_store_commit(&tx));
  CHECK_EQ_INT(it_db_int(&db, "SELECT count(*) FROM certificates", NULL), 4);

  // And the pool is usable afterwards.
  CHECK(ca_store_ping(store));
  ca_store_free(store);
}

TEST(copy_writes_every_column_and_refuses_duplicates) {
  ca_store *store = NULL;
  CHECK(ca_store_open(db.url, 1, &store));
  ca_issuer_row *issuers = NULL;
  size_t n = 0;
  CHECK(ca_store_bootstrap_issuers(store, make_records, NULL, &issuers, &n));
  const int64_t issuer = n > 0 ? issuers[n - 1].id : 0;
  ca_issuer_rows_free(issuers, n);

  static const uint8_t kHash[32] = {1, 2, 3};
  ca_new_cert_row rows[3] = {record(issuer, "dd01"), record(issuer, "dd02"),
                             record(issuer, "dd03")};
  rows[1].san_count = 0;  // an empty array
  rows[2].csr_sha256 = kHash;
  rows[2].not_before = 2524608000;  // 2050-01-01, past UTCTime's range
  rows[2].not_after = 2556144000;
  ca_store_tx *tx = NULL;
  CHECK(ca_store_begin(store, &tx));
  if (!ca_store_tx_copy_certificates(tx, rows, 3)) {
    fprintf(stderr, "COPY: %s\n", ca_err_get()->message);
    CHECK(0);
  }
  CHECK(ca_store_commit(&tx));
  PGresult *res = it_db_query(
      &db,
      "SELECT serial, array_to_string(sans, '|'), cardinality(sans),"
      " extract(epoch FROM not_before)::bigint,"
      " extract(epoch FROM not_after)::bigint, key_type, key_bits,"
      " encode(der, 'hex'), coalesce(encode(csr_sha256, 'hex'), '-'),"
      " (SELECT s.status FROM certificate_status s WHERE s.id = c.id),"
      " requester, profile"
      " FROM certificates c WHERE serial LIKE 'dd%' ORDER BY serial",
      NULL, NULL);
  CHECK(res != NULL && PQntuples(res) == 3);
  if (res != NULL && PQntuples(res) == 3) {
    CHECK_EQ_STR(PQgetvalue(res, 0, 1), "DNS:a.example.com|IP:10.0.0.1");
    CHECK_EQ_STR(PQgetvalue(res, 1, 2), "0");
    CHECK_EQ_STR(PQgetvalue(res, 0, 3), "1700000000");
    CHECK_EQ_STR(PQgetvalue(res, 0, 4), "1800000000");
    CHECK_EQ_STR(PQgetvalue(res, 2, 3), "2524608000");
    CHECK_EQ_STR(PQgetvalue(res, 0, 5), "RSA");
    CHECK_EQ_STR(PQgetvalue(res, 0, 6), "2048");
    CHECK_EQ_STR(PQgetvalue(res, 0, 7), "3003020101");
    CHECK_EQ_STR(PQgetvalue(res, 0, 8), "-");
    CHECK(strncmp(PQgetvalue(res, 2, 8), "010203000000", 12) == 0);
    CHECK_EQ_STR(PQgetvalue(res, 0, 9), "good");
    CHECK_EQ_STR(PQgetvalue(res, 0, 10), "test");
    CHECK_EQ_STR(PQgetvalue(res, 0, 11), "tomcat");
  }
  PQclear(res);
  // A duplicate (serial, issuer) fails the whole COPY with CONFLICT.
  const long long before =
      it_db_int(&db, "SELECT count(*) FROM certificates", NULL);
  ca_new_cert_row again[2] = {record(issuer, "dd10"), record(issuer, "dd02")};
  CHECK(ca_store_begin(store, &tx));
  CHECK(!ca_store_tx_copy_certificates(tx, again, 2));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_CONFLICT);
  ca_store_rollback(tx);
  CHECK_EQ_INT(it_db_int(&db, "SELECT count(*) FROM certificates", NULL),
               before);
  CHECK(ca_store_ping(store));
  ca_store_free(store);
}

TEST(the_audit_log_is_append_only) {
  ca_store *store = NULL;
  ca_store_tx *tx = NULL;
  CHECK(ca_store_open(db.url, 1, &store));
  CHECK(ca_store_begin(store, &tx));
  CHECK(ca_store_tx_audit(tx, "me", "test", "thing", "127.0.0.1", "ok", ""));
  CHECK(ca_store_commit(&tx));
  ca_store_free(store);
  CHECK(it_db_int(&db, "SELECT count(*) FROM audit_log", NULL) >= 1);
  PGresult *res =
      it_db_query(&db, "UPDATE audit_log SET actor = 'x'", NULL, NULL);
  CHECK(res == NULL);
  PQclear(res);
  res = it_db_query(&db, "DELETE FROM audit_log", NULL, NULL);
  CHECK(res == NULL);
  PQclear(res);
  CHECK(it_db_int(&db, "SELECT count(*) FROM audit_log WHERE actor = 'me'",
                  NULL) == 1);
}

// fake_cert fills a trust certificate for the store alone, which never
// parses the DER: |subject| names the subject, |tag| makes the fingerprint.
static ca_trust_cert fake_cert(uint8_t *subject_der, uint8_t tag,
                               int64_t not_before) {
  static uint8_t der[4][8];
  ca_trust_cert c;
  memset(&c, 0, sizeof(c));
  memset(c.fingerprint, tag, sizeof(c.fingerprint));
  c.subject = "CN=Rollover";
  c.subject_der = subject_der;
  c.subject_der_len = 4;
  c.issuer = "CN=Rollover";
  snprintf(c.serial, sizeof(c.serial), "%02x", tag);
  c.common_name = "Rollover";
  memcpy(c.key_type, "RSA", 4);
  c.key_bits = 2048;
  c.is_ca = 1;
  c.not_before = not_before;
  c.not_after = not_before + 86400;
  memset(der[tag & 3], tag, sizeof(der[0]));
  c.der = der[tag & 3];
  c.der_len = sizeof(der[0]);
  return c;
}

static ca_trust_outcome put_one(ca_store *store, const char *trust_store,
                                const ca_trust_cert *cert, const char *source,
                                int64_t revoked_at, int unknown,
                                uint8_t other[32]) {
  ca_store_tx *tx = NULL;
  ca_trust_outcome outcome = CA_TRUST_ADDED;
  const ca_trust_put put = {
      .store = trust_store,
      .cert = cert,
      .source = source,
      .cluster = "east",
      .node = "Rollover",
      .purpose = "tomcat",
      .revoked_at = revoked_at,
      .revocation_reason = revoked_at != 0 ? 1 : 0,
      .revocation_unknown = unknown,
      .added_by = "test",
  };
  CHECK(ca_store_begin(store, &tx) &&
        ca_store_tx_put_trust(tx, &put, &outcome, other) &&
        ca_store_commit(&tx));
  return outcome;
}

TEST(trust_entries_one_per_subject_later_not_before_wins) {
  ca_store *store = NULL;
  CHECK(ca_store_open(db.url, 1, &store));
  uint8_t subject[4] = {0x30, 0x02, 0x05, 0x00};
  const ca_trust_cert a = fake_cert(subject, 0xa1, 1000000);
  const ca_trust_cert b = fake_cert(subject, 0xb2, 2000000);
  const ca_trust_cert tie = fake_cert(subject, 0xc3, 2000000);
  uint8_t other[32];
  CHECK_EQ_INT(put_one(store, "tomcat-trust", &a, "upload", 0, 0, other),
               CA_TRUST_ADDED);
  CHECK_EQ_INT(put_one(store, "tomcat-trust", &a, "upload", 0, 0, other),
               CA_TRUST_UNCHANGED);
  CHECK_EQ_INT(put_one(store, "tomcat-trust", &b, "upload", 0, 0, other),
               CA_TRUST_REPLACED);
  CHECK(other[0] == 0xa1);
  CHECK_EQ_INT(put_one(store, "tomcat-trust", &a, "upload", 0, 0, other),
               CA_TRUST_KEPT);
  CHECK(other[0] == 0xb2);
  CHECK_EQ_INT(put_one(store, "tomcat-trust", &tie, "upload", 0, 0, other),
               CA_TRUST_KEPT);
  CHECK_EQ_INT(it_db_int(&db,
                         "SELECT count(*) FROM trust_entries WHERE store ="
                         " 'tomcat-trust' AND get_byte(fingerprint, 0) = 178",
                         NULL),
               1);
  // Another store is another entry.
  CHECK_EQ_INT(put_one(store, "ipsec-trust", &a, "upload", 0, 0, other),
               CA_TRUST_ADDED);

  // A bulk import's revocation state is refreshed; a source that says
  // nothing of revocation (PKCS#12) leaves it as it is.
  static const char kRevoked[] =
      "SELECT count(*) FROM trust_entries WHERE store = 'tomcat-trust'"
      " AND revoked_at IS NOT NULL AND revocation_reason = 1";
  CHECK_EQ_INT(put_one(store, "tomcat-trust", &b, "bulk", 1500000, 0, other),
               CA_TRUST_UNCHANGED);
  CHECK_EQ_INT(it_db_int(&db, kRevoked, NULL), 1);
  CHECK_EQ_INT(put_one(store, "tomcat-trust", &b, "bulk", 0, 1, other),
               CA_TRUST_UNCHANGED);
  CHECK_EQ_INT(it_db_int(&db, kRevoked, NULL), 1);
  CHECK_EQ_INT(put_one(store, "tomcat-trust", &b, "bulk", 0, 0, other),
               CA_TRUST_UNCHANGED);
  CHECK_EQ_INT(it_db_int(&db,
                         "SELECT count(*) FROM trust_entries WHERE"
                         " revoked_at IS NOT NULL",
                         NULL),
               0);

  ca_trust_row *rows = NULL;
  size_t n = 0;
  CHECK(ca_store_list_trust(store, "tomcat-trust", NULL, 1, &rows, &n));
  CHECK_EQ_INT(n, 1);
  CHECK(n == 1 && rows[0].fingerprint[0] == 0xb2 && rows[0].der_len == 8 &&
        strcmp(rows[0].cluster, "east") == 0);
  ca_trust_rows_free(rows, n);
  ca_store_tx *tx = NULL;
  int found = 0;
  CHECK(ca_store_begin(store, &tx) &&
        ca_store_tx_delete_trust(tx, "tomcat-trust", b.fingerprint, &found) &&
        ca_store_commit(&tx));
  CHECK(found);
  CHECK(ca_store_begin(store, &tx) &&
        ca_store_tx_delete_trust(tx, "tomcat-trust", b.fingerprint, &found) &&
        ca_store_commit(&tx));
  CHECK(!found);
  ca_store_free(store);
}

int main(void) {
  it_db_create(&db);
  RUN(migrations_apply_once);
  RUN(concurrent_starters_create_the_cas_once);
  RUN(collisions_are_reported_row_by_row);
  RUN(copy_writes_every_column_and_refuses_duplicates);
  RUN(the_audit_log_is_append_only);
  RUN(trust_entries_one_per_subject_later_not_before_wins);
  it_db_drop(&db);
  return test_summary();
}
