// The CRL benchmark: how long pkid takes to build, sign and store the CRL
// of a CA with --entries revoked certificates (default 1,000,000), and how
// much its memory grows meanwhile.
//
// bazel run -c opt //bench:crl -- [--entries N] [--rounds R]
//     [--crl-shards K]
//
// DESIGN
//
// One real certificate is issued through the API (tomcat-ECDSA, EC P-256);
// its row is copied in SQL under --entries new serials, revoked
// (`INSERT ... SELECT ... generate_series`, as bench:revoke does): a CRL
// reads serials, times and reasons from the rows, never the certificates'
// bytes. With --crl-shards K the copies are spread over the K shards, and
// the CA-wide CRL, the one measured, still lists them all.
//
// Each round queues a change of the CA (a crl_pending row, as a revocation
// does) and sends the NOTIFY a revocation sends, in one transaction, then
// polls crls until the CA-wide CRL's number grows: publish_s is that time,
// the writer's wake-up included. pkid's VmRSS is read before the trigger
// and after the CRL is stored; VmHWM (its peak) before and after too: the
// CRL is streamed (ARCHITECTURE.md, "CRLs"), so neither grows with it.
// The reference, measured interleaved in each round: pg_read_s, PostgreSQL
// delivering the same entries once to a client (a cursor, as pkid reads),
// which a CRL needs twice, besides encoding, hashing, signing and storing
// it. vs_pg_read is pg_read_s / publish_s. pkid_cpu_s and pg_cpu_s are the
// CPU seconds pkid and the PostgreSQL backends of the bench's database
// (when the server runs on this machine, else -1) used during publish_s:
// what the CRL costs, which a loaded machine stretches less than the wall
// time.
//
// The last round's CRL is then fetched (GET /v1/crl/ec-issuing) and checked
// with BoringSSL: its signature under the issuing CA's key, and its number
// of entries. One JSON line per round, then one with the medians.
#include <errno.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <openssl/mem.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api/client/client.h"
#include "bench/proc_stat.h"
#include "tests/integration/harness.h"
#include "tests/support/csr_maker.h"

#define MAX_ROUNDS 32

typedef struct options {
  const char *database;
  long entries;
  int rounds;
  int shards;
} options;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void pause_ms(long ms) {
  const struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&t, NULL);
}

// copy_revoked inserts |n| revoked copies of certificate |id| with fresh
// serials, spread over |shards| CRL shards (none when 1).
static int copy_revoked(const it_db *db, long long id, long n, int shards) {
  char sql[2048], shard[64];
  if (shards > 1) {
    snprintf(shard, sizeof(shard), "(1 + g %%%% %d)::smallint", shards);
  } else {
    snprintf(shard, sizeof(shard), "NULL::smallint");
  }
  // Every column but the ones that make a copy a new certificate, read
  // from the catalog so that later migrations' columns are copied too. The
  // serial: 'c', 32 hex digits of md5 and one more (17 octets).
  snprintf(sql, sizeof(sql),
           "DO $$ DECLARE cols text; BEGIN"
           " SELECT string_agg(quote_ident(column_name), ',') INTO cols"
           " FROM information_schema.columns WHERE table_name = 'certificates'"
           " AND table_schema = current_schema() AND column_name NOT IN"
           " ('id', 'serial', 'common_name', 'created_at', 'crl_shard');"
           " EXECUTE format('WITH ins AS (INSERT INTO certificates (serial,"
           " common_name, crl_shard, %%s) SELECT"
           " ''c'' || md5(g::text) || substr(md5(g::text || ''x''), 1, 1),"
           " ''bench-crl-'' || g, %s, %%s"
           " FROM certificates, generate_series(1, %ld) g WHERE id = %lld"
           " RETURNING issuer_id, serial, id, crl_shard, not_after)"
           " INSERT INTO revocations SELECT issuer_id, serial, id, crl_shard,"
           " not_after, now(), (row_number() OVER ()) %%%% 2 FROM ins',"
           " cols, cols);"
           " END $$",
           shard, n, id);
  PGresult *res = it_db_query(db, sql, NULL, NULL);
  const int ok = res != NULL && PQresultStatus(res) == PGRES_COMMAND_OK;
  PQclear(res);
  if (ok) {
    PQclear(it_db_query(db, "VACUUM ANALYZE certificates", NULL, NULL));
    PQclear(it_db_query(db, "VACUUM ANALYZE revocations", NULL, NULL));
  }
  return ok;
}

// issue_model issues one real certificate and returns its row's id.
static long long issue_model(it_pkid *pkid, const it_db *db) {
  test_csr_spec spec = {.subject = "/O=Acme/OU=Voice/CN=crl-bench.example.com",
                        .key = "EC-P256"};
  size_t der_len;
  uint8_t *der = test_make_csr(&spec, &der_len, NULL);
  char *pem = der != NULL ? test_pem_csr(der, der_len) : NULL;
  pki_client *client = it_client(pkid);
  pki_reply reply;
  long long id = -1;
  if (pem != NULL && client != NULL &&
      pki_client_call(client, "POST", "/v1/sign?profile=tomcat-ECDSA",
                      "application/pkcs10", (const uint8_t *)pem, strlen(pem),
                      &reply)) {
    if (reply.status == 200) {
      id = it_db_int(db,
                     "SELECT max(id) FROM certificates"
                     " WHERE common_name = 'crl-bench.example.com'",
                     NULL);
    } else {
      fprintf(stderr, "crl: issuing the model: HTTP %ld\n", reply.status);
    }
    pki_reply_cleanup(&reply);
  }
  pki_client_free(client);
  OPENSSL_free(pem);
  OPENSSL_free(der);
  return id;
}

static long long crl_number(const it_db *db, const char *issuer) {
  return it_db_int(db,
                   "SELECT coalesce(max(crl_number), 0) FROM crls"
                   " WHERE issuer_id = $1::bigint AND shard = 0",
                   issuer);
}

// pg_read times PostgreSQL sending the CA's revoked entries once, in
// binary, through a cursor fetched as pkid fetches it.
static double pg_read(const it_db *db, const char *issuer) {
  PGconn *conn = PQconnectdb(db->url);
  double took = -1;
  char sql[512];
  snprintf(sql, sizeof(sql),
           "DECLARE r NO SCROLL CURSOR FOR SELECT serial, revoked_at,"
           " reason FROM revocations WHERE issuer_id = %s"
           " AND not_after > now()",
           issuer);
  if (PQstatus(conn) == CONNECTION_OK) {
    const double t0 = now_s();
    PQclear(PQexec(conn, "BEGIN"));
    PQclear(PQexec(conn, sql));
    for (;;) {
      PGresult *res = PQexecParams(conn, "FETCH FORWARD 4096 FROM r", 0, NULL,
                                   NULL, NULL, NULL, 1);
      const int n =
          PQresultStatus(res) == PGRES_TUPLES_OK ? PQntuples(res) : -1;
      PQclear(res);
      if (n <= 0) {
        took = n == 0 ? now_s() - t0 : -1;
        break;
      }
    }
    PQclear(PQexec(conn, "COMMIT"));
  }
  PQfinish(conn);
  return took;
}

// pg_cpu_ticks returns the CPU ticks used so far by the PostgreSQL
// backends serving the bench's database (pkid's pool), when the server runs
// on this machine; -1 otherwise. With pkid's own ticks, the CPU a CRL
// costs, which a loaded machine stretches less than the wall time.
static long long pg_cpu_ticks(const it_db *db) {
  PGresult *res = it_db_query(db,
                              "SELECT pid FROM pg_stat_activity"
                              " WHERE datname = current_database()"
                              " AND pid <> pg_backend_pid()",
                              NULL, NULL);
  long long sum =
      res != NULL && PQresultStatus(res) == PGRES_TUPLES_OK ? 0 : -1;
  for (int i = 0; sum >= 0 && i < PQntuples(res); i++) {
    const long long t = proc_cpu_ticks((pid_t)atol(PQgetvalue(res, i, 0)));
    sum = t >= 0 ? sum + t : -1;
  }
  PQclear(res);
  return sum;
}

typedef struct round_result {
  double pkid_cpu_s, pg_cpu_s;
  double publish_s;
  double pg_read_s;
  long rss_before_kb, rss_after_kb, hwm_before_kb, hwm_after_kb;
  long long crl_bytes;
} round_result;

// settled waits until no change of |issuer| waits for a CRL: the rows of
// both queues are gone once the CRL that took them committed. A change
// queued before the round (the load's revocations queue the CA-wide CRL)
// would otherwise make a CRL already on its way count as this round's.
static int settled(const it_db *db, const char *issuer) {
  const double t0 = now_s();
  while (it_db_int(db,
                   "SELECT (SELECT count(*) FROM crl_pending"
                   " WHERE issuer_id = $1::bigint)"
                   " + (SELECT count(*) FROM crl_pending_shards"
                   " WHERE issuer_id = $1::bigint)",
                   issuer) != 0) {
    if (now_s() - t0 > 600) {
      fprintf(stderr, "crl: changes still queued after 600 s\n");
      return 0;
    }
    pause_ms(5);
  }
  return 1;
}

// one_round triggers a CRL of the CA and waits for it.
static int one_round(const it_db *db, pid_t pid, const char *issuer,
                     const char *payload, round_result *out) {
  if (!settled(db, issuer)) {
    return 0;
  }
  const long long before = crl_number(db, issuer);
  // At least --crl-interval (1 s) after the previous CRL.
  pause_ms(1100);
  out->pg_read_s = pg_read(db, issuer);
  out->rss_before_kb = proc_status_kb(pid, "VmRSS");
  out->hwm_before_kb = proc_status_kb(pid, "VmHWM");
  const long long cpu0 = proc_cpu_ticks(pid), pg0 = pg_cpu_ticks(db);
  const double t0 = now_s();
  PGresult *res = it_db_query(
      db,
      "WITH q AS (INSERT INTO crl_pending (issuer_id) VALUES ($1::bigint)"
      " RETURNING 1) SELECT pg_notify('pki_revocation', $2) FROM q",
      issuer, payload);
  const int ok = res != NULL && PQresultStatus(res) == PGRES_TUPLES_OK;
  PQclear(res);
  if (!ok) {
    return 0;
  }
  while (crl_number(db, issuer) <= before) {
    if (now_s() - t0 > 600) {
      fprintf(stderr, "crl: no CRL after 600 s\n");
      return 0;
    }
    pause_ms(5);
  }
  out->publish_s = now_s() - t0;
  const long long cpu1 = proc_cpu_ticks(pid), pg1 = pg_cpu_ticks(db);
  const double hz = (double)sysconf(_SC_CLK_TCK);
  out->pkid_cpu_s = cpu0 >= 0 && cpu1 >= 0 ? (double)(cpu1 - cpu0) / hz : -1;
  out->pg_cpu_s = pg0 >= 0 && pg1 >= 0 ? (double)(pg1 - pg0) / hz : -1;
  out->rss_after_kb = proc_status_kb(pid, "VmRSS");
  out->hwm_after_kb = proc_status_kb(pid, "VmHWM");
  out->crl_bytes =
      it_db_int(db,
                "SELECT coalesce(der_len, octet_length(der)) FROM crls"
                " WHERE issuer_id = $1::bigint AND shard = 0",
                issuer);
  return out->pg_read_s > 0 && out->crl_bytes > 0;
}

// check_crl fetches the CA-wide CRL and checks its signature and entries.
static int check_crl(it_pkid *pkid, long long want_entries) {
  pki_client *client = it_client(pkid);
  pki_reply chain, crl;
  memset(&chain, 0, sizeof(chain));
  memset(&crl, 0, sizeof(crl));
  int ok = client != NULL &&
           pki_client_call(client, "GET", "/v1/ca/ec-issuing/chain", NULL, NULL,
                           0, &chain) &&
           chain.status == 200 &&
           pki_client_call(client, "GET", "/v1/crl/ec-issuing", NULL, NULL, 0,
                           &crl) &&
           crl.status == 200;
  X509 *ca = NULL;
  X509_CRL *parsed = NULL;
  if (ok) {
    BIO *bio = BIO_new_mem_buf(chain.body, (int)chain.body_len);
    ca = bio != NULL ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    const uint8_t *p = crl.body;
    parsed = d2i_X509_CRL(NULL, &p, (long)crl.body_len);
    EVP_PKEY *key = ca != NULL ? X509_get_pubkey(ca) : NULL;
    const long long entries =
        parsed != NULL ? sk_X509_REVOKED_num(X509_CRL_get_REVOKED(parsed)) : -1;
    ok = key != NULL && parsed != NULL && X509_CRL_verify(parsed, key) == 1 &&
         entries == want_entries;
    printf(
        "{\"bench\":\"crl\",\"case\":\"check\",\"crl_bytes\":%zu,"
        "\"entries\":%lld,\"signature_ok\":%s}\n",
        crl.body_len, entries,
        key != NULL && parsed != NULL && X509_CRL_verify(parsed, key) == 1
            ? "true"
            : "false");
    EVP_PKEY_free(key);
  }
  X509_free(ca);
  X509_CRL_free(parsed);
  pki_reply_cleanup(&chain);
  pki_reply_cleanup(&crl);
  pki_client_free(client);
  return ok;
}

static int compare_double(const void *a, const void *b) {
  const double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof(*v), compare_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int measure(const options *o, it_pkid *pkid, const it_db *db,
                   long long model) {
  char id[24], issuer[24], payload[128], sql[256];
  snprintf(id, sizeof(id), "%lld", model);
  snprintf(
      issuer, sizeof(issuer), "%lld",
      it_db_int(db, "SELECT issuer_id FROM certificates WHERE id = $1", id));
  snprintf(sql, sizeof(sql), "SELECT serial FROM certificates WHERE id = %s",
           id);
  PGresult *res = it_db_query(db, sql, NULL, NULL);
  if (res == NULL || PQntuples(res) != 1) {
    PQclear(res);
    return 0;
  }
  snprintf(payload, sizeof(payload), "%s:%s", issuer, PQgetvalue(res, 0, 0));
  PQclear(res);
  const double t0 = now_s();
  if (!copy_revoked(db, model, o->entries, o->shards)) {
    return 0;
  }
  fprintf(stderr, "crl: %ld revoked rows made in %.1f s\n", o->entries,
          now_s() - t0);
  double publish[MAX_ROUNDS], read[MAX_ROUNDS], pkid_cpu[MAX_ROUNDS],
      pg_cpu[MAX_ROUNDS];
  long growth = 0, peak_growth = 0;
  long long bytes = 0;
  for (int i = 0; i < o->rounds; i++) {
    round_result r;
    memset(&r, 0, sizeof(r));
    if (!one_round(db, pkid->pid, issuer, payload, &r)) {
      return 0;
    }
    publish[i] = r.publish_s;
    read[i] = r.pg_read_s;
    pkid_cpu[i] = r.pkid_cpu_s;
    pg_cpu[i] = r.pg_cpu_s;
    bytes = r.crl_bytes;
    const long g = r.rss_after_kb - r.rss_before_kb;
    const long h = r.hwm_after_kb - r.hwm_before_kb;
    growth = g > growth ? g : growth;
    peak_growth = h > peak_growth ? h : peak_growth;
    printf(
        "{\"bench\":\"crl\",\"case\":\"round\",\"round\":%d,"
        "\"entries\":%ld,\"crl_shards\":%d,\"crl_bytes\":%lld,"
        "\"publish_s\":%.3f,\"pg_read_s\":%.3f,\"vs_pg_read\":%.3f,"
        "\"pkid_rss_before_kb\":%ld,\"pkid_rss_after_kb\":%ld,"
        "\"pkid_hwm_before_kb\":%ld,\"pkid_hwm_after_kb\":%ld,"
        "\"pkid_cpu_s\":%.2f,\"pg_cpu_s\":%.2f}\n",
        i + 1, o->entries, o->shards, r.crl_bytes, r.publish_s, r.pg_read_s,
        r.pg_read_s / r.publish_s, r.rss_before_kb, r.rss_after_kb,
        r.hwm_before_kb, r.hwm_after_kb, r.pkid_cpu_s, r.pg_cpu_s);
    fflush(stdout);
  }
  const double p = median(publish, o->rounds), q = median(read, o->rounds);
  printf(
      "{\"bench\":\"crl\",\"case\":\"publish\",\"entries\":%ld,"
      "\"crl_shards\":%d,\"rounds\":%d,\"crl_bytes\":%lld,"
      "\"publish_s_median\":%.3f,\"pg_read_s_median\":%.3f,"
      "\"vs_pg_read\":%.3f,\"pkid_rss_growth_kb_max\":%ld,"
      "\"pkid_hwm_growth_kb_max\":%ld,\"rss_growth_below_crl_size\":%s,"
      "\"pkid_cpu_s_median\":%.2f,\"pg_cpu_s_median\":%.2f}\n",
      o->entries, o->shards, o->rounds, bytes, p, q, q / p, growth, peak_growth,
      peak_growth * 1024 < bytes ? "true" : "false",
      median(pkid_cpu, o->rounds), median(pg_cpu, o->rounds));
  fflush(stdout);
  // The model itself is good: the CRL lists the copies.
  return check_crl(pkid, o->entries);
}

static void usage(void) {
  fprintf(stderr,
          "usage: crl --database URL [--entries N] [--rounds R]"
          " [--crl-shards K]\n");
}

static int parse_options(int argc, char **argv, options *o) {
  memset(o, 0, sizeof(*o));
  o->entries = 1000000;
  o->rounds = 3;
  o->shards = 1;
  for (int i = 1; i < argc; i += 2) {
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (v == NULL) {
      return 0;
    }
    if (strcmp(argv[i], "--database") == 0) {
      o->database = v;
    } else if (strcmp(argv[i], "--entries") == 0) {
      o->entries = atol(v);
    } else if (strcmp(argv[i], "--rounds") == 0) {
      o->rounds = atoi(v);
    } else if (strcmp(argv[i], "--crl-shards") == 0) {
      o->shards = atoi(v);
    } else {
      return 0;
    }
  }
  return o->database != NULL && o->entries >= 1 && o->rounds >= 1 &&
         o->rounds <= MAX_ROUNDS && o->shards >= 1 && o->shards <= 1024;
}

int main(int argc, char **argv) {
  options opts;
  if (!parse_options(argc, argv, &opts)) {
    usage();
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  char work[] = "/tmp/pki-crl.XXXXXX";
  char dir[sizeof(work) + 8], shards[16];
  if (mkdtemp(work) == NULL) {
    fprintf(stderr, "crl: mkdtemp: %s\n", strerror(errno));
    return 1;
  }
  it_db db;
  it_pkid pkid = {0};
  it_db_create_on(opts.database, &db);
  snprintf(dir, sizeof(dir), "%s/pkid", work);
  snprintf(shards, sizeof(shards), "%d", opts.shards);
  const char *extra[] = {
      "--keypool",    "none", "--crl-url", "http://crl.example.com/v1/crl/{ca}",
      "--crl-shards", shards, NULL};
  if (!it_pkid_start(&pkid, &db, dir, extra)) {
    it_db_drop(&db);
    proc_remove_tree("crl", work);
    return 1;
  }
  const long long model = issue_model(&pkid, &db);
  int rc = model > 0 && measure(&opts, &pkid, &db, model) ? 0 : 1;
  const int status = it_pkid_stop(&pkid);
  if (status != 0) {
    fprintf(stderr, "crl: pkid exited with %d\n", status);
    rc = 1;
  }
  it_db_drop(&db);
  proc_remove_tree("crl", work);
  return rc;
}
