// The migrations runner (ca/store/store_pg.c) against a real PostgreSQL:
// a database left at migration 0008 with certificates in it is upgraded by
// two stores migrating at once (migration 0010 runs outside a transaction,
// with CREATE INDEX CONCURRENTLY, while the other waits for the lock); the
// rows are kept, the indexes are valid, and the finds and the monitor's
// selection that use them answer as before; the table of common names
// (migration 0026) holds every name, old and new. A no-transaction
// migration that stopped half-way (unrecorded) runs again.
#include <openssl/mem.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ca/store/store.h"
#include "ca/store/store_monitor.h"
#include "migrations/migrations.h"
#include "tests/modules/fixture.h"
#include "tests/support/test.h"

static mod_db db;

// apply_up_to brings the empty database to |version| as a pkid of that
// version did: the same schema_migrations table, one transaction per file.
static int apply_up_to(int version) {
  PGconn *conn = mod_db_connect(&db);
  int ok = 1;
  PGresult *res = PQexec(conn,
                         "CREATE TABLE schema_migrations ("
                         " version integer PRIMARY KEY,"
                         " name text NOT NULL,"
                         " applied_at timestamptz NOT NULL DEFAULT now())");
  ok = PQresultStatus(res) == PGRES_COMMAND_OK;
  PQclear(res);
  for (size_t i = 0; ok && i < pki_migration_count; i++) {
    const pki_migration *m = &pki_migrations[i];
    if (m->version > version) {
      break;
    }
    char record[256];
    snprintf(record, sizeof(record),
             "INSERT INTO schema_migrations (version, name) VALUES (%d, '%s')",
             m->version, m->name);
    const char *steps[4] = {"BEGIN", m->sql, record, "COMMIT"};
    for (int s = 0; ok && s < 4; s++) {
      res = PQexec(conn, steps[s]);
      ok = PQresultStatus(res) == PGRES_COMMAND_OK;
      if (!ok) {
        fprintf(stderr, "%s: %s", m->name, PQerrorMessage(conn));
      }
      PQclear(res);
    }
  }
  PQfinish(conn);
  return ok;
}

// The rows of a database in service: 3,000 certificates of 50 clusters,
// and the few the checks below look for.
static const char kRows[] =
    "WITH ca AS (INSERT INTO issuers (name, role, algorithm, subject, serial,"
    " not_before, not_after, der, key_file) VALUES ('old-root', 'root',"
    " 'RSA-2048', 'CN=Old Root', '01', now() - interval '1 day',"
    " now() + interval '10 years', '\\x3000', 'old-root.key') RETURNING id)"
    " INSERT INTO certificates (issuer_id, serial, profile, subject,"
    " common_name, sans, key_type, key_bits, not_before, not_after, der,"
    " requester, cluster)"
    " SELECT ca.id, to_hex(1000 + n), p, 'CN=' || cn, cn, ARRAY['DNS:' || cn],"
    " 'RSA', 2048, now() - interval '1 day',"
    " date_trunc('second', now()) + make_interval(days => d),"
    " '\\x3000', 'test', 'cl' || (n % 50)"
    " FROM ca, (SELECT n, CASE WHEN n % 2 = 0 THEN 'tomcat' ELSE 'ipsec' END"
    "  AS p, 'node' || n || '.cl' || (n % 50) || '.example.net' AS cn,"
    "  100 + n AS d FROM generate_series(1, 3000) n"
    "  UNION ALL VALUES (3001, 'tomcat', 'A_B%C.example.com', 5),"
    "  (3002, 'tomcat', 'axbyc.example.com', 400),"
    "  (3003, 'tomcat', 'renewed.example.com', 5),"
    "  (3004, 'tomcat', 'RENEWED.example.com', 400),"
    "  (3005, 'tomcat', 'due.example.com', 6)) AS r(n, p, cn, d)";

static void *migrate_thread(void *arg) {
  int *ok = arg;
  ca_store *store = NULL;
  *ok = ca_store_open(db.url, 1, &store) && ca_store_migrate(store);
  if (!*ok) {
    fprintf(stderr, "migrate: %s\n", ca_err_get()->message);
  }
  ca_store_free(store);
  return NULL;
}

static long long count_valid_indexes(void) {
  return mod_db_int(&db,
                    "SELECT count(*) FROM pg_index x JOIN pg_class c"
                    " ON c.oid = x.indexrelid WHERE x.indisvalid AND"
                    " c.relname IN ('certificate_names_trgm_idx',"
                    " 'certificates_renewal_idx',"
                    " 'certificate_names_grams_idx',"
                    " 'certificates_issuer_not_after_idx')",
                    NULL, NULL);
}

// find returns how many certificates a find by |cn| lists, and the first
// one's common name in |first|.
static long find(ca_store *store, const char *cn, char *first,
                 size_t first_len) {
  ca_cert_filter f = {.cn = cn, .usage = CA_USAGE_IDENTITY, .limit = 1000};
  ca_cert_row *rows = NULL;
  size_t n = 0;
  if (!ca_store_list_certificates(store, &f, &rows, &n)) {
    fprintf(stderr, "find: %s\n", ca_err_get()->message);
    return -1;
  }
  if (first != NULL) {
    snprintf(first, first_len, "%s", n > 0 ? rows[0].common_name : "");
  }
  ca_cert_rows_free(rows, n);
  return (long)n;
}

TEST(upgrade_from_0008_with_rows) {
  CHECK(apply_up_to(8));
  CHECK(mod_db_exec(&db, kRows));
  CHECK_EQ_INT(mod_db_int(&db, "SELECT count(*) FROM certificates", NULL, NULL),
               3005);
  // Two nodes start together: one applies 0010 (CREATE INDEX
  // CONCURRENTLY), the other waits for the lock without holding a snapshot
  // the index build would wait for.
  pthread_t t[2];
  int ok[2] = {0, 0};
  for (int i = 0; i < 2; i++) {
    CHECK(pthread_create(&t[i], NULL, migrate_thread, &ok[i]) == 0);
  }
  for (int i = 0; i < 2; i++) {
    pthread_join(t[i], NULL);
    CHECK(ok[i]);
  }
  CHECK_EQ_INT(mod_db_int(&db,
                          "SELECT count(*) FROM schema_migrations"
                          " WHERE version = 10",
                          NULL, NULL),
               1);
  CHECK_EQ_INT(count_valid_indexes(), 4);
  CHECK_EQ_INT(mod_db_int(&db, "SELECT count(*) FROM certificates", NULL, NULL),
               3005);

  ca_store *store = NULL;
  CHECK(ca_store_open(db.url, 1, &store));
  char first[128];
  // LIKE's own characters in the text are matched as themselves, without
  // regard to case.
  CHECK_EQ_INT(find(store, "_b%c", first, sizeof(first)), 1);
  CHECK_EQ_STR(first, "A_B%C.example.com");
  CHECK_EQ_INT(find(store, "A_B%", NULL, 0), 1);
  CHECK_EQ_INT(find(store, "b", NULL, 0), 2);  // A_B%C and axbyc
  CHECK_EQ_INT(find(store, "\\", NULL, 0), 0);
  CHECK_EQ_INT(find(store, ".CL7.example", NULL, 0), 60);
  CHECK_EQ_INT(find(store, "node1234.", first, sizeof(first)), 1);
  CHECK_EQ_STR(first, "node1234.cl34.example.net");

  // The monitor's selection: the renewed certificate (a later good one of
  // the same profile and common name, case aside) is left out.
  ca_expiring *rows = NULL;
  size_t n = 0;
  CHECK(ca_store_monitor_expiring(store, (int64_t)time(NULL), 30 * 86400, &rows,
                                  &n));
  CHECK_EQ_INT(n, 2);
  if (n == 2) {
    CHECK_EQ_STR(rows[0].common_name, "A_B%C.example.com");
    CHECK_EQ_STR(rows[1].common_name, "due.example.com");
  }
  ca_expiring_free(rows, n);
  ca_store_free(store);
}

// walk reads every page of a find by |cn| with pages of |limit| and
// returns how many certificates it listed; each page must start after the
// previous one ended, soonest expiry first.
static long walk(ca_store *store, const char *cn, size_t limit) {
  ca_cert_filter f = {.cn = cn, .usage = CA_USAGE_IDENTITY, .limit = limit};
  long total = 0;
  int64_t last_not_after = 0, last_id = 0;
  for (int page = 0; page < 10000; page++) {
    ca_cert_row *rows = NULL;
    size_t n = 0;
    if (!ca_store_list_certificates(store, &f, &rows, &n)) {
      return -1;
    }
    for (size_t i = 0; i < n; i++) {
      CHECK(rows[i].not_after > last_not_after ||
            (rows[i].not_after == last_not_after && rows[i].id > last_id));
      last_not_after = rows[i].not_after;
      last_id = rows[i].id;
    }
    total += (long)n;
    if (n < limit) {
      ca_cert_rows_free(rows, n);
      return total;
    }
    f.after = (ca_cert_cursor){.set = 1,
                               .not_after = rows[n - 1].not_after,
                               .kind = 0,
                               .id = rows[n - 1].id};
    ca_cert_rows_free(rows, n);
  }
  return -1;
}

TEST(find_pages) {
  ca_store *store = NULL;
  CHECK(ca_store_open(db.url, 1, &store));
  // A text in most names fills its pages from the first certificates by
  // notAfter; a rare one is found through the names' trigram index
  // (migration 0026). Both page.
  CHECK_EQ_INT(walk(store, "example.net", 7), 3000);
  CHECK_EQ_INT(walk(store, ".cl7.", 7), 60);
  CHECK_EQ_INT(walk(store, "node2999.", 7), 1);
  CHECK_EQ_INT(walk(store, "no such name", 7), 0);
  // Too short for trigrams.
  CHECK_EQ_INT(walk(store, "b%", 7), 1);
  // Five characters and more: through the names' 5-grams (migration 0026,
  // whose ANALYZE gave the statistics of their most common ones), LIKE's
  // own characters matched as themselves.
  CHECK_EQ_INT(walk(store, "a_b%c", 7), 1);
  CHECK_EQ_INT(walk(store, "E2999.CL49.", 7), 1);
  CHECK_EQ_INT(walk(store, "cl49.example.net", 7), 60);
  CHECK_EQ_INT(walk(store, "xample.net.", 7), 0);
  ca_store_free(store);
}

// walk_on_new_store walks a find by |cn| in pages of 7 on a store opened
// for it, as a node started after the migration would: -1 on failure.
static long walk_on_new_store(const char *cn) {
  ca_store *store = NULL;
  if (!ca_store_open(db.url, 1, &store)) {
    return -1;
  }
  const long n = walk(store, cn, 7);
  ca_store_free(store);
  return n;
}

// names_table_state checks what migration 0026 leaves: a name per distinct
// lower-cased common name, the trigger that adds them, and no GIN index
// left on certificates.
static void names_table_state(void) {
  CHECK_EQ_INT(mod_db_int(&db,
                          "SELECT count(*) FROM certificate_names n FULL JOIN"
                          " (SELECT DISTINCT lower(common_name) AS name FROM"
                          " certificates) c ON c.name = n.name"
                          " WHERE c.name IS NULL OR n.name IS NULL",
                          NULL, NULL),
               0);
  CHECK_EQ_INT(mod_db_int(&db,
                          "SELECT count(*) FROM certificate_names"
                          " WHERE name <> lower(name)",
                          NULL, NULL),
               0);
  CHECK_EQ_INT(mod_db_int(&db,
                          "SELECT count(*) FROM pg_trigger WHERE tgname ="
                          " 'certificates_names_add' AND tgenabled = 'O'",
                          NULL, NULL),
               1);
  CHECK_EQ_INT(mod_db_int(&db,
                          "SELECT count(*) FROM pg_index x JOIN pg_class c"
                          " ON c.oid = x.indexrelid JOIN pg_am a"
                          " ON a.oid = c.relam WHERE x.indrelid ="
                          " 'certificates'::regclass AND a.amname = 'gin'",
                          NULL, NULL),
               0);
}

TEST(names_of_the_certificates_before_and_after) {
  // The upgrade filled the names of the 3,005 certificates it found; a
  // certificate inserted since adds its name (the trigger), once.
  names_table_state();
  CHECK(mod_db_exec(&db,
                    "INSERT INTO certificates (issuer_id, serial, profile,"
                    " subject, common_name, sans, key_type, key_bits,"
                    " not_before, not_after, der, requester)"
                    " SELECT i.id, s, 'tomcat', 'CN=Late.Example.net',"
                    " 'Late.Example.net', '{}', 'RSA', 2048, now(),"
                    " now() + interval '1 day', '\\x3000', 'test'"
                    " FROM issuers i, (VALUES ('a001'), ('a002')) v(s)"
                    " WHERE i.name = 'old-root'"));
  names_table_state();
  CHECK_EQ_INT(walk_on_new_store("LATE.ex"), 2);
  CHECK_EQ_INT(walk_on_new_store("ate"), 2);
}

// rerun_unrecorded migrates again after |version|'s record was removed, as
// a start does after one that stopped inside that migration: the file runs
// again whole, is recorded once, and leaves the indexes valid.
static void rerun_unrecorded(int version) {
  char version_text[16];
  snprintf(version_text, sizeof(version_text), "%d", version);
  CHECK_EQ_INT(mod_db_int(&db,
                          "WITH d AS (DELETE FROM schema_migrations"
                          " WHERE version = $1::integer RETURNING 1)"
                          " SELECT count(*) FROM d",
                          version_text, NULL),
               1);
  int ok = 0;
  migrate_thread(&ok);
  CHECK(ok);
  CHECK_EQ_INT(mod_db_int(&db,
                          "SELECT count(*) FROM schema_migrations"
                          " WHERE version = $1::integer",
                          version_text, NULL),
               1);
  CHECK_EQ_INT(count_valid_indexes(), 4);
}

TEST(rerun_0026_after_interruption) {
  // A start that stopped in the middle of migration 0026 (names half
  // filled, an index not built) runs the file again: every name is there
  // and the indexes are rebuilt.
  CHECK(mod_db_exec(&db,
                    "DELETE FROM certificate_names WHERE name LIKE"
                    " '%.cl1%'"));
  CHECK(mod_db_exec(&db, "DROP INDEX certificate_names_grams_idx"));
  rerun_unrecorded(26);
  names_table_state();
  CHECK_EQ_INT(walk_on_new_store("node2999."), 1);
  CHECK_EQ_INT(walk_on_new_store(".CL17."), 60);
}

TEST(rerun_0022_after_interruption) {
  // A start that stopped inside migration 0022 (the 5-gram and issuer
  // indexes) had not reached 0026 either: both run again, in order, 0022
  // over the indexes already built and 0026 dropping its 5-gram index from
  // certificates again.
  CHECK(mod_db_exec(&db, "DELETE FROM schema_migrations WHERE version = 26"));
  rerun_unrecorded(22);
  CHECK_EQ_INT(mod_db_int(&db,
                          "SELECT count(*) FROM schema_migrations"
                          " WHERE version = 26",
                          NULL, NULL),
               1);
  names_table_state();
  CHECK_EQ_INT(walk_on_new_store("node2999."), 1);
}

TEST(rerun_after_interruption) {
  // A start that stopped inside a migration run outside a transaction
  // (0019 here: 0010 and 0012 name columns 0018 dropped) left it
  // unrecorded, perhaps with an index built: the next start runs the whole
  // file again.
  rerun_unrecorded(19);
}

int main(void) {
  mod_db_create(&db);
  RUN(upgrade_from_0008_with_rows);
  RUN(find_pages);
  RUN(names_of_the_certificates_before_and_after);
  RUN(rerun_after_interruption);
  RUN(rerun_0026_after_interruption);
  RUN(rerun_0022_after_interruption);
  mod_db_drop(&db);
  printf("%d checks, %d failed\n", test_checks, test_failures);
  return test_failures != 0;
}
