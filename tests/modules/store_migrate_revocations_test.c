// Migration 0018 against a real PostgreSQL: a database at the schema
// before it (0017), whose certificates carry their revocation state in
// status, revoked_at and revocation_reason, with a pre-signed OCSP answer
// stored, is brought to pkid's schema by pkid's migration runner. Every
// revocation is kept (time, reason, shard), the old columns and the
// indexes on them are gone, the answer still stands (the copy changes no
// state), and the revocation state reads, finds, CRL cursor and release of
// a hold work on what was copied.
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ca/store/sql_split.h"
#include "ca/store/store.h"
#include "ca/store/store_crl.h"
#include "migrations/migrations.h"
#include "tests/modules/fixture.h"
#include "tests/support/test.h"

static mod_db db;

// exec_step runs one statement on |conn|.
static int exec_step(PGconn *conn, const char *sql, const char *name) {
  PGresult *res = PQexec(conn, sql);
  const int ok = PQresultStatus(res) == PGRES_COMMAND_OK ||
                 PQresultStatus(res) == PGRES_TUPLES_OK;
  if (!ok) {
    fprintf(stderr, "%s: %s", name, PQerrorMessage(conn));
  }
  PQclear(res);
  return ok;
}

// apply_no_transaction runs migration |m| one statement at a time, as the
// runner does with a file marked "-- pki:no-transaction".
static int apply_no_transaction(PGconn *conn, const pki_migration *m) {
  size_t pos = 0, start, len;
  int ok = 1;
  while (ok && ca_sql_next_statement(m->sql, &pos, &start, &len)) {
    char *stmt = malloc(len + 1);
    if (stmt == NULL) {
      return 0;
    }
    memcpy(stmt, m->sql + start, len);
    stmt[len] = '\0';
    ok = exec_step(conn, stmt, m->name);
    free(stmt);
  }
  return ok;
}

// apply_up_to brings the empty database to |version| as a pkid of that
// version did, with the same schema_migrations table.
static int apply_up_to(int version) {
  PGconn *conn = mod_db_connect(&db);
  int ok = exec_step(conn,
                     "CREATE TABLE schema_migrations ("
                     " version integer PRIMARY KEY,"
                     " name text NOT NULL,"
                     " applied_at timestamptz NOT NULL DEFAULT now())",
                     "schema_migrations");
  for (size_t i = 0; ok && i < pki_migration_count; i++) {
    const pki_migration *m = &pki_migrations[i];
    if (m->version > version) {
      break;
    }
    char record[256];
    snprintf(record, sizeof(record),
             "INSERT INTO schema_migrations (version, name) VALUES (%d, '%s')",
             m->version, m->name);
    if (ca_sql_no_transaction(m->sql)) {
      ok = apply_no_transaction(conn, m) && exec_step(conn, record, m->name);
    } else {
      ok = exec_step(conn, "BEGIN", m->name) &&
           exec_step(conn, m->sql, m->name) &&
           exec_step(conn, record, m->name) &&
           exec_step(conn, "COMMIT", m->name);
    }
  }
  PQfinish(conn);
  return ok;
}

// A CA, and certificates r1 (keyCompromise), r2 (on hold, shard 2), r3
// (superseded, expired), g1 (good) and s1 (self-signed, good), with their
// state in the old columns; an OCSP answer stating r1's revocation.
static const char kRows[] =
    "WITH ca AS (INSERT INTO issuers (name, role, algorithm, subject, serial,"
    " not_before, not_after, der, key_file) VALUES ('old-root', 'root',"
    " 'RSA-2048', 'CN=Old Root', '01', now() - interval '1 day',"
    " now() + interval '10 years', '\\x3000', 'old-root.key') RETURNING id)"
    " INSERT INTO certificates (issuer_id, serial, profile, subject,"
    " common_name, sans, key_type, key_bits, not_before, not_after, der,"
    " requester, status, revoked_at, revocation_reason, crl_shard,"
    " self_signed)"
    " SELECT CASE WHEN s THEN NULL ELSE ca.id END, serial, 'tomcat',"
    " 'CN=' || serial, serial || '.example.com', '{}', 'RSA', 2048,"
    " now() - interval '30 days', now() + make_interval(days => d),"
    " '\\x3000', 'test', st, at, reason, shard, s"
    " FROM ca, (VALUES"
    "  ('a1', 'revoked', timestamptz '2026-01-02 03:04:05+00', 1, NULL, 90,"
    "   false),"
    "  ('a2', 'revoked', timestamptz '2026-02-03 04:05:06+00', 6, 2, 90, "
    "false),"
    "  ('a3', 'revoked', timestamptz '2026-03-04 05:06:07+00', 4, NULL, -1,"
    "   false),"
    "  ('b1', 'good', NULL, NULL, NULL, 90, false),"
    "  ('c1', 'good', NULL, NULL, NULL, 90, true))"
    " AS r(serial, st, at, reason, shard, d, s);"
    " INSERT INTO ocsp_answers (certificate_id, cert_id, signer, revoked,"
    " revoked_at, reason, produced_at, next_update, der)"
    " SELECT id, '\\x01', decode(repeat('ab', 20), 'hex'), true, revoked_at,"
    " revocation_reason, now(), now() + interval '1 day', '\\x3000'"
    " FROM certificates WHERE serial = 'a1'";

static long long count(const char *sql) {
  return mod_db_int(&db, sql, NULL, NULL);
}

static int64_t issuer_id(void) {
  return (int64_t)count("SELECT id FROM issuers WHERE name = 'old-root'");
}

static int state_of(ca_store *store, const char *serial, ca_cert_state *out) {
  int found = 0;
  memset(out, 0, sizeof(*out));
  return ca_store_certificate_state(store, issuer_id(), serial, out, &found) &&
         found;
}

TEST(revoked_rows_survive_migration_0018) {
  CHECK(apply_up_to(17));
  CHECK(mod_db_exec(&db, kRows));
  CHECK_EQ_INT(count("SELECT count(*) FROM certificates"
                     " WHERE status = 'revoked'"),
               3);
  ca_store *store = NULL;
  CHECK(ca_store_open(db.url, 1, &store) && ca_store_migrate(store));
  // The revocations, as they were.
  CHECK_EQ_INT(count("SELECT count(*) FROM revocations"), 3);
  CHECK_EQ_INT(count("SELECT count(*) FROM revocations r JOIN certificates c"
                     " ON c.id = r.certificate_id AND c.serial = r.serial"
                     " AND c.issuer_id = r.issuer_id"
                     " AND c.not_after = r.not_after"),
               3);
  CHECK_EQ_INT(count("SELECT crl_shard FROM revocations WHERE serial = 'a2'"),
               2);
  ca_cert_state st;
  CHECK(state_of(store, "a1", &st));
  CHECK(st.revoked && st.reason == 1 && st.revoked_at == 1767323045);
  CHECK(state_of(store, "a2", &st));
  CHECK(st.revoked && st.reason == 6 && st.revoked_at == 1770091506);
  CHECK(state_of(store, "b1", &st));
  CHECK(!st.revoked && st.revoked_at == 0);
  // The old columns and what stood on them are gone.
  CHECK_EQ_INT(count("SELECT count(*) FROM information_schema.columns"
                     " WHERE table_name = 'certificates' AND column_name IN"
                     " ('status', 'revoked_at', 'revocation_reason')"),
               0);
  // (Migration 0025's issuer checks and migration 0026's names are the
  // only triggers left.)
  CHECK_EQ_INT(count("SELECT count(*) FROM pg_trigger"
                     " WHERE tgrelid = 'certificates'::regclass"
                     " AND NOT tgisinternal AND tgname NOT IN"
                     " ('certificates_issuer_exists_insert',"
                     " 'certificates_issuer_exists_update',"
                     " 'certificates_names_add')"),
               0);
  CHECK_EQ_INT(count("SELECT count(*) FROM pg_index x JOIN pg_class c"
                     " ON c.oid = x.indexrelid WHERE c.relname ="
                     " 'certificates_renewal_idx' AND x.indisvalid"
                     " AND x.indpred IS NULL"),
               1);
  // Copying changed no state: the answer stands, no CRL was queued.
  CHECK_EQ_INT(count("SELECT count(*) FROM ocsp_answers"), 1);
  CHECK_EQ_INT(count("SELECT count(*) FROM crl_pending_shards"), 0);
  // A CRL made now lists the two not expired.
  ca_store_tx *tx = NULL;
  ca_revoked_stream *s = NULL;
  ca_revoked_entry e[4];
  size_t n = 0;
  CHECK(ca_store_begin(store, &tx) &&
        ca_store_tx_revoked_open(tx, issuer_id(), 0, (int64_t)time(NULL), &s) &&
        ca_revoked_stream_next(s, e, 4, &n));
  CHECK_EQ_INT(n, 2);
  ca_revoked_stream_close(s);
  ca_store_rollback(tx);
  // Finds by status.
  ca_cert_filter f = {
      .status = "revoked", .usage = CA_USAGE_IDENTITY, .limit = 10};
  ca_cert_row *rows = NULL;
  CHECK(ca_store_list_certificates(store, &f, &rows, &n));
  CHECK_EQ_INT(n, 3);
  ca_cert_rows_free(rows, n);
  f.status = "good";
  CHECK(ca_store_list_certificates(store, &f, &rows, &n));
  CHECK_EQ_INT(n, 2);
  ca_cert_rows_free(rows, n);
  // Releasing the hold deletes a2's row and queues its shard's CRL; a
  // release of a1 (not on hold) changes nothing.
  size_t matches = 0;
  CHECK(ca_store_begin(store, &tx) &&
        ca_store_tx_lock_certificate(tx, "a2", issuer_id(), &st, &matches) &&
        matches == 1 && ca_store_tx_set_revocation(tx, st.id, 0, 0, 6) &&
        ca_store_commit(&tx));
  CHECK_EQ_INT(count("SELECT count(*) FROM revocations"), 2);
  CHECK_EQ_INT(count("SELECT count(*) FROM crl_pending_shards"
                     " WHERE shard = 2"),
               1);
  CHECK(ca_store_begin(store, &tx) &&
        ca_store_tx_lock_certificate(tx, "a1", issuer_id(), &st, &matches));
  CHECK(!ca_store_tx_set_revocation(tx, st.id, 0, 0, 6));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_CONFLICT);
  ca_store_rollback(tx);
  CHECK(state_of(store, "a1", &st) && st.revoked);
  ca_store_free(store);
}

int main(void) {
  mod_db_create(&db);
  RUN(revoked_rows_survive_migration_0018);
  mod_db_drop(&db);
  printf("%d checks, %d failed\n", test_checks, test_failures);
  return test_failures != 0;
}
