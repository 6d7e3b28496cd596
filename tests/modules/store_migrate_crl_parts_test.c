// Migration 0020 against a real PostgreSQL: a database at the schema
// before it (0019) with a CRL stored whole in crls.der is brought to
// pkid's schema by pkid's migration runner. The old CRL still reads, byte
// for byte; a CRL stored now goes into crl_parts in the pieces it is
// written in, reads back the same across slices and parts, replaces the
// old one's bytes, and its own parts go when the next one is stored; a CRL
// shorter or longer than announced is refused.
#include <inttypes.h>
#include <openssl/mem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

// A CA whose CRL number 7, of 40,000 bytes (several slices), is stored
// whole in crls.der, as pkid stored CRLs before migration 0020.
static const char kRows[] =
    "WITH ca AS (INSERT INTO issuers (name, role, algorithm, subject, serial,"
    " not_before, not_after, der, key_file) VALUES ('old-root', 'root',"
    " 'RSA-2048', 'CN=Old Root', '01', now() - interval '1 day',"
    " now() + interval '10 years', '\\x3000', 'old-root.key') RETURNING id)"
    " INSERT INTO crls (issuer_id, shard, crl_number, this_update,"
    " next_update, der) SELECT ca.id, 0, 7, now(), now() + interval '1 day',"
    " (SELECT string_agg(decode(md5(g::text), 'hex'), ''::bytea ORDER BY g)"
    " FROM generate_series(1, 2500) g) FROM ca";

#define OLD_LEN 40000
#define NEW_LEN 70001

static long long count(const char *sql) {
  return mod_db_int(&db, sql, NULL, NULL);
}

static int64_t issuer_id(void) {
  return (int64_t)count("SELECT id FROM issuers WHERE name = 'old-root'");
}

// old_bytes_match compares |der| with the CRL kRows stored in crls.der.
static int old_bytes_match(const uint8_t *der, size_t len) {
  PGconn *conn = mod_db_connect(&db);
  PGresult *res =
      PQexecParams(conn, "SELECT der FROM crls WHERE crl_number = 7", 0, NULL,
                   NULL, NULL, NULL, 1);
  const int ok = PQresultStatus(res) == PGRES_TUPLES_OK &&
                 PQntuples(res) == 1 && (size_t)PQgetlength(res, 0, 0) == len &&
                 memcmp(PQgetvalue(res, 0, 0), der, len) == 0;
  PQclear(res);
  PQfinish(conn);
  return ok;
}

static void make_crl(uint8_t *der, size_t len, uint8_t seed) {
  for (size_t i = 0; i < len; i++) {
    der[i] = (uint8_t)(i * 31 + seed + (i >> 8));
  }
}

// put stores |der| as CRL |number| of the CA, sent in pieces of the sizes
// of |pieces| in turn (the last repeated), announced as |announced| bytes.
static int put(ca_store *store, uint64_t number, const uint8_t *der, size_t len,
               size_t announced, const size_t *pieces, size_t n_pieces) {
  ca_store_tx *tx = NULL;
  ca_crl_put *p = NULL;
  if (!ca_store_begin_large(store, &tx)) {
    return 0;
  }
  int ok = ca_store_tx_crl_put_begin(tx, issuer_id(), 0, number, 1760000000,
                                     1760003600, announced, &p);
  for (size_t off = 0, k = 0; ok && off < len; k++) {
    size_t n = pieces[k < n_pieces ? k : n_pieces - 1];
    n = n < len - off ? n : len - off;
    ok = ca_crl_put_write(p, der + off, n);
    off += n;
  }
  if (p != NULL) {
    ok = ca_crl_put_finish(p, !ok) && ok;
  }
  if (ok) {
    return ca_store_commit(&tx);
  }
  ca_store_rollback(tx);
  return 0;
}

static int read_is(ca_store *store, uint64_t number, const uint8_t *der,
                   size_t len) {
  ca_crl_row row;
  int found = 0;
  if (!ca_store_get_crl(store, issuer_id(), &row, &found) || !found) {
    return 0;
  }
  const int ok = row.number == number && row.der_len == len &&
                 (der == NULL || memcmp(row.der, der, len) == 0);
  if (ok && der == NULL) {
    // The CRL stored before 0020: compared with crls.der itself.
    const int same = old_bytes_match(row.der, row.der_len);
    OPENSSL_free(row.der);
    return same;
  }
  OPENSSL_free(row.der);
  return ok;
}

TEST(crls_stored_before_and_after_migration_0020) {
  CHECK(apply_up_to(19));
  CHECK(mod_db_exec(&db, kRows));
  CHECK_EQ_INT(count("SELECT octet_length(der) FROM crls"), OLD_LEN);
  ca_store *store = NULL;
  CHECK(ca_store_open(db.url, 1, &store) && ca_store_migrate(store));
  CHECK_EQ_INT(count("SELECT count(*) FROM information_schema.tables"
                     " WHERE table_name = 'crl_chunks'"),
               0);
  // The CRL stored before reads as it was, from crls.der.
  CHECK(read_is(store, 7, NULL, OLD_LEN));
  // A new one, in pieces across the slices' boundaries: it replaces the
  // old one's bytes, and is in crl_parts alone.
  uint8_t *der = malloc(NEW_LEN);
  CHECK(der != NULL);
  if (der == NULL) {
    ca_store_free(store);
    return;
  }
  make_crl(der, NEW_LEN, 1);
  static const size_t kPieces[] = {30000, 7, 12288, 1, 20000};
  CHECK(put(store, 8, der, NEW_LEN, NEW_LEN, kPieces, 5));
  CHECK(read_is(store, 8, der, NEW_LEN));
  CHECK_EQ_INT(count("SELECT count(*) FROM crls WHERE der IS NULL"
                     " AND der_len = 70001"),
               1);
  CHECK_EQ_INT(count("SELECT count(*) FROM crl_parts WHERE crl_number = 8"), 6);
  // The next one takes the place of its parts.
  make_crl(der, NEW_LEN, 2);
  static const size_t kOne[] = {NEW_LEN};
  CHECK(put(store, 9, der, NEW_LEN, NEW_LEN, kOne, 1));
  CHECK(read_is(store, 9, der, NEW_LEN));
  CHECK_EQ_INT(count("SELECT count(*) FROM crl_parts"), 1);
  // Shorter or longer than announced: refused, and nothing changes.
  CHECK(!put(store, 10, der, NEW_LEN - 1, NEW_LEN, kOne, 1));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_INTERNAL);
  CHECK(!put(store, 10, der, NEW_LEN, NEW_LEN - 1, kOne, 1));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_INTERNAL);
  CHECK(read_is(store, 9, der, NEW_LEN));
  CHECK_EQ_INT(count("SELECT count(*) FROM crl_parts"), 1);
  free(der);
  ca_store_free(store);
}

int main(void) {
  mod_db_create(&db);
  RUN(crls_stored_before_and_after_migration_0020);
  mod_db_drop(&db);
  printf("%d checks, %d failed\n", test_checks, test_failures);
  return test_failures != 0;
}
