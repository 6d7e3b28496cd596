#include "tests/modules/fixture.h"

#include <openssl/mem.h>
#include <openssl/x509.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tests/support/csr_maker.h"

static const char *maintenance_url(void) {
  const char *url = getenv("PKI_TEST_DATABASE_URL");
  if (url == NULL || url[0] == '\0') {
    fprintf(stderr,
            "PKI_TEST_DATABASE_URL is not set: the module tests need a real "
            "PostgreSQL (run them through bazel/pki test)\n");
    exit(1);
  }
  return url;
}

static PGconn *connect_url(const char *url) {
  if (!ca_pq_load()) {
    fprintf(stderr, "%s\n", ca_err_get()->message);
    exit(1);
  }
  PGconn *conn = PQconnectdb(url);
  if (conn == NULL || PQstatus(conn) != CONNECTION_OK) {
    fprintf(stderr, "cannot connect to %s: %s\n", url,
            conn != NULL ? PQerrorMessage(conn) : "out of memory");
    exit(1);
  }
  return conn;
}

PGconn *mod_db_connect(const mod_db *db) {
  return connect_url(db->url);
}

static int exec_on(const char *url, const char *sql) {
  PGconn *conn = connect_url(url);
  PGresult *res = PQexec(conn, sql);
  const ExecStatusType st = PQresultStatus(res);
  const int ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
  if (!ok) {
    fprintf(stderr, "SQL failed: %s: %s", sql, PQerrorMessage(conn));
  }
  PQclear(res);
  PQfinish(conn);
  return ok;
}

void mod_db_create(mod_db *db) {
  // Databases of one test binary differ by a counter; of two binaries
  // running at once, by the process id.
  static atomic_int counter;
  const char *maintenance = maintenance_url();
  memset(db, 0, sizeof(*db));
  snprintf(db->name, sizeof(db->name), "pki_mod_%ld_%d", (long)getpid(),
           atomic_fetch_add(&counter, 1));
  snprintf(db->maintenance, sizeof(db->maintenance), "%s", maintenance);
  char sql[128];
  snprintf(sql, sizeof(sql), "CREATE DATABASE %s", db->name);
  if (!exec_on(maintenance, sql)) {
    exit(1);
  }
  // Replace the database of the postgresql:// URL.
  const char *scheme = strstr(maintenance, "://");
  const char *path = scheme != NULL ? strchr(scheme + 3, '/') : NULL;
  if (path == NULL) {
    fprintf(stderr, "PKI_TEST_DATABASE_URL must be a postgresql:// URL\n");
    exit(1);
  }
  const char *query = strchr(path, '?');
  snprintf(db->url, sizeof(db->url), "%.*s/%s%s", (int)(path - maintenance),
           maintenance, db->name, query != NULL ? query : "");
}

void mod_db_drop(const mod_db *db) {
  if (db->name[0] == '\0') {
    return;
  }
  char sql[128];
  snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)",
           db->name);
  (void)exec_on(db->maintenance, sql);
}

int mod_db_exec(const mod_db *db, const char *sql) {
  return exec_on(db->url, sql);
}

PGresult *mod_db_query(const mod_db *db, const char *sql, const char *p1,
                       const char *p2) {
  PGconn *conn = connect_url(db->url);
  const char *params[2] = {p1, p2};
  const int n = p2 != NULL ? 2 : p1 != NULL ? 1 : 0;
  PGresult *res = PQexecParams(conn, sql, n, NULL, params, NULL, NULL, 0);
  if (PQresultStatus(res) != PGRES_TUPLES_OK &&
      PQresultStatus(res) != PGRES_COMMAND_OK) {
    fprintf(stderr, "query failed: %s: %s", sql, PQerrorMessage(conn));
    PQclear(res);
    res = NULL;
  }
  PQfinish(conn);
  return res;
}

long long mod_db_int(const mod_db *db, const char *sql, const char *p1,
                     const char *p2) {
  PGresult *res = mod_db_query(db, sql, p1, p2);
  long long v = -1;
  if (res != NULL && PQntuples(res) == 1 && !PQgetisnull(res, 0, 0)) {
    v = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
  }
  PQclear(res);
  return v;
}

int mod_db_text(const mod_db *db, const char *sql, const char *p1,
                const char *p2, char *out, size_t out_len) {
  PGresult *res = mod_db_query(db, sql, p1, p2);
  int ok = 0;
  if (res != NULL && PQntuples(res) == 1 && !PQgetisnull(res, 0, 0)) {
    snprintf(out, out_len, "%s", PQgetvalue(res, 0, 0));
    ok = 1;
  }
  PQclear(res);
  return ok;
}

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int mod_wait_notices(PGconn *conn, const char *channel, int want,
                     int timeout_ms, char *last, size_t last_len) {
  const int64_t deadline = now_ms() + timeout_ms;
  int got = 0;
  for (;;) {
    if (!PQconsumeInput(conn)) {
      return -1;
    }
    for (PGnotify *note; (note = PQnotifies(conn)) != NULL; PQfreemem(note)) {
      if (strcmp(note->relname, channel) == 0) {
        got++;
        if (last != NULL) {
          snprintf(last, last_len, "%s", note->extra);
        }
      }
    }
    const int64_t left = deadline - now_ms();
    if (got >= want || left <= 0) {
      return got;
    }
    struct pollfd fd = {.fd = PQsocket(conn), .events = POLLIN};
    (void)poll(&fd, 1, (int)left);
  }
}

static int report(const char *what) {
  fprintf(stderr, "%s failed: %s\n", what, ca_err_get()->message);
  return 0;
}

int mod_ca_open(mod_ca *ca, const char *name, size_t connections) {
  memset(ca, 0, sizeof(*ca));
  mod_db_create(&ca->db);
  const char *tmp = getenv("TEST_TMPDIR");
  snprintf(ca->data_dir, sizeof(ca->data_dir), "%s/%s-%s",
           tmp != NULL ? tmp : "/tmp", name, ca->db.name);
  if (mkdir(ca->data_dir, 0700) != 0) {
    perror(ca->data_dir);
    return 0;
  }
  ca_authority_config config;
  ca_authority_config_init(&config);
  config.data_dir = ca->data_dir;
  if (!ca_store_open(ca->db.url, connections, &ca->store)) {
    return report("ca_store_open");
  }
  if (!ca_store_migrate(ca->store)) {
    return report("ca_store_migrate");
  }
  if (!ca_authority_open(ca->store, &config, &ca->authority)) {
    return report("ca_authority_open");
  }
  return 1;
}

int mod_ca_start_engine(mod_ca *ca, size_t workers) {
  ca_engine_config config;
  ca_engine_config_init(&config);
  config.workers = workers;
  if (!ca_engine_start(ca->authority, ca->store, &config, &ca->engine)) {
    return report("ca_engine_start");
  }
  return 1;
}

void mod_ca_close(mod_ca *ca) {
  ca_engine_stop(ca->engine);
  ca_authority_free(ca->authority);
  ca_store_free(ca->store);
  mod_db_drop(&ca->db);
  memset(ca, 0, sizeof(*ca));
}

int mod_issue(mod_ca *ca, const char *profile, const char *key_spec,
              const char *cn, ca_issued *out) {
  char subject[128];
  snprintf(subject, sizeof(subject), "/CN=%s", cn);
  test_csr_spec spec = {.key = key_spec, .subject = subject};
  size_t len = 0;
  uint8_t *csr = test_make_csr(&spec, &len, NULL);
  memset(out, 0, sizeof(*out));
  if (csr == NULL) {
    fprintf(stderr, "cannot make a CSR for %s\n", cn);
    return 0;
  }
  const ca_issue_request request = {
      .profile = profile, .csr = csr, .csr_len = len};
  // The job commits without the item when the item is refused: only a
  // certificate made counts.
  const int ok = ca_engine_issue(ca->engine, &request, 1, "module-test",
                                 "127.0.0.1", out) &&
                 out->err.code == CA_OK;
  OPENSSL_free(csr);
  if (!ok) {
    fprintf(stderr, "%s (%s): %s\n", cn, profile, out->err.message);
  }
  return ok;
}

X509 *mod_issuer_x509(const ca_issuer *issuer) {
  const uint8_t *p = issuer->der;
  return d2i_X509(NULL, &p, (long)issuer->der_len);
}
