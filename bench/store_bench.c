// The store benchmark: how fast certificates can be recorded, by method
// (multi-row INSERT with ON CONFLICT, or binary COPY) and rows per
// transaction, and what each row costs the PostgreSQL backend in CPU time
// (read from /proc for the backend's process: the database usually shares
// the machine with pkid, so its CPU per row is what limits issuance).
//
// bazel run -c opt //bench:store -- [--seconds S] [--database URL]
//                                    [--names distinct|one]
// One JSON object per line.
//
// --names: distinct (the default) gives each row a common name of its own,
// as a CA's nodes have (cucm-sub03.cl01234.example.net: 20 nodes to a
// cluster, numbered on from row to row; 2,000,000 before they repeat); one
// gives every row the same. The bench's table starts empty, so distinct is
// the cost of first issuances, whose names add their grams to the GIN
// indexes of certificate_names (migration 0026), and one that of renewals,
// which find their name there.
#include <inttypes.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench/proc_stat.h"
#include "ca/issue/authority.h"
#include "ca/store/pq.h"
#include "ca/store/store.h"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long self_ticks(void) {
  return (long)proc_cpu_ticks(getpid());
}

typedef struct fake_rows {
  ca_new_cert_row *records;
  char (*serials)[40];
  char (*names)[48];
  char (*subjects)[64];
  uint8_t *der;
  size_t n;
  int distinct;        // a common name of its own for every row
  unsigned long next;  // the number of the next row's name
} fake_rows;

static const char *const kSans[] = {"DNS:node.example.com", "DNS:node",
                                    "IP:10.1.2.3"};

// fake_name writes row |i|'s common name and subject: the next node's with
// distinct names, else node.example.com.
static void fake_name(fake_rows *rows, size_t i) {
  if (!rows->distinct) {
    snprintf(rows->names[i], sizeof(rows->names[i]), "node.example.com");
  } else {
    const unsigned long k = rows->next++;
    snprintf(rows->names[i], sizeof(rows->names[i]),
             "cucm-sub%02lu.cl%05lu.example.net", k % 20, k / 20 % 100000);
  }
  snprintf(rows->subjects[i], sizeof(rows->subjects[i]), "O=Example,CN=%s",
           rows->names[i]);
}

// fake_fill gives every row a fresh random serial, and its name.
static void fake_fill(fake_rows *rows, int64_t issuer_id) {
  for (size_t i = 0; i < rows->n; i++) {
    fake_name(rows, i);
    uint8_t r[16];
    RAND_bytes(r, sizeof(r));
    r[0] |= 0x10;  // no leading zero nibble: minimal hex
    for (int k = 0; k < 16; k++) {
      snprintf(rows->serials[i] + 2 * k, 3, "%02x", r[k]);
    }
    rows->records[i] = (ca_new_cert_row){
        .issuer_id = issuer_id,
        .serial = rows->serials[i],
        .profile = "tomcat",
        .subject = rows->subjects[i],
        .common_name = rows->names[i],
        .sans = kSans,
        .san_count = 3,
        .key_type = CA_KEY_RSA,
        .key_bits = 2048,
        .not_before = 1764000000,
        .not_after = 1827000000,
        .der = rows->der,
        .der_len = 1200,  // an RSA-2048 leaf under an RSA-2048 CA
        .requester = "bench@127.0.0.1",
        .csr_sha256 = rows->der,
    };
  }
}

static long backend_pid(const char *url) {
  PGconn *conn = PQconnectdb(url);
  long pid = -1;
  if (PQstatus(conn) == CONNECTION_OK) {
    PGresult *res = PQexec(conn,
                           "SELECT pid FROM pg_stat_activity WHERE"
                           " application_name = 'pkid' AND datname ="
                           " current_database()");
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
      pid = strtol(PQgetvalue(res, 0, 0), NULL, 10);
    }
    PQclear(res);
  }
  PQfinish(conn);
  return pid;
}

static void run(ca_store *store, const char *url, int64_t issuer_id,
                const char *method, size_t group, double seconds,
                int distinct) {
  fake_rows rows = {.n = group, .distinct = distinct};
  rows.records = calloc(group, sizeof(ca_new_cert_row));
  rows.serials = calloc(group, sizeof(*rows.serials));
  rows.names = calloc(group, sizeof(*rows.names));
  rows.subjects = calloc(group, sizeof(*rows.subjects));
  rows.der = calloc(1, 1200);
  if (rows.records == NULL || rows.serials == NULL || rows.names == NULL ||
      rows.subjects == NULL || rows.der == NULL) {
    fprintf(stderr, "bench: out of memory\n");
    exit(1);
  }
  RAND_bytes(rows.der, 1200);
  uint8_t *collided = calloc(group, 1);
  const long pid = backend_pid(url);
  const long long pg0 = proc_cpu_ticks((pid_t)pid);
  const long me0 = self_ticks();
  const double t0 = now_s();
  size_t total = 0;
  while (now_s() - t0 < seconds) {
    fake_fill(&rows, issuer_id);
    ca_store_tx *tx;
    int ok = ca_store_begin(store, &tx);
    if (ok) {
      ok = strcmp(method, "copy") == 0
               ? ca_store_tx_copy_certificates(tx, rows.records, group)
               : ca_store_tx_insert_certificates(tx, rows.records, group,
                                                 collided);
      ok = ok ? ca_store_commit(&tx) : (ca_store_rollback(tx), 0);
    }
    if (!ok) {
      fprintf(stderr, "bench: %s\n", ca_err_get()->message);
      exit(1);
    }
    total += group;
  }
  const double elapsed = now_s() - t0;
  const long long pg1 = proc_cpu_ticks((pid_t)pid);
  const long me1 = self_ticks();
  const double tick_us = 1e6 / (double)sysconf(_SC_CLK_TCK);
  printf(
      "{\"bench\":\"store\",\"method\":\"%s\",\"names\":\"%s\","
      "\"rows_per_commit\":%zu,"
      "\"rows_per_s\":%.0f,\"pg_cpu_us_per_row\":%.1f,"
      "\"client_cpu_us_per_row\":%.1f}\n",
      method, distinct ? "distinct" : "one", group, (double)total / elapsed,
      pid > 0 && pg0 >= 0 ? (double)(pg1 - pg0) * tick_us / (double)total
                          : -1.0,
      (double)(me1 - me0) * tick_us / (double)total);
  fflush(stdout);
  free(rows.records);
  free(rows.serials);
  free(rows.names);
  free(rows.subjects);
  free(rows.der);
  free(collided);
}

static int admin(const char *url, const char *sql) {
  PGconn *conn = PQconnectdb(url);
  int ok = PQstatus(conn) == CONNECTION_OK;
  if (ok) {
    PGresult *res = PQexec(conn, sql);
    ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    PQclear(res);
  }
  if (!ok) {
    fprintf(stderr, "bench: %s: %s", sql, PQerrorMessage(conn));
  }
  PQfinish(conn);
  return ok;
}

int main(int argc, char **argv) {
  double seconds = 5;
  int distinct = 1;
  const char *maintenance = getenv("DATABASE_URL");
  int usage = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--seconds") == 0) {
      seconds = atof(argv[i + 1]);
    } else if (strcmp(argv[i], "--database") == 0) {
      maintenance = argv[i + 1];
    } else if (strcmp(argv[i], "--names") == 0 &&
               (strcmp(argv[i + 1], "distinct") == 0 ||
                strcmp(argv[i + 1], "one") == 0)) {
      distinct = strcmp(argv[i + 1], "distinct") == 0;
    } else {
      usage = 1;
    }
  }
  if (usage || argc % 2 == 0 || maintenance == NULL || !ca_pq_load()) {
    fprintf(stderr,
            "usage: store_bench --database URL [--seconds S]"
            " [--names distinct|one]\n");
    return 2;
  }
  // A database of our own, beside the one named.
  char name[64], url[1024], sql[128];
  snprintf(name, sizeof(name), "pki_store_bench_%ld", (long)getpid());
  const char *path = strrchr(maintenance, '/');
  snprintf(url, sizeof(url), "%.*s/%s", (int)(path - maintenance), maintenance,
           name);
  snprintf(sql, sizeof(sql), "CREATE DATABASE %s", name);
  if (!admin(maintenance, sql)) {
    return 1;
  }
  ca_store *store = NULL;
  ca_authority *authority = NULL;
  ca_authority_config config;
  ca_authority_config_init(&config);
  char dir[64];
  snprintf(dir, sizeof(dir), "/tmp/pki-store-bench-%ld", (long)getpid());
  config.data_dir = dir;
  if (!ca_store_open(url, 1, &store) || !ca_store_migrate(store) ||
      !ca_authority_open(store, &config, &authority)) {
    fprintf(stderr, "bench: %s\n", ca_err_get()->message);
    return 1;
  }
  const int64_t issuer = ca_authority_find(authority, "rsa-issuing")->id;
  static const size_t kGroups[] = {100, 1000, 5000};
  for (size_t g = 0; g < 3; g++) {
    run(store, url, issuer, "insert", kGroups[g], seconds, distinct);
    run(store, url, issuer, "copy", kGroups[g], seconds, distinct);
  }
  ca_authority_free(authority);
  ca_store_free(store);
  snprintf(sql, sizeof(sql), "DROP DATABASE %s WITH (FORCE)", name);
  (void)admin(maintenance, sql);
  char rm[128];
  snprintf(rm, sizeof(rm), "rm -rf %s", dir);
  return system(rm) == 0 ? 0 : 1;
}
