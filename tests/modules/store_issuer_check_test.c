// The issuer check of migration 0025 against a real PostgreSQL: the
// statement-level triggers that replaced the foreign key from
// certificates.issuer_id to issuers keep what it guaranteed. The engine's
// COPY records certificates; a row naming no issuer is refused (insert and
// update, SQLSTATE 23503); an issuer that certificates name is neither
// deleted nor renumbered, one that none names is; and a delete started
// while another transaction has just recorded a certificate of that issuer
// waits for it and is then refused, as it was behind the foreign key's
// lock.
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ca/store/pq.h"
#include "tests/modules/fixture.h"
#include "tests/support/test.h"

static mod_ca ca;

// sqlstate runs |sql| on |conn| and returns its SQLSTATE ("00000" when it
// succeeded) in |out|.
static void sqlstate(PGconn *conn, const char *sql, char out[6]) {
  PGresult *res = PQexec(conn, sql);
  const ExecStatusType st = PQresultStatus(res);
  const char *code = PQresultErrorField(res, PG_DIAG_SQLSTATE);
  snprintf(out, 6, "%s",
           st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? "00000"
           : code != NULL                                  ? code
                                                           : "?????");
  PQclear(res);
}

// A copy of a recorded certificate's row under a new serial, for the
// statements below to insert with the issuer they choose.
static const char kTemplate[] =
    "CREATE TEMP TABLE t AS SELECT * FROM certificates LIMIT 1;"
    " UPDATE t SET replaces_id = NULL";

// stage_row makes |conn|'s temporary table t hold a copy of a recorded
// certificate's row with a new id, |serial| and |issuer_id|, for the
// statements of a test to insert. Returns 1 when it does.
static int stage_row(PGconn *conn, long long issuer_id, const char *serial) {
  char code[6], sql[512];
  sqlstate(conn, kTemplate, code);
  if (strcmp(code, "00000") != 0) {
    return 0;
  }
  snprintf(sql, sizeof(sql),
           "UPDATE t SET id = nextval(pg_get_serial_sequence('certificates',"
           " 'id')), issuer_id = %lld, serial = '%s'",
           issuer_id, serial);
  sqlstate(conn, sql, code);
  return strcmp(code, "00000") == 0;
}

// An issuer of the test's own: a copy of the issuing CA's row under a new
// name, which no certificate names yet. Returns its id, or -1.
static long long new_issuer(const char *name) {
  char sql[512];
  snprintf(sql, sizeof(sql),
           "INSERT INTO issuers (name, role, algorithm, parent_id, subject,"
           " serial, not_before, not_after, der, key_file)"
           " SELECT '%s', role, algorithm, parent_id, subject, serial,"
           " not_before, not_after, der, key_file FROM issuers"
           " WHERE role = 'issuing' LIMIT 1 RETURNING id",
           name);
  return mod_db_int(&ca.db, sql, NULL, NULL);
}

TEST(the_engine_records_through_the_check) {
  ca_issued out;
  CHECK(mod_issue(&ca, "tomcat-ECDSA", "EC-P256", "check.example.com", &out));
  ca_issued_cleanup(&out);
  CHECK_EQ_INT(
      mod_db_int(&ca.db, "SELECT count(*) FROM certificates", NULL, NULL), 1);
  // The foreign key is gone; the triggers stand in for it.
  CHECK_EQ_INT(mod_db_int(&ca.db,
                          "SELECT count(*) FROM pg_constraint WHERE conname ="
                          " 'certificates_issuer_id_fkey'",
                          NULL, NULL),
               0);
}

TEST(a_row_naming_no_issuer_is_refused) {
  PGconn *conn = mod_db_connect(&ca.db);
  char code[6];
  CHECK(stage_row(conn, 987654321, "7e57"));
  sqlstate(conn, "INSERT INTO certificates SELECT * FROM t WHERE false", code);
  CHECK_EQ_STR(code, "00000");  // no row: nothing to check
  sqlstate(conn, "INSERT INTO certificates SELECT * FROM t", code);
  CHECK_EQ_STR(code, "23503");
  sqlstate(conn,
           "UPDATE certificates SET issuer_id = 987654321 WHERE id ="
           " (SELECT min(id) FROM certificates)",
           code);
  CHECK_EQ_STR(code, "23503");
  PQfinish(conn);
  CHECK_EQ_INT(mod_db_int(&ca.db,
                          "SELECT count(*) FROM certificates WHERE issuer_id ="
                          " 987654321",
                          NULL, NULL),
               0);
}

TEST(a_named_issuer_is_kept_an_unnamed_one_goes) {
  const long long named = new_issuer("check-named");
  const long long unnamed = new_issuer("check-unnamed");
  CHECK(named > 0 && unnamed > 0);
  PGconn *conn = mod_db_connect(&ca.db);
  char code[6], sql[512];
  CHECK(stage_row(conn, named, "7e58"));
  sqlstate(conn, "INSERT INTO certificates SELECT * FROM t", code);
  CHECK_EQ_STR(code, "00000");
  snprintf(sql, sizeof(sql), "DELETE FROM issuers WHERE id = %lld", named);
  sqlstate(conn, sql, code);
  CHECK_EQ_STR(code, "23503");
  snprintf(sql, sizeof(sql),
           "UPDATE issuers SET id = 987654322 WHERE id = %lld", named);
  sqlstate(conn, sql, code);
  CHECK_EQ_STR(code, "23503");
  // Another column of a named issuer may change.
  snprintf(sql, sizeof(sql),
           "UPDATE issuers SET key_file = key_file WHERE id = %lld", named);
  sqlstate(conn, sql, code);
  CHECK_EQ_STR(code, "00000");
  snprintf(sql, sizeof(sql), "DELETE FROM issuers WHERE id = %lld", unnamed);
  sqlstate(conn, sql, code);
  CHECK_EQ_STR(code, "00000");
  PQfinish(conn);
}

// waits_for_a_lock says whether a DELETE of issuers is waiting for a row
// lock, within 5 s.
static int delete_waits_for_a_lock(void) {
  for (int i = 0; i < 100; i++) {
    if (mod_db_int(&ca.db,
                   "SELECT count(*) FROM pg_stat_activity WHERE"
                   " wait_event_type = 'Lock' AND query LIKE"
                   " 'DELETE FROM issuers%'",
                   NULL, NULL) == 1) {
      return 1;
    }
    struct timespec ts = {0, 50 * 1000000L};
    nanosleep(&ts, NULL);
  }
  return 0;
}

TEST(a_delete_waits_for_the_recording_transaction) {
  const long long issuer = new_issuer("check-race");
  CHECK(issuer > 0);
  PGconn *a = mod_db_connect(&ca.db);
  PGconn *b = mod_db_connect(&ca.db);
  char code[6], sql[512];
  CHECK(stage_row(a, issuer, "7e59"));
  sqlstate(a, "BEGIN", code);
  sqlstate(a, "INSERT INTO certificates SELECT * FROM t", code);
  CHECK_EQ_STR(code, "00000");
  // B cannot see A's row yet. Without the lock A's check took, its delete
  // would find no certificate, go through, and leave A's row naming an
  // issuer that is gone.
  snprintf(sql, sizeof(sql), "DELETE FROM issuers WHERE id = %lld", issuer);
  CHECK(PQsendQueryParams(b, sql, 0, NULL, NULL, NULL, NULL, 0));
  CHECK(delete_waits_for_a_lock());
  sqlstate(a, "COMMIT", code);
  CHECK_EQ_STR(code, "00000");
  PGresult *res = PQgetResult(b);
  const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
  CHECK_EQ_STR(state != NULL ? state : "00000", "23503");
  PQclear(res);
  while ((res = PQgetResult(b)) != NULL) {
    PQclear(res);
  }
  snprintf(sql, sizeof(sql),
           "SELECT count(*) FROM certificates c JOIN issuers i"
           " ON i.id = c.issuer_id WHERE c.issuer_id = %lld",
           issuer);
  CHECK_EQ_INT(mod_db_int(&ca.db, sql, NULL, NULL), 1);
  PQfinish(a);
  PQfinish(b);
}

int main(void) {
  if (!mod_ca_open(&ca, "store-issuer-check", 2) ||
      !mod_ca_start_engine(&ca, 1)) {
    fprintf(stderr, "the CA did not open\n");
    mod_ca_close(&ca);
    return 1;
  }
  RUN(the_engine_records_through_the_check);
  RUN(a_row_naming_no_issuer_is_refused);
  RUN(a_named_issuer_is_kept_an_unnamed_one_goes);
  RUN(a_delete_waits_for_the_recording_transaction);
  mod_ca_close(&ca);
  return test_summary();
}
