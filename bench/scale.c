// The scale benchmark: pkid on a database of ten million certificates.
//
//   bazel run -c opt //bench:scale -- [--rows N] [--seconds S]
//       [--find-requests K] [--load-connections C] [--database URL] [--keep]
//   ... --database URL --rows N --load-only     load, keep it, stop
//   ... --database URL --rows N --loaded-dir DIR --loaded-database DBURL
//                                               measure a kept load
//
// Without --database (or DATABASE_URL) bench/with_postgres.sh starts a
// throwaway PostgreSQL. One JSON object per line on stdout, each with the
// parameters of its measurement; progress on stderr. --keep (and
// --load-only) leave the databases and pkid's data directories in place and
// name them on stderr, so that a load of ten million rows is made once and
// measured again (--loaded-dir, --loaded-database; pass the same --rows).
// A kept load is never removed by the runs that measure it, and is first
// brought to this build's migrations (a "migrate" line: how long that took).
//
// DESIGN: two pkid processes run side by side, each on a database of its
// own brought to pkid's schema by pkid itself (every migration, CAs made at
// the first start): "loaded", into which --rows N certificate rows (ten
// million by default) are copied, and "small", into which 1,000 rows of
// the same generator are copied. Every measurement that compares them
// alternates between the two in slices of one second, so that the noise of
// a shared machine falls on both alike; ratio = loaded / small.
//
//   load      rows copied per second: binary COPY (FORMAT binary) on
//             --load-connections connections in transactions of 100,000
//             rows, in notBefore order (as a service writes them), into the
//             table with all its indexes (migration 0010's included), then
//             ANALYZE; the table's size on disk.
//   issue     POST /v1/certificates:batchIssue, batches of 100 EC-P256 CSRs
//             (profile tomcat-ECDSA, the pair whose signing is cheapest, so
//             that the database's share is largest), 3 connections, to each
//             pkid in turn for --seconds each. Target: ratio >= 0.9.
//   find      GET /v1/certificates on the loaded pkid, --find-requests per
//             case, one request at a time, p50 and p99 latency (target: p99
//             under 50 ms); each case says its filters.
//   ocsp      POST to the OCSP listener: a revoked serial and a serial never
//             issued, of the RSA issuing CA, without nonce (the responder's
//             cached answer) on 4 keep-alive connections, each pkid in
//             turn; every answer's status and CertID are checked. The
//             first answer of each (read from PostgreSQL) is timed apart.
//   monitor   POST /v1/monitor:check on the loaded pkid with one webhook (a
//             receiver in this process): the first check claims and sends
//             every certificate due, the second finds them sent. Target:
//             under 5 s.
//   metrics   POST /v1/stats:refresh on the loaded pkid: the statistics
//             snapshot computed once (the expiry counts and the counts by
//             CA, profile and status; what --stats-interval does in the
//             background), then GET /metrics and GET /v1/stats, which read
//             the snapshot, 5 requests each.
//
// What is synthetic: the rows are made here, not issued. They are spread
// over 20-node clusters (CNs such as cucm-sub03.cl01234.example.net), six
// profiles, the two issuing CAs pkid made plus self-signed identities (one
// node-profile in ten), three generations of each certificate (each
// renewed 30 days before it expires; 730 days of validity, 1,825 for
// self-signed ones, so notAfter spans about ten years), 3% of nodes
// retired (their certificates expired), 1% of rows revoked (a row in
// revocations; self-signed rows are left good). Every row's
// DER is one of 8 real certificates pkid issued at the start (4 RSA, 4
// EC), so a row's DER does not carry its row's serial, subject or
// validity; find and the monitor read the columns, and OCSP answers come
// from the rows (revocations' time and reason), never from the DER.
// The issuance and OCSP comparisons measure no raw signing limit: the small
// database, measured interleaved, is their reference.
#include <arpa/inet.h>
#include <inttypes.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/bytestring.h>
#include <openssl/mem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "api/client/client.h"
#include "bench/ocsp_wire.h"
#include "ca/error.h"
#include "ca/store/pq.h"
#include "ca/store/store.h"
#include "proto/pki.pb-c.h"
#include "tests/integration/harness.h"
#include "tests/support/csr_maker.h"

typedef struct options {
  const char *database;
  uint64_t rows;
  double seconds;
  int find_requests;
  int load_connections;
  int keep;
  int load_only;           // stop after the load (keeps it)
  const char *loaded_dir;  // reuse a kept load: pkid's data directory
  const char *loaded_url;  // and its database
} options;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what) {
  fprintf(stderr, "bench: %s\n", what);
  exit(1);
}

// --- Latency samples ---

typedef struct samples {
  double *ms;
  size_t n, cap;
} samples;

static void sample_add(samples *s, double ms) {
  if (s->n == s->cap) {
    const size_t cap = s->cap > 0 ? s->cap * 2 : 1024;
    double *grown = realloc(s->ms, cap * sizeof(double));
    if (grown == NULL) {
      return;  // a lost sample skews nothing that matters
    }
    s->ms = grown;
    s->cap = cap;
  }
  s->ms[s->n++] = ms;
}

static int compare_double(const void *a, const void *b) {
  const double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double percentile(samples *s, double p) {
  if (s->n == 0) {
    return 0;
  }
  qsort(s->ms, s->n, sizeof(double), compare_double);
  return s->ms[(size_t)(p * (double)(s->n - 1))];
}

// --- The rows ---

#define GENERATIONS 3
#define NODES_PER_CLUSTER 20
#define DAY INT64_C(86400)
#define SAMPLE_CERTS 4

static const char *const kNodes[NODES_PER_CLUSTER] = {
    "cucm-pub",   "cucm-sub01", "cucm-sub02", "cucm-sub03", "cucm-sub04",
    "cucm-sub05", "cucm-sub06", "cucm-sub07", "cucm-sub08", "cucm-sub09",
    "imp-pub",    "imp-sub01",  "imp-sub02",  "imp-sub03",  "cuc-pub",
    "cuc-sub01",  "expc01",     "expc02",     "expe01",     "expe02"};

typedef struct profile_kind {
  const char *name;
  int ec;
} profile_kind;

static const profile_kind kProfiles[] = {
    {"tomcat", 0},      {"tomcat-ECDSA", 1},
    {"CallManager", 0}, {"CallManager-ECDSA", 1},
    {"CAPF", 0},        {"ipsec", 0}};
#define PROFILE_COUNT (sizeof(kProfiles) / sizeof(kProfiles[0]))

// What the generator needs from the database pkid made.
typedef struct gen_ctx {
  int64_t rsa_issuer, ec_issuer;  // issuers.id of the issuing CAs
  uint8_t *der[2][SAMPLE_CERTS];  // [ec][i]: certificates pkid issued
  size_t der_len[2][SAMPLE_CERTS];
  int64_t now;
} gen_ctx;

// mix is a 64-bit hash (splitmix64's finalizer): the generator's only
// source of variety, so that row i is the same in every run.
static uint64_t mix(uint64_t x) {
  x += UINT64_C(0x9e3779b97f4a7c15);
  x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
  x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
  return x ^ (x >> 31);
}

typedef struct gen_row {
  char serial[33];
  char cn[64];
  char subject[128];
  char san[72];
  char cluster[16];
  char requester[48];
  const profile_kind *profile;
  int64_t issuer_id;  // 0: self-signed
  unsigned key_bits;
  int64_t not_before, not_after, revoked_at;
  int reason;  // with revoked_at
  const uint8_t *der;
  size_t der_len;
} gen_row;

// gen_serial writes row |i|'s serial: 16 bytes of SHA-256, positive, the
// first nibble not zero (lower-case hex of the magnitude, as pki stores it).
static void gen_serial(uint64_t i, char out[33]) {
  uint8_t in[16], md[SHA256_DIGEST_LENGTH];
  memcpy(in, "pki-scale", 8);
  for (int k = 0; k < 8; k++) {
    in[8 + k] = (uint8_t)(i >> (8 * k));
  }
  SHA256(in, sizeof(in), md);
  md[0] = (uint8_t)((md[0] & 0x7f) | 0x10);
  for (int k = 0; k < 16; k++) {
    snprintf(out + 2 * k, 3, "%02x", md[k]);
  }
}

// gen_validity returns row |i|'s notAfter and sets its validity in
// seconds: generation i % 3 of node-profile slot i / 3.
static int64_t gen_validity(const gen_ctx *ctx, uint64_t i, int64_t *validity) {
  const uint64_t slot = i / GENERATIONS;
  const int gen = (int)(i % GENERATIONS);
  const uint64_t h = mix(slot);
  const int self_signed = h % 10 == 0;
  const int retired = (h >> 8) % 100 < 3;
  *validity = (self_signed ? 1825 : 730) * DAY;
  const int64_t step = *validity - 30 * DAY;  // renewed 30 days early
  // The current generation expires between 30 days ago and the end of its
  // validity; a retired node's stopped two years ago.
  const int64_t not_after = ctx->now - 30 * DAY +
                            (int64_t)((h >> 16) % (uint64_t)*validity) -
                            (retired ? 730 * DAY : 0);
  return not_after - (GENERATIONS - 1 - gen) * step;
}

// gen_fill makes row |i|.
static void gen_fill(const gen_ctx *ctx, uint64_t i, gen_row *r) {
  const uint64_t slot = i / GENERATIONS;
  const uint64_t node = slot / PROFILE_COUNT;
  const uint64_t cluster = node / NODES_PER_CLUSTER;
  const uint64_t h = mix(slot), hr = mix(i ^ UINT64_C(0x5ca1e));
  r->profile = &kProfiles[slot % PROFILE_COUNT];
  const int self_signed = h % 10 == 0;
  int64_t validity;
  r->not_after = gen_validity(ctx, i, &validity);
  r->not_before = r->not_after - validity;
  gen_serial(i, r->serial);
  snprintf(r->cluster, sizeof(r->cluster), "cl%05" PRIu64, cluster);
  snprintf(r->cn, sizeof(r->cn), "%s.%s.example.net",
           kNodes[node % NODES_PER_CLUSTER], r->cluster);
  snprintf(r->subject, sizeof(r->subject),
           "CN=%s,OU=Voice,O=Example Corp,L=RTP,ST=NC,C=US", r->cn);
  snprintf(r->san, sizeof(r->san), "DNS:%s", r->cn);
  snprintf(r->requester, sizeof(r->requester), "token:%" PRIu64 ":%s-ops",
           1 + cluster % 50, r->cluster);
  const int ec = r->profile->ec;
  r->issuer_id = self_signed ? 0 : ec ? ctx->ec_issuer : ctx->rsa_issuer;
  r->key_bits = ec ? ((h >> 40) % 10 == 0 ? 384 : 256)
                   : ((h >> 40) % 10 == 0 ? 3072 : 2048);
  r->revoked_at = 0;
  r->reason = 0;
  if (hr % 100 == 0) {
    const int64_t at = r->not_before + 10 * DAY + (int64_t)(hr >> 32) % DAY;
    r->revoked_at = at < ctx->now ? at : ctx->now;
    r->reason = (hr >> 8) % 4 == 0 ? 1 : 4;  // keyCompromise, superseded
  }
  const int k = (int)((hr >> 16) % SAMPLE_CERTS);
  r->der = ctx->der[ec][k];
  r->der_len = ctx->der_len[ec][k];
}

// --- Binary COPY ---

#define COPY_COLUMNS 16
#define REVOKED_COLUMNS 4
#define PG_EPOCH_OFFSET INT64_C(946684800)
#define TEXT_OID 25

static const char kCopySql[] =
    "COPY certificates (issuer_id, serial, profile, subject, common_name,"
    " sans, key_type, key_bits, not_before, not_after, der,"
    " requester, created_at, key_generated,"
    " self_signed, cluster) FROM STDIN (FORMAT binary)";

// A revoked row's revocation (migration 0018): copied with its transaction's
// certificates into a table of the session, then inserted into revocations
// with the certificates' ids. Self-signed rows are never revoked (no CA
// publishes their revocation).
static const char kRevokedTableSql[] =
    "CREATE TEMP TABLE IF NOT EXISTS scale_revoked (issuer_id bigint,"
    " serial text, revoked_at timestamptz, reason smallint)"
    " ON COMMIT DELETE ROWS";
static const char kRevokedCopySql[] =
    "COPY scale_revoked (issuer_id, serial, revoked_at, reason)"
    " FROM STDIN (FORMAT binary)";
static const char kRevokedInsertSql[] =
    "INSERT INTO revocations (issuer_id, serial, certificate_id, crl_shard,"
    " not_after, revoked_at, reason) SELECT c.issuer_id, c.serial, c.id,"
    " c.crl_shard, c.not_after, s.revoked_at, s.reason FROM scale_revoked s"
    " JOIN certificates c ON c.issuer_id = s.issuer_id AND c.serial = s.serial";

static int add_text(CBB *cbb, const char *s) {
  const size_t n = strlen(s);
  return CBB_add_u32(cbb, (uint32_t)n) &&
         CBB_add_bytes(cbb, (const uint8_t *)s, n);
}

static int add_ts(CBB *cbb, int64_t unix_s) {
  return CBB_add_u32(cbb, 8) &&
         CBB_add_u64(cbb, (uint64_t)((unix_s - PG_EPOCH_OFFSET) * 1000000));
}

static int add_null(CBB *cbb) {
  return CBB_add_u32(cbb, 0xffffffff);
}

static int add_bool(CBB *cbb, int v) {
  return CBB_add_u32(cbb, 1) && CBB_add_u8(cbb, v ? 1 : 0);
}

// add_revoked writes |r|'s revocation in the binary format of
// kRevokedCopySql's columns, when it has one.
static int add_revoked(CBB *cbb, const gen_row *r) {
  if (r->revoked_at == 0 || r->issuer_id == 0) {
    return 1;
  }
  return CBB_add_u16(cbb, REVOKED_COLUMNS) && CBB_add_u32(cbb, 8) &&
         CBB_add_u64(cbb, (uint64_t)r->issuer_id) && add_text(cbb, r->serial) &&
         add_ts(cbb, r->revoked_at) && CBB_add_u32(cbb, 2) &&
         CBB_add_u16(cbb, (uint16_t)r->reason);
}

// add_row writes |r| in the binary format of kCopySql's columns.
static int add_row(CBB *cbb, const gen_row *r) {
  const size_t san_len = strlen(r->san);
  return CBB_add_u16(cbb, COPY_COLUMNS) &&
         (r->issuer_id == 0 ? add_null(cbb)
                            : CBB_add_u32(cbb, 8) &&
                                  CBB_add_u64(cbb, (uint64_t)r->issuer_id)) &&
         add_text(cbb, r->serial) && add_text(cbb, r->profile->name) &&
         add_text(cbb, r->subject) && add_text(cbb, r->cn) &&
         // text[] of one element: dimensions, no NULLs, element type, size,
         // lower bound, then the element.
         CBB_add_u32(cbb, (uint32_t)(24 + san_len)) && CBB_add_u32(cbb, 1) &&
         CBB_add_u32(cbb, 0) && CBB_add_u32(cbb, TEXT_OID) &&
         CBB_add_u32(cbb, 1) && CBB_add_u32(cbb, 1) && add_text(cbb, r->san) &&
         add_text(cbb, r->profile->ec ? "EC" : "RSA") && CBB_add_u32(cbb, 4) &&
         CBB_add_u32(cbb, r->key_bits) && add_ts(cbb, r->not_before) &&
         add_ts(cbb, r->not_after) && CBB_add_u32(cbb, (uint32_t)r->der_len) &&
         CBB_add_bytes(cbb, r->der, r->der_len) &&
         add_text(cbb, r->requester) && add_ts(cbb, r->not_before) &&
         add_bool(cbb, 0) && add_bool(cbb, r->issuer_id == 0) &&
         add_text(cbb, r->cluster);
}

static PGconn *connect_db(const char *url) {
  PGconn *conn = PQconnectdb(url);
  if (conn == NULL || PQstatus(conn) != CONNECTION_OK) {
    fprintf(stderr, "bench: %s\n",
            conn != NULL ? PQerrorMessage(conn) : "no memory");
    exit(1);
  }
  return conn;
}

static void exec_ok(PGconn *conn, const char *sql) {
  PGresult *res = PQexec(conn, sql);
  const ExecStatusType st = PQresultStatus(res);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    fprintf(stderr, "bench: %s: %s", sql, PQerrorMessage(conn));
    exit(1);
  }
  PQclear(res);
}

#define COPY_TX_ROWS 100000
#define COPY_CHUNK (1 << 20)

// The rows are copied in the order of their notBefore, as a service
// records them (a certificate's row is written when it is issued), so that
// the table's physical order follows time as it does in service.
typedef struct load_order {
  int64_t not_before;
  uint64_t i;
} load_order;

static int compare_order(const void *a, const void *b) {
  const load_order *x = a, *y = b;
  if (x->not_before != y->not_before) {
    return x->not_before < y->not_before ? -1 : 1;
  }
  return x->i < y->i ? -1 : x->i > y->i;
}

static load_order *order_rows(const gen_ctx *ctx, uint64_t rows) {
  load_order *order = malloc(rows * sizeof(*order));
  if (order == NULL) {
    die("out of memory");
  }
  for (uint64_t i = 0; i < rows; i++) {
    int64_t validity;
    order[i].not_before = gen_validity(ctx, i, &validity) - validity;
    order[i].i = i;
  }
  qsort(order, rows, sizeof(*order), compare_order);
  return order;
}

static const uint8_t kSignature[11] = {'P',  'G',  'C',  'O',  'P', 'Y',
                                       '\n', 0xff, '\r', '\n', 0};

// copy_all sends |cbb| (a whole binary COPY: header, rows, trailer) with
// |sql|, and frees it.
static void copy_all(PGconn *conn, const char *sql, CBB *cbb) {
  PGresult *res = PQexec(conn, sql);
  if (PQresultStatus(res) != PGRES_COPY_IN) {
    fprintf(stderr, "bench: COPY: %s", PQerrorMessage(conn));
    exit(1);
  }
  PQclear(res);
  if (!CBB_add_u16(cbb, 0xffff) ||
      PQputCopyData(conn, (const char *)CBB_data(cbb), (int)CBB_len(cbb)) !=
          1 ||
      PQputCopyEnd(conn, NULL) != 1) {
    fprintf(stderr, "bench: COPY: %s", PQerrorMessage(conn));
    exit(1);
  }
  CBB_cleanup(cbb);
  res = PQgetResult(conn);
  if (PQresultStatus(res) != PGRES_COMMAND_OK) {
    fprintf(stderr, "bench: COPY: %s", PQerrorMessage(conn));
    exit(1);
  }
  PQclear(res);
  while ((res = PQgetResult(conn)) != NULL) {
    PQclear(res);
  }
}

// copy_range copies the rows of order[first, end) in transactions of
// COPY_TX_ROWS, and the revocations of the revoked ones.
static void copy_range(PGconn *conn, const gen_ctx *ctx,
                       const load_order *order, uint64_t first, uint64_t end,
                       atomic_uint_fast64_t *done) {
  CBB cbb, revoked;
  exec_ok(conn, kRevokedTableSql);
  for (uint64_t tx = first; tx < end; tx += COPY_TX_ROWS) {
    const uint64_t tx_end = tx + COPY_TX_ROWS < end ? tx + COPY_TX_ROWS : end;
    exec_ok(conn, "BEGIN");
    PGresult *res = PQexec(conn, kCopySql);
    if (PQresultStatus(res) != PGRES_COPY_IN) {
      fprintf(stderr, "bench: COPY: %s", PQerrorMessage(conn));
      exit(1);
    }
    PQclear(res);
    if (!CBB_init(&cbb, COPY_CHUNK + 8192) ||
        !CBB_add_bytes(&cbb, kSignature, sizeof(kSignature)) ||
        !CBB_add_u32(&cbb, 0) || !CBB_add_u32(&cbb, 0) ||
        !CBB_init(&revoked, 4096) ||
        !CBB_add_bytes(&revoked, kSignature, sizeof(kSignature)) ||
        !CBB_add_u32(&revoked, 0) || !CBB_add_u32(&revoked, 0)) {
      die("out of memory");
    }
    for (uint64_t i = tx; i < tx_end; i++) {
      gen_row r;
      gen_fill(ctx, order[i].i, &r);
      if (!add_row(&cbb, &r) || !add_revoked(&revoked, &r)) {
        die("out of memory");
      }
      if (CBB_len(&cbb) >= COPY_CHUNK || i + 1 == tx_end) {
        if (i + 1 == tx_end && !CBB_add_u16(&cbb, 0xffff)) {
          die("out of memory");
        }
        if (PQputCopyData(conn, (const char *)CBB_data(&cbb),
                          (int)CBB_len(&cbb)) != 1) {
          fprintf(stderr, "bench: COPY: %s", PQerrorMessage(conn));
          exit(1);
        }
        CBB_cleanup(&cbb);
        if (!CBB_init(&cbb, COPY_CHUNK + 8192)) {
          die("out of memory");
        }
      }
    }
    CBB_cleanup(&cbb);
    if (PQputCopyEnd(conn, NULL) != 1) {
      die("COPY end");
    }
    res = PQgetResult(conn);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
      fprintf(stderr, "bench: COPY: %s", PQerrorMessage(conn));
      exit(1);
    }
    PQclear(res);
    while ((res = PQgetResult(conn)) != NULL) {
      PQclear(res);
    }
    copy_all(conn, kRevokedCopySql, &revoked);
    exec_ok(conn, kRevokedInsertSql);
    exec_ok(conn, "COMMIT");
    atomic_fetch_add(done, tx_end - tx);
  }
}

typedef struct load_arg {
  const char *url;
  const gen_ctx *ctx;
  const load_order *order;
  uint64_t first, end;
  atomic_uint_fast64_t *done;
} load_arg;

static void *load_thread(void *varg) {
  load_arg *a = varg;
  PGconn *conn = connect_db(a->url);
  copy_range(conn, a->ctx, a->order, a->first, a->end, a->done);
  PQfinish(conn);
  return NULL;
}

static long long query_ll(PGconn *conn, const char *sql) {
  PGresult *res = PQexec(conn, sql);
  if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
    fprintf(stderr, "bench: %s: %s", sql, PQerrorMessage(conn));
    exit(1);
  }
  const long long v = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
  PQclear(res);
  return v;
}

// load copies |rows| rows into |url| on |conns| connections, then runs
// ANALYZE; it prints the load line when |print|.
static void load(const char *url, const gen_ctx *ctx, uint64_t rows, int conns,
                 int print) {
  atomic_uint_fast64_t done = 0;
  pthread_t threads[16];
  load_arg args[16];
  load_order *order = order_rows(ctx, rows);
  const double t0 = now_s();
  for (int k = 0; k < conns; k++) {
    // Each connection copies whole transactions' worth of consecutive rows.
    const uint64_t per =
        (rows / (uint64_t)conns / COPY_TX_ROWS + 1) * COPY_TX_ROWS;
    const uint64_t first = per * (uint64_t)k;
    args[k] = (load_arg){url,
                         ctx,
                         order,
                         first < rows ? first : rows,
                         first + per < rows ? first + per : rows,
                         &done};
    if (pthread_create(&threads[k], NULL, load_thread, &args[k]) != 0) {
      die("pthread_create");
    }
  }
  double last = t0;
  for (;;) {
    const uint64_t d = atomic_load(&done);
    if (d >= rows) {
      break;
    }
    usleep(200 * 1000);
    if (print && now_s() - last >= 30) {
      last = now_s();
      fprintf(stderr, "bench: loaded %" PRIu64 " of %" PRIu64 " rows, %.0f/s\n",
              d, rows, (double)d / (last - t0));
    }
  }
  for (int k = 0; k < conns; k++) {
    pthread_join(threads[k], NULL);
  }
  free(order);
  const double copied = now_s() - t0;
  PGconn *conn = connect_db(url);
  exec_ok(conn, "ANALYZE");
  const double analyzed = now_s() - t0;
  const long long table =
      query_ll(conn, "SELECT pg_table_size('certificates')");
  const long long indexes =
      query_ll(conn, "SELECT pg_indexes_size('certificates')");
  const long long total = query_ll(conn, "SELECT count(*) FROM certificates");
  PQfinish(conn);
  if (print) {
    printf("{\"bench\":\"scale\",\"case\":\"load\",\"rows\":%" PRIu64
           ",\"connections\":%d,\"rows_per_commit\":%d,\"seconds\":%.1f,"
           "\"rows_per_s\":%.0f,\"analyze_s\":%.1f,\"table_rows\":%lld,"
           "\"table_mb\":%lld,\"indexes_mb\":%lld}\n",
           rows, conns, COPY_TX_ROWS, copied, (double)rows / copied,
           analyzed - copied, total, table >> 20, indexes >> 20);
    fflush(stdout);
  }
}

// --- pkid and what the generator takes from it ---

typedef struct node {
  const char *name;  // "loaded", "small"
  int reused;        // a kept load (--loaded-dir): never removed
  it_db db;
  it_pkid pkid;
  gen_ctx ctx;
  uint8_t *rsa_ca_der;  // the RSA issuing CA's certificate
  size_t rsa_ca_len;
} node;

// migrate_loaded brings a kept load to this build's schema before pkid
// starts on it, as pkid's own first start would: the migrations that build
// indexes on its table (CREATE INDEX CONCURRENTLY) take minutes at ten
// million rows, longer than the harness waits for pkid. Timed.
static void migrate_loaded(const options *opts) {
  ca_store *store = NULL;
  const double t0 = now_s();
  if (!ca_store_open(opts->loaded_url, 1, &store) || !ca_store_migrate(store)) {
    fprintf(stderr, "bench: migrating the kept load: %s\n",
            ca_err_get()->message);
    ca_store_free(store);
    exit(1);
  }
  ca_store_free(store);
  printf("{\"bench\":\"scale\",\"case\":\"migrate\",\"rows\":%" PRIu64
         ",\"seconds\":%.1f}\n",
         opts->rows, now_s() - t0);
  fflush(stdout);
}

static void start_node(const options *opts, const char *name, int reuse,
                       node *n) {
  char dir[256];
  memset(n, 0, sizeof(*n));
  n->name = name;
  n->reused = reuse;
  if (reuse) {
    // A load kept by an earlier run (--load-only): its database and the
    // data directory holding its CA keys.
    snprintf(n->db.url, sizeof(n->db.url), "%s", opts->loaded_url);
    snprintf(n->db.maintenance, sizeof(n->db.maintenance), "%s",
             opts->database);
    snprintf(dir, sizeof(dir), "%s", opts->loaded_dir);
    migrate_loaded(opts);
  } else {
    it_db_create_on(opts->database, &n->db);
    char base[64];
    snprintf(base, sizeof(base), "pki-scale-%ld-%s", (long)getpid(), name);
    it_tmpdir(base, dir, sizeof(dir));
  }
  // No statistics job: its scan of the table would share the machine
  // with the slices measured; the metrics measurement refreshes it.
  const char *extra[] = {"--workers", "2",   "--keypool",        "none",
                         "--monitor", "off", "--stats-interval", "0",
                         NULL};
  if (!it_pkid_start(&n->pkid, &n->db, dir, extra)) {
    it_db_drop(&n->db);
    die("pkid did not start");
  }
}

static void stop_node(const options *opts, node *n) {
  (void)it_pkid_stop(&n->pkid);
  // A kept load outlives the runs that measure it (it took long to make);
  // --keep keeps the small node too.
  if (!opts->keep && !n->reused) {
    char command[700];
    it_db_drop(&n->db);
    snprintf(command, sizeof(command), "rm -rf '%s' '%s'.*", n->pkid.data_dir,
             n->pkid.data_dir);
    (void)it_run(command);
  } else {
    fprintf(stderr,
            "bench: kept the %s node: --loaded-dir %s --loaded-database %s\n",
            n->name, n->pkid.data_dir, n->db.url);
  }
  for (int ec = 0; ec < 2; ec++) {
    for (int k = 0; k < SAMPLE_CERTS; k++) {
      OPENSSL_free(n->ctx.der[ec][k]);
    }
  }
  OPENSSL_free(n->rsa_ca_der);
}

// issue_batch sends one batchIssue of |n| CSRs of |profile|; it returns
// the number issued, or -1.
static long issue_batch(pki_client *client, const char *profile, uint8_t **csrs,
                        size_t *lens, size_t n) {
  Pki__V1__IssueRequest *items = calloc(n, sizeof(*items));
  Pki__V1__IssueRequest **ptrs = calloc(n, sizeof(*ptrs));
  if (items == NULL || ptrs == NULL) {
    die("out of memory");
  }
  for (size_t i = 0; i < n; i++) {
    pki__v1__issue_request__init(&items[i]);
    items[i].csr.data = csrs[i];
    items[i].csr.len = lens[i];
    ptrs[i] = &items[i];
  }
  Pki__V1__BatchIssueRequest req = PKI__V1__BATCH_ISSUE_REQUEST__INIT;
  req.profile = (char *)profile;
  req.n_items = n;
  req.items = ptrs;
  const size_t len = pki__v1__batch_issue_request__get_packed_size(&req);
  uint8_t *body = malloc(len + 1);
  if (body == NULL) {
    die("out of memory");
  }
  pki__v1__batch_issue_request__pack(&req, body);
  free(items);
  free(ptrs);
  long issued = -1;
  for (;;) {
    pki_reply reply;
    if (!pki_client_call(client, "POST", "/v1/certificates:batchIssue",
                         "application/x-protobuf", body, len, &reply)) {
      break;
    }
    if (reply.status == 503) {  // a full queue: back off briefly
      pki_reply_cleanup(&reply);
      usleep(1000);
      continue;
    }
    Pki__V1__BatchIssueResponse *resp =
        reply.status == 200 ? pki__v1__batch_issue_response__unpack(
                                  NULL, reply.body_len, reply.body)
                            : NULL;
    issued = resp != NULL ? (long)resp->issued : -1;
    pki__v1__batch_issue_response__free_unpacked(resp, NULL);
    pki_reply_cleanup(&reply);
    break;
  }
  free(body);
  return issued;
}

// fetch_bytea reads the bytea of |sql|'s row |row| (OPENSSL_free it).
static uint8_t *fetch_bytea(PGresult *res, int row, int col, size_t *len) {
  size_t n;
  unsigned char *raw =
      PQunescapeBytea((const unsigned char *)PQgetvalue(res, row, col), &n);
  if (raw == NULL) {
    die("bytea");
  }
  uint8_t *out = OPENSSL_memdup(raw, n);
  PQfreemem(raw);
  if (out == NULL) {
    die("out of memory");
  }
  *len = n;
  return out;
}

// prepare_node issues SAMPLE_CERTS certificates of each key type through
// |n|'s pkid (unless |reuse|: a kept load has them already, as its first
// rows) and reads them, the issuing CAs' ids and the RSA issuing CA's
// certificate from its database: what gen_fill needs.
static void prepare_node(node *n, int reuse) {
  pki_client *client = it_client(&n->pkid);
  static const struct {
    const char *key, *profile;
  } kKinds[2] = {{"RSA-2048", "tomcat"}, {"EC-P256", "tomcat-ECDSA"}};
  for (int ec = 0; ec < 2 && !reuse; ec++) {
    uint8_t *csrs[SAMPLE_CERTS];
    size_t lens[SAMPLE_CERTS];
    for (int k = 0; k < SAMPLE_CERTS; k++) {
      char subject[96];
      snprintf(subject, sizeof(subject),
               "/CN=cucm-sub0%d.cl00000.example.net/O=Example Corp", k + 1);
      test_csr_spec spec = {.key = kKinds[ec].key, .subject = subject};
      csrs[k] = test_make_csr(&spec, &lens[k], NULL);
      if (csrs[k] == NULL) {
        die("CSR");
      }
    }
    if (issue_batch(client, kKinds[ec].profile, csrs, lens, SAMPLE_CERTS) !=
        SAMPLE_CERTS) {
      die("sample issuance failed");
    }
    for (int k = 0; k < SAMPLE_CERTS; k++) {
      OPENSSL_free(csrs[k]);
    }
  }
  pki_client_free(client);
  PGconn *conn = connect_db(n->db.url);
  PGresult *res = PQexec(conn,
                         "SELECT key_type = 'EC', der FROM certificates"
                         " ORDER BY id LIMIT 8");
  if (PQresultStatus(res) != PGRES_TUPLES_OK ||
      PQntuples(res) != 2 * SAMPLE_CERTS) {
    die("reading the sample certificates");
  }
  int seen[2] = {0, 0};
  for (int i = 0; i < PQntuples(res); i++) {
    const int ec = PQgetvalue(res, i, 0)[0] == 't';
    n->ctx.der[ec][seen[ec]] =
        fetch_bytea(res, i, 1, &n->ctx.der_len[ec][seen[ec]]);
    seen[ec]++;
  }
  PQclear(res);
  res = PQexec(conn,
               "SELECT id, algorithm, der FROM issuers WHERE role = 'issuing'");
  if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 2) {
    die("reading the issuing CAs");
  }
  for (int i = 0; i < 2; i++) {
    const int64_t id = strtoll(PQgetvalue(res, i, 0), NULL, 10);
    if (strncmp(PQgetvalue(res, i, 1), "RSA", 3) == 0) {
      n->ctx.rsa_issuer = id;
      n->rsa_ca_der = fetch_bytea(res, i, 2, &n->rsa_ca_len);
    } else {
      n->ctx.ec_issuer = id;
    }
  }
  PQclear(res);
  PQfinish(conn);
  if (n->ctx.rsa_issuer == 0 || n->ctx.ec_issuer == 0) {
    die("no RSA or no EC issuing CA");
  }
}

// --- Issuance, interleaved ---

#define ISSUE_BATCH 100
#define ISSUE_CONNECTIONS 3
#define CSR_POOL 32

typedef struct issue_arg {
  const it_pkid *pkid;
  uint8_t **csrs;
  size_t *lens;
  double end;
  uint64_t done;
  int failed;
} issue_arg;

static void *issue_thread(void *varg) {
  issue_arg *a = varg;
  pki_client *client = it_client(a->pkid);
  size_t first = 0;
  while (now_s() < a->end) {
    uint8_t *csrs[ISSUE_BATCH];
    size_t lens[ISSUE_BATCH];
    for (size_t i = 0; i < ISSUE_BATCH; i++) {
      csrs[i] = a->csrs[(first + i) % CSR_POOL];
      lens[i] = a->lens[(first + i) % CSR_POOL];
    }
    first += 7;
    const long got =
        issue_batch(client, "tomcat-ECDSA", csrs, lens, ISSUE_BATCH);
    if (got != ISSUE_BATCH) {
      a->failed = 1;
      break;
    }
    a->done += ISSUE_BATCH;
  }
  pki_client_free(client);
  return NULL;
}

// issue_slice issues on |pkid| for |seconds| and returns certificates.
static uint64_t issue_slice(const it_pkid *pkid, uint8_t **csrs, size_t *lens,
                            double seconds) {
  pthread_t threads[ISSUE_CONNECTIONS];
  issue_arg args[ISSUE_CONNECTIONS];
  const double end = now_s() + seconds;
  for (int k = 0; k < ISSUE_CONNECTIONS; k++) {
    args[k] = (issue_arg){pkid, csrs, lens, end, 0, 0};
    if (pthread_create(&threads[k], NULL, issue_thread, &args[k]) != 0) {
      die("pthread_create");
    }
  }
  uint64_t total = 0;
  for (int k = 0; k < ISSUE_CONNECTIONS; k++) {
    pthread_join(threads[k], NULL);
    if (args[k].failed) {
      die("issuance failed");
    }
    total += args[k].done;
  }
  return total;
}

static void measure_issue(const options *opts, node *loaded, node *small) {
  uint8_t *csrs[CSR_POOL];
  size_t lens[CSR_POOL];
  for (int i = 0; i < CSR_POOL; i++) {
    char subject[96];
    snprintf(subject, sizeof(subject),
             "/CN=cucm-sub%02d.cl99999.example.net/O=Example Corp", i);
    test_csr_spec spec = {.key = "EC-P256", .subject = subject};
    csrs[i] = test_make_csr(&spec, &lens[i], NULL);
    if (csrs[i] == NULL) {
      die("CSR");
    }
  }
  // A warm-up slice on each, then alternate slices of one second.
  issue_slice(&loaded->pkid, csrs, lens, 0.5);
  issue_slice(&small->pkid, csrs, lens, 0.5);
  const int slices = opts->seconds < 1 ? 1 : (int)opts->seconds;
  const double slice = opts->seconds / slices;
  uint64_t got[2] = {0, 0};
  for (int s = 0; s < slices; s++) {
    got[0] += issue_slice(&loaded->pkid, csrs, lens, slice);
    got[1] += issue_slice(&small->pkid, csrs, lens, slice);
  }
  const double loaded_rate = (double)got[0] / opts->seconds;
  const double small_rate = (double)got[1] / opts->seconds;
  printf("{\"bench\":\"scale\",\"case\":\"issue\",\"rows\":%" PRIu64
         ",\"csr_key\":\"EC-P256\",\"profile\":\"tomcat-ECDSA\",\"batch\":%d,"
         "\"connections\":%d,\"workers\":2,\"seconds\":%.1f,"
         "\"loaded_certs_per_s\":%.1f,\"small_certs_per_s\":%.1f,"
         "\"ratio\":%.3f}\n",
         opts->rows, ISSUE_BATCH, ISSUE_CONNECTIONS, opts->seconds, loaded_rate,
         small_rate, small_rate > 0 ? loaded_rate / small_rate : 0);
  fflush(stdout);
  for (int i = 0; i < CSR_POOL; i++) {
    OPENSSL_free(csrs[i]);
  }
}

// --- Find ---

typedef struct find_case {
  const char *name;
  const char *query;  // {C} stands for a cluster name
} find_case;

// Clusters come from the generator: cluster c holds rows c*360 to
// c*360+359. Expiry windows are days from now.
static const find_case kFindCases[] = {
    {"cn-one-node", "cn=cucm-sub03.cl{C}"},
    {"cn-one-cluster", "cn=cl{C}.example"},
    {"cn-one-cluster-profile", "cn=cl{C}&profile=tomcat"},
    {"cn-many", "cn=cucm-pub"},
    {"cn-many-profile-window",
     "cn=imp-&profile=tomcat-ECDSA&expires_after=+30&expires_before=+60"},
    {"profile-window",
     "profile=CallManager&expires_after=+0&expires_before=+7"},
    {"window-7d", "expires_after=+0&expires_before=+7"},
    {"cluster", "cluster=cl{C}"},
    {"revoked", "status=revoked"},
    {"issuer-keybits", "issuer=rsa-issuing&key_bits=3072"},
    {"first-page", ""},
};
#define FIND_CASE_COUNT (sizeof(kFindCases) / sizeof(kFindCases[0]))

// find_path expands |c| into |out|: the name of cluster |cluster| for
// {C}, dates for "+D" (days from now, as Unix seconds).
static void find_path(const find_case *c, unsigned cluster, int64_t now,
                      char *out, size_t out_len) {
  char expanded[320];
  const char *query = c->query;
  size_t o = 0;
  for (const char *p = query; *p != '\0' && o + 24 < sizeof(expanded); p++) {
    if (strncmp(p, "{C}", 3) == 0) {
      o +=
          (size_t)snprintf(expanded + o, sizeof(expanded) - o, "%05u", cluster);
      p += 2;
    } else if (*p == '+' && p > query && p[-1] == '=') {
      const long days = strtol(p + 1, (char **)&p, 10);
      p--;
      o += (size_t)snprintf(expanded + o, sizeof(expanded) - o, "%" PRId64,
                            now + days * DAY);
    } else {
      expanded[o++] = *p;
    }
  }
  expanded[o] = '\0';
  snprintf(out, out_len, "/v1/certificates?limit=100%s%s",
           expanded[0] != '\0' ? "&" : "", expanded);
}

static void measure_find(const options *opts, node *n) {
  pki_client *client = it_client(&n->pkid);
  const uint64_t clusters =
      opts->rows / (GENERATIONS * PROFILE_COUNT * NODES_PER_CLUSTER) + 1;
  const int64_t now = (int64_t)time(NULL);
  for (size_t c = 0; c < FIND_CASE_COUNT; c++) {
    samples lat = {0};
    uint64_t found = 0, empty = 0;
    char example[400] = "";
    for (int r = 0; r < opts->find_requests; r++) {
      char path[400];
      const unsigned cluster = (unsigned)(mix((uint64_t)r * 31 + c) % clusters);
      find_path(&kFindCases[c], cluster, now, path, sizeof(path));
      if (r == 0) {
        snprintf(example, sizeof(example), "%s", path);
      }
      pki_reply reply;
      const double t = now_s();
      if (!pki_client_call(client, "GET", path, NULL, NULL, 0, &reply)) {
        die("find failed");
      }
      sample_add(&lat, (now_s() - t) * 1000);
      Pki__V1__ListCertificatesResponse *resp =
          reply.status == 200 ? pki__v1__list_certificates_response__unpack(
                                    NULL, reply.body_len, reply.body)
                              : NULL;
      if (resp == NULL) {
        char why[256];
        pki_reply_error_text(&reply, why, sizeof(why));
        fprintf(stderr, "bench: GET %s: HTTP %ld %s\n", path, reply.status,
                why);
        exit(1);
      }
      found += resp->n_certificates;
      empty += resp->n_certificates == 0;
      pki__v1__list_certificates_response__free_unpacked(resp, NULL);
      pki_reply_cleanup(&reply);
    }
    const double p50 = percentile(&lat, 0.50), p99 = percentile(&lat, 0.99);
    printf(
        "{\"bench\":\"scale\",\"case\":\"find\",\"find\":\"%s\","
        "\"rows\":%" PRIu64
        ",\"example\":\"%s\",\"requests\":%d,"
        "\"mean_found\":%.1f,\"empty_pages\":%" PRIu64
        ","
        "\"p50_ms\":%.2f,\"p99_ms\":%.2f,\"max_ms\":%.2f}\n",
        kFindCases[c].name, opts->rows, example, opts->find_requests,
        (double)found / opts->find_requests, empty, p50, p99,
        percentile(&lat, 1.0));
    fflush(stdout);
    free(lat.ms);
  }
  pki_client_free(client);
}

// --- OCSP ---

#define OCSP_CONNECTIONS 4

// ocsp_connect opens a keep-alive connection to |pkid|'s OCSP listener.
static int ocsp_connect(const it_pkid *pkid) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET,
                           .sin_port = htons((uint16_t)pkid->ocsp_port)};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const int one = 1;
  if (fd < 0 ||
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0 ||
      connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
    die("cannot reach the OCSP listener");
  }
  return fd;
}

// ocsp_ask sends |q| on |fd| and reads the answer's body into |body|; it
// returns the body's length, or 0 on any error.
static size_t ocsp_ask(int fd, const ocsp_wire_query *q, uint8_t *body,
                       size_t body_cap) {
  char head[160];
  const int hl = snprintf(head, sizeof(head),
                          "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                          "Content-Type: application/ocsp-request\r\n"
                          "Content-Length: %zu\r\n\r\n",
                          q->der_len);
  if (write(fd, head, (size_t)hl) != hl ||
      write(fd, q->der, q->der_len) != (ssize_t)q->der_len) {
    return 0;
  }
  char buf[8192];
  size_t have = 0;
  char *end = NULL;
  while (end == NULL) {
    const ssize_t r = read(fd, buf + have, sizeof(buf) - 1 - have);
    if (r <= 0) {
      return 0;
    }
    have += (size_t)r;
    buf[have] = '\0';
    end = strstr(buf, "\r\n\r\n");
  }
  const char *cl = strcasestr(buf, "\r\nContent-Length:");
  if (strncmp(buf, "HTTP/1.1 200", 12) != 0 || cl == NULL) {
    return 0;
  }
  const size_t len = strtoul(cl + 17, NULL, 10);
  const size_t head_len = (size_t)(end + 4 - buf);
  if (len > body_cap) {
    return 0;
  }
  size_t got = have - head_len < len ? have - head_len : len;
  memcpy(body, end + 4, got);
  while (got < len) {
    const ssize_t r = read(fd, body + got, len - got);
    if (r <= 0) {
      return 0;
    }
    got += (size_t)r;
  }
  return len;
}

typedef struct ocsp_target {
  ocsp_wire_issuer issuer;
  ocsp_wire_query query;
  unsigned want;
} ocsp_target;

typedef struct ocsp_arg {
  const it_pkid *pkid;
  const ocsp_target *target;
  double end;
  uint64_t done;
  int failed;
} ocsp_arg;

static void *ocsp_thread(void *varg) {
  ocsp_arg *a = varg;
  const int fd = ocsp_connect(a->pkid);
  uint8_t body[8192];
  while (now_s() < a->end) {
    const size_t len = ocsp_ask(fd, &a->target->query, body, sizeof(body));
    const char *why = "no answer";
    // Every 64th answer is parsed and checked (status, CertID); all are
    // HTTP 200 with a body.
    if (len == 0 || (a->done % 64 == 0 &&
                     !ocsp_wire_check(&a->target->issuer, &a->target->query,
                                      a->target->want, 0, body, len, &why))) {
      fprintf(stderr, "bench: bad OCSP answer: %s\n", why);
      a->failed = 1;
      break;
    }
    a->done++;
  }
  close(fd);
  return NULL;
}

static uint64_t ocsp_slice(const it_pkid *pkid, const ocsp_target *t,
                           double seconds) {
  pthread_t threads[OCSP_CONNECTIONS];
  ocsp_arg args[OCSP_CONNECTIONS];
  const double end = now_s() + seconds;
  for (int k = 0; k < OCSP_CONNECTIONS; k++) {
    args[k] = (ocsp_arg){pkid, t, end, 0, 0};
    if (pthread_create(&threads[k], NULL, ocsp_thread, &args[k]) != 0) {
      die("pthread_create");
    }
  }
  uint64_t total = 0;
  for (int k = 0; k < OCSP_CONNECTIONS; k++) {
    pthread_join(threads[k], NULL);
    if (args[k].failed) {
      exit(1);
    }
    total += args[k].done;
  }
  return total;
}

// ocsp_target_init makes the query for a revoked serial of |n|'s RSA
// issuing CA (read from its rows), or for a serial never issued.
static void ocsp_target_init(node *n, int revoked, ocsp_target *out) {
  uint8_t serial[16];
  if (!ocsp_wire_issuer_init(&out->issuer, n->rsa_ca_der, n->rsa_ca_len)) {
    die("CA certificate");
  }
  if (revoked) {
    char sql[200];
    snprintf(sql, sizeof(sql),
             "SELECT serial FROM revocations WHERE issuer_id = %" PRId64
             " ORDER BY certificate_id LIMIT 1",
             n->ctx.rsa_issuer);
    PGresult *res = it_db_query(&n->db, sql, NULL, NULL);
    if (res == NULL || PQntuples(res) != 1 ||
        strlen(PQgetvalue(res, 0, 0)) != 32) {
      die("no revoked row");
    }
    for (int k = 0; k < 16; k++) {
      unsigned v;
      sscanf(PQgetvalue(res, 0, 0) + 2 * k, "%2x", &v);
      serial[k] = (uint8_t)v;
    }
    PQclear(res);
  } else {
    RAND_bytes(serial, sizeof(serial));
    serial[0] = (uint8_t)((serial[0] & 0x7f) | 0x10);
  }
  if (!ocsp_wire_query_build(&out->issuer, serial, sizeof(serial), 0,
                             &out->query)) {
    die("OCSP request");
  }
  out->want = revoked ? OCSP_WIRE_REVOKED : OCSP_WIRE_UNKNOWN;
}

// first_answer_ms times the first request for |t| (not cached yet: its
// status is read from PostgreSQL).
static double first_answer_ms(const it_pkid *pkid, const ocsp_target *t) {
  uint8_t body[8192];
  const int fd = ocsp_connect(pkid);
  const double start = now_s();
  const size_t len = ocsp_ask(fd, &t->query, body, sizeof(body));
  const double ms = (now_s() - start) * 1000;
  const char *why = "no answer";
  close(fd);
  if (len == 0 ||
      !ocsp_wire_check(&t->issuer, &t->query, t->want, 1, body, len, &why)) {
    fprintf(stderr, "bench: bad OCSP answer: %s\n", why);
    exit(1);
  }
  return ms;
}

static void measure_ocsp(const options *opts, node *loaded, node *small) {
  for (int revoked = 1; revoked >= 0; revoked--) {
    ocsp_target t[2];
    ocsp_target_init(loaded, revoked, &t[0]);
    ocsp_target_init(small, revoked, &t[1]);
    const double first_loaded = first_answer_ms(&loaded->pkid, &t[0]);
    const double first_small = first_answer_ms(&small->pkid, &t[1]);
    const int slices = opts->seconds < 1 ? 1 : (int)opts->seconds;
    const double slice = opts->seconds / slices;
    uint64_t got[2] = {0, 0};
    for (int s = 0; s < slices; s++) {
      got[0] += ocsp_slice(&loaded->pkid, &t[0], slice);
      got[1] += ocsp_slice(&small->pkid, &t[1], slice);
    }
    const double lr = (double)got[0] / opts->seconds;
    const double sr = (double)got[1] / opts->seconds;
    printf(
        "{\"bench\":\"scale\",\"case\":\"ocsp\",\"status\":\"%s\","
        "\"rows\":%" PRIu64
        ",\"connections\":%d,\"seconds\":%.1f,"
        "\"cached\":true,\"loaded_req_per_s\":%.0f,"
        "\"small_req_per_s\":%.0f,\"ratio\":%.3f,"
        "\"loaded_first_ms\":%.2f,\"small_first_ms\":%.2f}\n",
        revoked ? "revoked" : "unknown", opts->rows, OCSP_CONNECTIONS,
        opts->seconds, lr, sr, sr > 0 ? lr / sr : 0, first_loaded, first_small);
    fflush(stdout);
    for (int k = 0; k < 2; k++) {
      ocsp_wire_issuer_cleanup(&t[k].issuer);
    }
  }
}

// --- The expiry monitor ---

typedef struct receiver {
  int fd;
  unsigned port;
  atomic_uint_fast64_t posts, bytes;
} receiver;

// receiver_thread answers every webhook POST with 204 after reading it.
static void *receiver_thread(void *varg) {
  receiver *r = varg;
  for (;;) {
    const int c = accept(r->fd, NULL, NULL);
    if (c < 0) {
      return NULL;
    }
    char buf[65536];
    size_t have = 0, want = 0;
    ssize_t n;
    char *end = NULL;
    while ((n = read(c, buf + have, sizeof(buf) - 1 - have)) > 0) {
      have += (size_t)n;
      buf[have] = '\0';
      if (end == NULL && (end = strstr(buf, "\r\n\r\n")) != NULL) {
        const char *cl = strcasestr(buf, "\r\nContent-Length:");
        want = (size_t)(end + 4 - buf) +
               (cl != NULL ? strtoul(cl + 17, NULL, 10) : 0);
      }
      if (end != NULL && have >= want) {
        break;
      }
      if (end != NULL && have > sizeof(buf) / 2) {
        // A large body: count it and keep only the headers' worth.
        want -= have;
        atomic_fetch_add(&r->bytes, have);
        have = 0;
        end = buf;  // headers seen
        if (want == 0) {
          break;
        }
      }
    }
    atomic_fetch_add(&r->bytes, have);
    atomic_fetch_add(&r->posts, 1);
    static const char kAnswer[] =
        "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n"
        "Connection: close\r\n\r\n";
    if (write(c, kAnswer, sizeof(kAnswer) - 1) < 0) {
      // The check reports a failed notice; nothing to do here.
    }
    close(c);
  }
}

static void receiver_start(receiver *r) {
  memset(r, 0, sizeof(*r));
  r->fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(sa);
  if (r->fd < 0 || bind(r->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
      listen(r->fd, 16) != 0 ||
      getsockname(r->fd, (struct sockaddr *)&sa, &len) != 0) {
    die("webhook receiver");
  }
  pthread_t t;
  if (pthread_create(&t, NULL, receiver_thread, r) != 0) {
    die("webhook receiver");
  }
  pthread_detach(t);
  r->port = ntohs(sa.sin_port);
}

static void monitor_configure(pki_client *client, unsigned port) {
  char url[64];
  snprintf(url, sizeof(url), "http://127.0.0.1:%u/hook", port);
  Pki__V1__WebhookDestination hook = PKI__V1__WEBHOOK_DESTINATION__INIT;
  hook.url = url;
  hook.allow_private = 1;
  Pki__V1__WebhookDestination *hooks[1] = {&hook};
  Pki__V1__MonitorConfig config = PKI__V1__MONITOR_CONFIG__INIT;
  config.enabled = 1;
  config.start_days = 30;
  config.frequency = "1d";
  config.n_webhook_destinations = 1;
  config.webhook_destinations = hooks;
  const size_t len = pki__v1__monitor_config__get_packed_size(&config);
  uint8_t *body = malloc(len + 1);
  if (body == NULL) {
    die("out of memory");
  }
  pki__v1__monitor_config__pack(&config, body);
  pki_reply reply;
  if (!pki_client_call(client, "PUT", "/v1/monitor", "application/x-protobuf",
                       body, len, &reply) ||
      reply.status != 200) {
    char why[256] = "";
    pki_reply_error_text(&reply, why, sizeof(why));
    fprintf(stderr, "bench: PUT /v1/monitor: %s\n", why);
    exit(1);
  }
  pki_reply_cleanup(&reply);
  free(body);
}

static void measure_metrics(const options *opts, pki_client *client);

static void measure_monitor(const options *opts, node *n) {
  receiver r;
  receiver_start(&r);
  pki_client *client = it_client(&n->pkid);
  monitor_configure(client, r.port);
  for (int round = 1; round <= 2; round++) {
    pki_reply reply;
    const double t = now_s();
    if (!pki_client_call(client, "POST", "/v1/monitor:check",
                         "application/x-protobuf", NULL, 0, &reply) ||
        reply.status != 200) {
      die("monitor check failed");
    }
    const double ms = (now_s() - t) * 1000;
    Pki__V1__MonitorCheckResponse *resp =
        pki__v1__monitor_check_response__unpack(NULL, reply.body_len,
                                                reply.body);
    if (resp == NULL) {
      die("monitor check answer");
    }
    printf(
        "{\"bench\":\"scale\",\"case\":\"monitor-check\",\"round\":%d,"
        "\"rows\":%" PRIu64
        ",\"start_days\":30,\"due\":%u,"
        "\"notified\":%u,\"already_notified\":%u,\"failed\":%u,"
        "\"messages_sent\":%u,\"webhook_kb\":%" PRIu64 ",\"ms\":%.1f}\n",
        round, opts->rows, resp->due, resp->notified, resp->already_notified,
        resp->failed, resp->messages_sent,
        (uint64_t)atomic_load(&r.bytes) >> 10, ms);
    fflush(stdout);
    pki__v1__monitor_check_response__free_unpacked(resp, NULL);
    pki_reply_cleanup(&reply);
  }
  measure_metrics(opts, client);
  pki_client_free(client);
  close(r.fd);
}

// --- metrics: the statistics snapshot ---

// time_gets times |n| GETs of |path| and prints one line for |what|.
static void time_gets(const options *opts, pki_client *client, const char *what,
                      const char *path, int n) {
  samples lat = {0};
  for (int i = 0; i < n; i++) {
    pki_reply reply;
    const double t = now_s();
    if (!pki_client_call(client, "GET", path, NULL, NULL, 0, &reply) ||
        reply.status != 200) {
      die(what);
    }
    sample_add(&lat, (now_s() - t) * 1000);
    pki_reply_cleanup(&reply);
  }
  printf("{\"bench\":\"scale\",\"case\":\"%s\",\"rows\":%" PRIu64
         ",\"requests\":%d,\"p50_ms\":%.1f,\"max_ms\":%.1f}\n",
         what, opts->rows, n, percentile(&lat, 0.5), percentile(&lat, 1.0));
  fflush(stdout);
  free(lat.ms);
}

// measure_metrics computes the statistics snapshot once (what the
// background job of --stats-interval does: the expiry counts and the counts
// by CA, profile and status), then times GET /metrics and GET /v1/stats,
// which read the snapshot and never the certificates.
static void measure_metrics(const options *opts, pki_client *client) {
  pki_reply reply;
  const double t = now_s();
  if (!pki_client_call(client, "POST", "/v1/stats:refresh", NULL, NULL, 0,
                       &reply) ||
      reply.status != 200) {
    die("stats refresh");
  }
  const double ms = (now_s() - t) * 1000;
  Pki__V1__StatsResponse *s =
      pki__v1__stats_response__unpack(NULL, reply.body_len, reply.body);
  if (s == NULL) {
    die("stats answer");
  }
  uint64_t certificates = 0;
  for (size_t i = 0; i < s->n_counts; i++) {
    certificates +=
        strcmp(s->counts[i]->kind, "issued") == 0 ? s->counts[i]->count : 0;
  }
  printf("{\"bench\":\"scale\",\"case\":\"stats-refresh\",\"rows\":%" PRIu64
         ",\"counted\":%" PRIu64 ",\"groups\":%zu,\"expiring_30d\":%" PRIu64
         ",\"duration_ms\":%" PRId64 ",\"ms\":%.1f}\n",
         opts->rows, certificates, s->n_counts, s->expiring_within_30d,
         s->duration_ms, ms);
  fflush(stdout);
  pki__v1__stats_response__free_unpacked(s, NULL);
  pki_reply_cleanup(&reply);
  time_gets(opts, client, "metrics", "/metrics", 5);
  time_gets(opts, client, "stats", "/v1/stats", 5);
}

// --- main ---

static void usage(void) {
  fprintf(stderr,
          "usage: bazel run -c opt //bench:scale -- [--rows N (10000000)]\n"
          "       [--seconds S (10)] [--find-requests K (200)]\n"
          "       [--load-connections C (2)] [--database URL] [--keep]\n"
          "       [--load-only] [--loaded-dir DIR --loaded-database URL]\n");
}

int main(int argc, char **argv) {
  options opts = {.rows = 10000000,
                  .seconds = 10,
                  .find_requests = 200,
                  .load_connections = 2,
                  .database = getenv("DATABASE_URL")};
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--keep") == 0 || strcmp(argv[i], "--load-only") == 0) {
      opts.keep = 1;
      opts.load_only |= strcmp(argv[i], "--load-only") == 0;
      continue;
    }
    if (i + 1 >= argc) {
      usage();
      return 2;
    }
    if (strcmp(argv[i], "--rows") == 0) {
      opts.rows = strtoull(argv[++i], NULL, 10);
    } else if (strcmp(argv[i], "--seconds") == 0) {
      opts.seconds = atof(argv[++i]);
    } else if (strcmp(argv[i], "--find-requests") == 0) {
      opts.find_requests = atoi(argv[++i]);
    } else if (strcmp(argv[i], "--load-connections") == 0) {
      opts.load_connections = atoi(argv[++i]);
    } else if (strcmp(argv[i], "--database") == 0) {
      opts.database = argv[++i];
    } else if (strcmp(argv[i], "--loaded-dir") == 0) {
      opts.loaded_dir = argv[++i];
    } else if (strcmp(argv[i], "--loaded-database") == 0) {
      opts.loaded_url = argv[++i];
    } else {
      usage();
      return 2;
    }
  }
  if (opts.rows < 1000 || opts.seconds <= 0 || opts.find_requests < 1 ||
      opts.load_connections < 1 || opts.load_connections > 16 ||
      opts.database == NULL || opts.database[0] == '\0') {
    usage();
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  if (!ca_pq_load()) {
    die("cannot load libpq");
  }
  const int reuse = opts.loaded_dir != NULL && opts.loaded_url != NULL;
  node loaded, small;
  start_node(&opts, "loaded", reuse, &loaded);
  prepare_node(&loaded, reuse);
  loaded.ctx.now = (int64_t)time(NULL);
  if (!reuse) {
    load(loaded.db.url, &loaded.ctx, opts.rows, opts.load_connections, 1);
  }
  if (opts.load_only) {
    stop_node(&opts, &loaded);
    return 0;
  }
  start_node(&opts, "small", 0, &small);
  prepare_node(&small, 0);
  small.ctx.now = loaded.ctx.now;
  load(small.db.url, &small.ctx, 1000, 1, 0);
  measure_issue(&opts, &loaded, &small);
  measure_find(&opts, &loaded);
  measure_ocsp(&opts, &loaded, &small);
  measure_monitor(&opts, &loaded);
  stop_node(&opts, &small);
  stop_node(&opts, &loaded);
  return 0;
}
