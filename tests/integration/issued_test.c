// bulk export --issued against a real pkid on its own PostgreSQL database:
// every certificate pki issued or self-signed (every CA, revoked or on hold
// or good) in pages of a bounded size, each page with the CA certificates,
// the cursor walking all of them exactly once even while new certificates
// are issued between pages; the page size checked; one audit row per page;
// and pkictl writing one file per page into an empty directory only.
#include <openssl/bn.h>
#include <openssl/bytestring.h>
#include <openssl/mem.h>
#include <openssl/nid.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "api/client/client.h"
#include "ca/x509/pem.h"
#include "proto/pki.pb-c.h"
#include "tests/integration/harness.h"
#include "tests/support/csr_maker.h"
#include "tests/support/ocsp_client.h"
#include "tests/support/test.h"

static it_db db_a, db_b;
static it_pkid pkid_a, pkid_b;
static pki_client *api_a, *api_b;
static char dir_a[512];

// --- Calls ---

static void error_code(const pki_reply *reply, char *out, size_t len) {
  out[0] = '\0';
  Pki__V1__Error *e =
      pki__v1__error__unpack(NULL, reply->body_len, reply->body);
  if (e != NULL) {
    snprintf(out, len, "%s", e->code);
  }
  pki__v1__error__free_unpacked(e, NULL);
}

static int post(pki_client *client, const char *path,
                const ProtobufCMessage *msg, pki_reply *reply) {
  const size_t len = protobuf_c_message_get_packed_size(msg);
  uint8_t *body = malloc(len + 1);
  protobuf_c_message_pack(msg, body);
  const int ok = pki_client_call(client, "POST", path, "application/x-protobuf",
                                 body, len, reply);
  free(body);
  CHECK(ok);
  return ok;
}

// issue issues |profile| for |cn| with |cluster| and writes the serial.
static void issue(const char *profile, const char *cn, const char *cluster,
                  char serial[64]) {
  const int ec = strstr(profile, "ECDSA") != NULL;
  char subject[160];
  snprintf(subject, sizeof(subject), "/CN=%s/O=Example", cn);
  const test_csr_spec spec = {.key = ec ? "EC-P256" : "RSA-2048",
                              .subject = subject};
  size_t csr_len;
  uint8_t *csr = test_make_csr(&spec, &csr_len, NULL);
  CHECK(csr != NULL);
  Pki__V1__IssueRequest req = PKI__V1__ISSUE_REQUEST__INIT;
  req.profile = (char *)profile;
  req.csr.data = csr;
  req.csr.len = csr_len;
  req.cluster = (char *)cluster;
  pki_reply reply;
  serial[0] = '\0';
  if (post(api_a, "/v1/certificates:issue", &req.base, &reply)) {
    CHECK_EQ_INT(reply.status, 200);
    Pki__V1__IssueResponse *resp =
        reply.status == 200
            ? pki__v1__issue_response__unpack(NULL, reply.body_len, reply.body)
            : NULL;
    if (resp != NULL) {
      snprintf(serial, 64, "%s", resp->certificate->serial);
    }
    pki__v1__issue_response__free_unpacked(resp, NULL);
    pki_reply_cleanup(&reply);
  }
  OPENSSL_free(csr);
}

static void self_signed(const char *cn, char serial[64]) {
  Pki__V1__Subject subject = PKI__V1__SUBJECT__INIT;
  subject.common_name = (char *)cn;
  Pki__V1__SelfSignedRequest req = PKI__V1__SELF_SIGNED_REQUEST__INIT;
  req.profile = "tomcat-ECDSA";
  req.subject = &subject;
  req.key_type = "EC-P256";
  pki_reply reply;
  serial[0] = '\0';
  if (post(api_a, "/v1/self-signed", &req.base, &reply)) {
    CHECK_EQ_INT(reply.status, 200);
    Pki__V1__SelfSignedResponse *resp =
        reply.status == 200 ? pki__v1__self_signed_response__unpack(
                                  NULL, reply.body_len, reply.body)
                            : NULL;
    if (resp != NULL) {
      snprintf(serial, 64, "%s", resp->certificate->serial);
    }
    pki__v1__self_signed_response__free_unpacked(resp, NULL);
    pki_reply_cleanup(&reply);
  }
}

static void revoke(const char *serial, int reason) {
  Pki__V1__RevokeRequest req = PKI__V1__REVOKE_REQUEST__INIT;
  req.reason = reason;
  char path[160];
  snprintf(path, sizeof(path), "/v1/certificates/%s:revoke", serial);
  pki_reply reply;
  if (post(api_a, path, &req.base, &reply)) {
    CHECK_EQ_INT(reply.status, 200);
    pki_reply_cleanup(&reply);
  }
}

// export_page GETs /v1/bulk/export?issued=true&|query|; on 200 it returns
// the decoded page, else NULL with the status and error code.
static Pki__V1__Bundle *export_page(const char *query, long *status, char *code,
                                    size_t code_len) {
  char path[256];
  snprintf(path, sizeof(path), "/v1/bulk/export?issued=true%s%s",
           query[0] ? "&" : "", query);
  pki_reply reply;
  CHECK(pki_client_call(api_a, "GET", path, NULL, NULL, 0, &reply));
  *status = reply.status;
  Pki__V1__Bundle *b = NULL;
  if (reply.status == 200) {
    b = pki__v1__bundle__unpack(NULL, reply.body_len, reply.body);
    CHECK(b != NULL);
  } else if (code != NULL) {
    error_code(&reply, code, code_len);
  }
  pki_reply_cleanup(&reply);
  return b;
}

// --- What A holds ---

#define ISSUED_N 7
static char serials[ISSUED_N][64];

static long long db_count(const char *sql, const char *p) {
  return it_db_int(&db_a, sql, p);
}

// check_entry compares one exported entry with its row in A's database.
static void check_entry(const Pki__V1__BundleEntry *e) {
  PGresult *res = it_db_query(
      &db_a,
      "SELECT coalesce(i.name, ''), c.profile, c.common_name, s.status,"
      " coalesce(extract(epoch FROM s.revoked_at)::bigint, 0),"
      " coalesce(s.revocation_reason, 0), c.requester, c.key_generated,"
      " coalesce(c.cluster, ''), encode(c.der, 'hex')"
      " FROM certificates c LEFT JOIN issuers i ON i.id = c.issuer_id"
      " JOIN certificate_status s ON s.id = c.id"
      " WHERE c.serial = $1",
      e->serial, NULL);
  CHECK(res != NULL && PQntuples(res) == 1);
  if (res == NULL || PQntuples(res) != 1) {
    PQclear(res);
    return;
  }
  CHECK_EQ_STR(e->issuer, PQgetvalue(res, 0, 0));
  CHECK_EQ_STR(e->purpose, PQgetvalue(res, 0, 1));
  CHECK_EQ_STR(e->node, PQgetvalue(res, 0, 2));
  CHECK_EQ_STR(e->status, PQgetvalue(res, 0, 3));
  CHECK_EQ_INT(e->revoked_at, atoll(PQgetvalue(res, 0, 4)));
  CHECK_EQ_INT(e->revocation_reason, atoi(PQgetvalue(res, 0, 5)));
  CHECK_EQ_STR(e->requester, PQgetvalue(res, 0, 6));
  CHECK_EQ_INT(e->key_generated, strcmp(PQgetvalue(res, 0, 7), "t") == 0);
  CHECK_EQ_STR(e->cluster, PQgetvalue(res, 0, 8));
  const char *hex = PQgetvalue(res, 0, 9);
  CHECK_EQ_INT(strlen(hex), 2 * e->certificate.len);
  char byte[3];
  int same = strlen(hex) == 2 * e->certificate.len;
  for (size_t i = 0; same && i < e->certificate.len; i++) {
    snprintf(byte, sizeof(byte), "%02x", e->certificate.data[i]);
    same = memcmp(byte, hex + 2 * i, 2) == 0;
  }
  CHECK(same);
  PQclear(res);
}

// check_cas checks that |b| carries the DER of every CA of A.
static void check_cas(const Pki__V1__Bundle *b) {
  CHECK_EQ_INT(b->n_ca_certificates,
               db_count("SELECT count(*) FROM issuers", NULL));
  for (size_t i = 0; i < b->n_ca_certificates; i++) {
    char hex[8192] = "";
    const ProtobufCBinaryData *d = &b->ca_certificates[i];
    CHECK(2 * d->len < sizeof(hex));
    for (size_t k = 0; k < d->len && 2 * k + 2 < sizeof(hex); k++) {
      snprintf(hex + 2 * k, 3, "%02x", d->data[k]);
    }
    CHECK_EQ_INT(db_count("SELECT count(*) FROM issuers"
                          " WHERE der = decode($1, 'hex')",
                          hex),
                 1);
  }
}

TEST(pages_hold_every_issued_certificate_once_with_its_state) {
  // Both CAs, several profiles, a self-signed identity, a certificate
  // without a cluster, two revocations (one for good, one on hold).
  issue("tomcat", "a1.alpha.example.com", "", serials[0]);
  issue("tomcat-ECDSA", "a2.alpha.example.com", "", serials[1]);
  issue("CallManager", "a3.alpha.example.com", "alpha", serials[2]);
  issue("CAPF", "a4.alpha.example.com", "gamma", serials[3]);
  issue("CallManager-ECDSA", "a5.alpha.example.com", "", serials[4]);
  issue("tomcat", "a6.alpha.example.com", "", serials[5]);
  self_signed("s1.alpha.example.com", serials[6]);
  revoke(serials[0], 1);  // keyCompromise
  revoke(serials[1], 6);  // certificateHold
  const long long total = db_count("SELECT count(*) FROM certificates", NULL);
  CHECK_EQ_INT(total, ISSUED_N);

  // Pages of 3: 3 + 3 + 1, then a certificate issued between the second
  // and the third page comes on the last page (the cursor is the row id).
  char query[96] = "limit=3";
  size_t pages = 0, seen = 0, revoked = 0, held = 0, self = 0;
  int found[ISSUED_N + 1] = {0};
  char late[64] = "";
  for (;;) {
    long status;
    Pki__V1__Bundle *b = export_page(query, &status, NULL, 0);
    CHECK_EQ_INT(status, 200);
    if (b == NULL) {
      break;
    }
    pages++;
    CHECK(b->issued);
    CHECK_EQ_INT(b->version, 1);
    CHECK(b->n_entries <= 3);
    check_cas(b);
    for (size_t i = 0; i < b->n_entries; i++) {
      const Pki__V1__BundleEntry *e = b->entries[i];
      check_entry(e);
      seen++;
      for (size_t k = 0; k < ISSUED_N; k++) {
        found[k] += strcmp(e->serial, serials[k]) == 0;
      }
      found[ISSUED_N] += late[0] != '\0' && strcmp(e->serial, late) == 0;
      revoked += e->revocation_reason == 1;
      held += e->revocation_reason == 6;
      self += e->issuer[0] == '\0';
    }
    if (pages == 2) {
      issue("tomcat", "a7.alpha.example.com", "", late);
    }
    const int last = b->next_after[0] == '\0';
    snprintf(query, sizeof(query), "limit=3&after=%s", b->next_after);
    pki__v1__bundle__free_unpacked(b, NULL);
    if (last || pages > 10) {
      break;
    }
  }
  CHECK_EQ_INT(pages, 3);
  CHECK_EQ_INT(seen, ISSUED_N + 1);
  for (size_t k = 0; k <= ISSUED_N; k++) {
    CHECK_EQ_INT(found[k], 1);
  }
  CHECK_EQ_INT(revoked, 1);
  CHECK_EQ_INT(held, 1);
  CHECK_EQ_INT(self, 1);
  // One audit row per page.
  CHECK_EQ_INT(db_count("SELECT count(*) FROM audit_log WHERE action ="
                        " 'bulk-export' AND object = 'issued'",
                        NULL),
               3);

  // The default page takes them all at once.
  long status;
  Pki__V1__Bundle *all = export_page("", &status, NULL, 0);
  CHECK_EQ_INT(status, 200);
  CHECK(all != NULL && all->n_entries == ISSUED_N + 1 &&
        all->next_after[0] == '\0');
  pki__v1__bundle__free_unpacked(all, NULL);
  // A page past the end is empty and the last.
  Pki__V1__Bundle *end = export_page("after=999999999", &status, NULL, 0);
  CHECK(end != NULL && end->n_entries == 0 && end->next_after[0] == '\0');
  pki__v1__bundle__free_unpacked(end, NULL);
}

TEST(the_page_size_and_cursor_are_checked) {
  static const char *const kBad[] = {"limit=0", "limit=501", "limit=x",
                                     "after=-1", "after=1a"};
  for (size_t i = 0; i < sizeof(kBad) / sizeof(kBad[0]); i++) {
    long status;
    char code[64];
    Pki__V1__Bundle *b = export_page(kBad[i], &status, code, sizeof(code));
    CHECK(b == NULL);
    CHECK_EQ_INT(status, 400);
    CHECK_EQ_STR(code, "PARAMETER_INVALID");
    pki__v1__bundle__free_unpacked(b, NULL);
  }
  // ?issued= is true or false, nothing else.
  pki_reply reply;
  CHECK(pki_client_call(api_a, "GET", "/v1/bulk/export?issued=yes", NULL, NULL,
                        0, &reply));
  CHECK_EQ_INT(reply.status, 400);
  pki_reply_cleanup(&reply);
  long status;
  char code[64];
  Pki__V1__Bundle *b = export_page("format=p7b", &status, code, sizeof(code));
  CHECK(b == NULL);
  CHECK_EQ_STR(code, "FORMAT_UNKNOWN");
  pki__v1__bundle__free_unpacked(b, NULL);
}

TEST(pkictl_writes_one_file_per_page_into_an_empty_directory) {
  char dir[512], cmd[1600], path[700];
  it_tmpdir("issued-export", dir, sizeof(dir));
  snprintf(cmd, sizeof(cmd),
           "api/pkictl %s bulk export --issued --dir %s --page 3", pkid_a.ctl,
           dir);
  CHECK_EQ_INT(it_run(cmd), 0);
  // 8 certificates, 3 per page.
  size_t entries = 0;
  for (int page = 1; page <= 4; page++) {
    snprintf(path, sizeof(path), "%s/issued-%04d.bundle", dir, page);
    FILE *f = fopen(path, "rb");
    CHECK_EQ_INT(f != NULL, page <= 3);
    if (f == NULL) {
      continue;
    }
    static uint8_t buf[1 << 20];
    const size_t len = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    Pki__V1__Bundle *b = pki__v1__bundle__unpack(NULL, len, buf);
    CHECK(b != NULL && b->issued);
    if (b != NULL) {
      entries += b->n_entries;
      check_cas(b);
      CHECK_EQ_INT(b->next_after[0] == '\0', page == 3);
    }
    pki__v1__bundle__free_unpacked(b, NULL);
  }
  CHECK_EQ_INT(entries, ISSUED_N + 1);
  // Pages of two exports never mix: a second export into the same
  // directory is refused.
  CHECK_EQ_INT(it_run(cmd), 1);
  // A page size the server refuses fails the command.
  char other[512];
  it_tmpdir("issued-export-2", other, sizeof(other));
  snprintf(cmd, sizeof(cmd),
           "api/pkictl %s bulk export --issued --dir %s --page 9999",
           pkid_a.ctl, other);
  CHECK_EQ_INT(it_run(cmd), 1);
}

// --- Adopting A's CAs ---

// write_ca_pem writes the CA certificates of A's export as PEM to |path|.
static int write_ca_pem(const char *path) {
  long status;
  Pki__V1__Bundle *b = export_page("limit=1", &status, NULL, 0);
  CHECK(b != NULL);
  if (b == NULL) {
    return 0;
  }
  CBB cbb;
  CHECK(CBB_init(&cbb, 8192));
  for (size_t i = 0; i < b->n_ca_certificates; i++) {
    CHECK(ca_pem_add(&cbb, "CERTIFICATE", b->ca_certificates[i].data,
                     b->ca_certificates[i].len));
  }
  const int ok = it_write_file(path, CBB_data(&cbb), CBB_len(&cbb));
  CHECK(ok);
  CBB_cleanup(&cbb);
  pki__v1__bundle__free_unpacked(b, NULL);
  return ok;
}

// log_mentions returns 1 when the log of |pkid| holds |text|.
static int log_mentions(const it_pkid *pkid, const char *text) {
  FILE *f = fopen(pkid->log, "r");
  if (f == NULL) {
    return 0;
  }
  static char buf[1 << 16];
  const size_t len = fread(buf, 1, sizeof(buf) - 1, f);
  fclose(f);
  buf[len] = '\0';
  return strstr(buf, text) != NULL;
}

// start_adopting starts a pkid on |db| with data directory |name| (a
// copy of A's keys, then changed by the shell command |prepare| with $D
// the directory) and
// --adopt-cas |pem|. It returns what it_pkid_start returns.
static int start_adopting(it_pkid *pkid, const it_db *db, const char *name,
                          const char *prepare, const char *pem) {
  char dir[512], cmd[2048];
  it_tmpdir(name, dir, sizeof(dir));
  snprintf(cmd, sizeof(cmd),
           "rm -rf %s && mkdir -p %s/keys && chmod 700 %s/keys &&"
           " cp -p %s/keys/*.key %s/keys/",
           dir, dir, dir, dir_a, dir);
  CHECK_EQ_INT(it_run(cmd), 0);
  if (prepare != NULL) {
    snprintf(cmd, sizeof(cmd), "D=%s; %s", dir, prepare);
    CHECK_EQ_INT(it_run(cmd), 0);
  }
  const char *extra[] = {"--cluster",   "beta", "--keypool", "none",
                         "--adopt-cas", pem,    NULL};
  return it_pkid_start(pkid, db, dir, extra);
}

static char ca_pem[512];

TEST(a_new_instance_adopts_the_cas_whose_keys_it_holds) {
  it_tmpdir("a-cas.pem", ca_pem, sizeof(ca_pem));
  CHECK(write_ca_pem(ca_pem));
  // Refused: a key missing, a key others may read, a certificate without
  // a key; the database is left without CAs each time.
  static const struct {
    const char *prepare, *log;
  } kRefused[] = {
      {"rm $D/keys/ec-issuing.key", "ec-issuing.key"},
      {"chmod 0644 $D/keys/rsa-root.key", "group or others"},
      {"mv $D/keys/ec-root.key $D/keys/other.key", "ec-root.key"},
  };
  for (size_t i = 0; i < sizeof(kRefused) / sizeof(kRefused[0]); i++) {
    it_db db;
    it_db_create(&db);
    it_pkid p = {0};
    CHECK_EQ_INT(
        start_adopting(&p, &db, "issued-refused", kRefused[i].prepare, ca_pem),
        0);
    CHECK(log_mentions(&p, kRefused[i].log));
    CHECK_EQ_INT(it_db_int(&db, "SELECT count(*) FROM issuers", NULL), 0);
    it_db_drop(&db);
  }
  // A file with a certificate of no key here: one of B's own making.
  {
    it_db db;
    it_db_create(&db);
    it_pkid p = {0};
    char pem[512], cmd[1400];
    it_tmpdir("a-cas-extra.pem", pem, sizeof(pem));
    snprintf(cmd, sizeof(cmd),
             "cp %s %s && openssl req -x509 -newkey ec -pkeyopt "
             "ec_paramgen_curve:P-256 -nodes -keyout /dev/null -subj /CN=x "
             "-days 1 2>/dev/null >> %s",
             ca_pem, pem, pem);
    CHECK_EQ_INT(it_run(cmd), 0);
    CHECK_EQ_INT(start_adopting(&p, &db, "issued-refused", NULL, pem), 0);
    CHECK(log_mentions(&p, "has no key"));
    CHECK_EQ_INT(it_db_int(&db, "SELECT count(*) FROM issuers", NULL), 0);
    it_db_drop(&db);
  }
  // Adopted: B's CAs are A's, same names, roles, DER.
  CHECK(start_adopting(&pkid_b, &db_b, "issued-b", NULL, ca_pem));
  api_b = it_client(&pkid_b);
  PGresult *ra = it_db_query(&db_a,
                             "SELECT string_agg(i.name || ':' || i.role || ':'"
                             " || coalesce(p.name, '') || ':' || i.algorithm"
                             " || ':' || md5(i.der), ',' ORDER BY i.name)"
                             " FROM issuers i LEFT JOIN issuers p"
                             " ON p.id = i.parent_id",
                             NULL, NULL);
  PGresult *rb = it_db_query(&db_b,
                             "SELECT string_agg(i.name || ':' || i.role || ':'"
                             " || coalesce(p.name, '') || ':' || i.algorithm"
                             " || ':' || md5(i.der), ',' ORDER BY i.name)"
                             " FROM issuers i LEFT JOIN issuers p"
                             " ON p.id = i.parent_id",
                             NULL, NULL);
  CHECK(ra != NULL && rb != NULL);
  if (ra != NULL && rb != NULL) {
    CHECK(strlen(PQgetvalue(ra, 0, 0)) > 100);
    CHECK_EQ_STR(PQgetvalue(rb, 0, 0), PQgetvalue(ra, 0, 0));
  }
  PQclear(ra);
  PQclear(rb);
  // B signs with them: a certificate B issues chains to A's CA.
  CHECK_EQ_INT(it_db_int(&db_b, "SELECT count(*) FROM certificates", NULL), 0);
}

// --- Importing A's certificates into B ---

// kRowsSql is everything B must hold as A does, one text per database.
static const char kRowsSql[] =
    "SELECT string_agg(concat_ws('|', c.serial, coalesce(i.name, '-'),"
    " c.profile, c.subject, c.common_name, array_to_string(c.sans, ','),"
    " c.key_type, c.key_bits, c.not_before, c.not_after, md5(c.der),"
    " s.status, s.revoked_at, s.revocation_reason, c.requester,"
    " c.key_generated, coalesce(c.cluster, '-'), c.self_signed), E'\n'"
    " ORDER BY c.serial) FROM certificates c"
    " LEFT JOIN issuers i ON i.id = c.issuer_id"
    " JOIN certificate_status s ON s.id = c.id";

static void check_same_rows(void) {
  PGresult *ra = it_db_query(&db_a, kRowsSql, NULL, NULL);
  PGresult *rb = it_db_query(&db_b, kRowsSql, NULL, NULL);
  CHECK(ra != NULL && rb != NULL);
  if (ra != NULL && rb != NULL) {
    CHECK_EQ_STR(PQgetvalue(rb, 0, 0), PQgetvalue(ra, 0, 0));
  }
  PQclear(ra);
  PQclear(rb);
}

// ocsp_ask asks the responder of |pkid| about |serials| of |ca|.
static int ocsp_ask(const it_pkid *pkid, X509 *ca, const char *const *asked,
                    size_t n, test_ocsp_response *out) {
  size_t len;
  uint8_t *req = test_ocsp_request(ca, asked, n, 0, NULL, 0, &len);
  CHECK(req != NULL);
  pki_client *c = pki_client_new(pkid->ocsp);
  pki_reply reply;
  const int called = pki_client_call(c, "POST", "/", "application/ocsp-request",
                                     req, len, &reply);
  CHECK(called);
  OPENSSL_free(req);
  pki_client_free(c);
  memset(out, 0, sizeof(*out));
  if (!called) {
    return 0;
  }
  EVP_PKEY *key = X509_get_pubkey(ca);
  const int ok = reply.status == 200 &&
                 test_ocsp_parse(reply.body, reply.body_len, key, out);
  CHECK(ok);
  CHECK(out->signature_ok);
  EVP_PKEY_free(key);
  pki_reply_cleanup(&reply);
  return ok;
}

// ca_cert reads the certificate of A's CA |name| (X509_free).
static X509 *ca_cert(const char *name) {
  PGresult *ca = it_db_query(&db_a,
                             "SELECT encode(der, 'hex') FROM issuers"
                             " WHERE name = $1",
                             name, NULL);
  CHECK(ca != NULL && PQntuples(ca) == 1);
  if (ca == NULL || PQntuples(ca) != 1) {
    PQclear(ca);
    return NULL;
  }
  const char *hex = PQgetvalue(ca, 0, 0);
  const size_t der_len = strlen(hex) / 2;
  uint8_t *der = malloc(der_len + 1);
  for (size_t i = 0; i < der_len; i++) {
    unsigned v;
    sscanf(hex + 2 * i, "%2x", &v);
    der[i] = (uint8_t)v;
  }
  const uint8_t *p = der;
  X509 *x = d2i_X509(NULL, &p, (long)der_len);
  CHECK(x != NULL);
  free(der);
  PQclear(ca);
  return x;
}

// compare_ocsp asks A's and B's responders about |asked| of the CA |name|
// and checks that they answer the same.
static void compare_ocsp(const char *name, const char *const *asked, size_t n) {
  X509 *x = ca_cert(name);
  test_ocsp_response ra, rb;
  memset(&ra, 0, sizeof(ra));
  memset(&rb, 0, sizeof(rb));
  if (x != NULL && ocsp_ask(&pkid_a, x, asked, n, &ra) &&
      ocsp_ask(&pkid_b, x, asked, n, &rb)) {
    CHECK_EQ_INT(ra.count, n);
    CHECK_EQ_INT(rb.count, n);
    for (size_t i = 0; i < n && i < ra.count && i < rb.count; i++) {
      CHECK_EQ_STR(rb.singles[i].serial, ra.singles[i].serial);
      CHECK_EQ_INT(rb.singles[i].status, ra.singles[i].status);
      CHECK_EQ_INT(rb.singles[i].revoked_at, ra.singles[i].revoked_at);
      CHECK_EQ_INT(rb.singles[i].reason, ra.singles[i].reason);
    }
  }
  test_ocsp_response_cleanup(&ra);
  test_ocsp_response_cleanup(&rb);
  X509_free(x);
}

// check_same_ocsp asks A's and B's responders about every certificate of
// the CA |name| and one serial it never issued (unknown): the same
// answers. Several serials in one request are answered from the database.
static void check_same_ocsp(const char *name) {
  PGresult *rows = it_db_query(&db_a,
                               "SELECT c.serial FROM certificates c JOIN"
                               " issuers i ON i.id = c.issuer_id"
                               " WHERE i.name = $1 ORDER BY c.id",
                               name, NULL);
  CHECK(rows != NULL);
  if (rows == NULL) {
    return;
  }
  const char *asked[TEST_OCSP_MAX_SINGLES];
  size_t n = 0;
  for (int i = 0; i < PQntuples(rows) && n + 1 < TEST_OCSP_MAX_SINGLES; i++) {
    asked[n++] = PQgetvalue(rows, i, 0);
  }
  CHECK(n >= 2);
  asked[n++] = "7e57ab1e0000000000000001";  // never issued
  compare_ocsp(name, asked, n);
  X509 *x = ca_cert(name);
  test_ocsp_response rb;
  memset(&rb, 0, sizeof(rb));
  if (x != NULL && ocsp_ask(&pkid_b, x, asked, n, &rb) && rb.count == n) {
    CHECK_EQ_INT(rb.singles[n - 1].status, TEST_OCSP_UNKNOWN);
  }
  test_ocsp_response_cleanup(&rb);
  X509_free(x);
  PQclear(rows);
}

// check_same_single asks about |serial| alone: B answers from its cache
// when it has answered before (RFC 5019).
static void check_same_single(const char *name, const char *serial) {
  const char *asked[1] = {serial};
  compare_ocsp(name, asked, 1);
}

// crl_serials writes the revoked serials (hex, sorted by the CRL) of the
// current CRL of |name| on |client| into |out|.
static void crl_serials(pki_client *client, const char *name, char *out,
                        size_t len, long *number) {
  char path[128];
  snprintf(path, sizeof(path), "/v1/crl/%s", name);
  pki_reply reply;
  out[0] = '\0';
  CHECK(pki_client_call(client, "GET", path, NULL, NULL, 0, &reply));
  CHECK_EQ_INT(reply.status, 200);
  const uint8_t *p = reply.body;
  X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)reply.body_len);
  CHECK(crl != NULL);
  *number = -1;
  if (crl != NULL) {
    ASN1_INTEGER *n = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL);
    CHECK(n != NULL);
    *number = n != NULL ? ASN1_INTEGER_get(n) : -1;
    ASN1_INTEGER_free(n);
  }
  STACK_OF(X509_REVOKED) *revoked =
      crl != NULL ? X509_CRL_get_REVOKED(crl) : NULL;
  size_t used = 0;
  for (size_t i = 0; revoked != NULL && i < sk_X509_REVOKED_num(revoked); i++) {
    const X509_REVOKED *r = sk_X509_REVOKED_value(revoked, i);
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_REVOKED_get0_serialNumber(r), NULL);
    char *h = bn != NULL ? BN_bn2hex(bn) : NULL;
    CHECK(h != NULL);
    if (h != NULL) {
      used += (size_t)snprintf(out + used, len - used, "%s,", h);
    }
    OPENSSL_free(h);
    BN_free(bn);
  }
  X509_CRL_free(crl);
  pki_reply_cleanup(&reply);
}

static void check_same_crls(void) {
  static const char *const kCas[] = {"rsa-issuing", "ec-issuing"};
  // A revocation is in its CA's CRL by its crl_due_at: --crl-interval
  // (1 s) plus the writer's 2 s after it.
  const struct timespec due = {3, 0};
  nanosleep(&due, NULL);
  for (size_t i = 0; i < 2; i++) {
    char a[2048], b[2048];
    long number_a, number_b;
    crl_serials(api_a, kCas[i], a, sizeof(a), &number_a);
    crl_serials(api_b, kCas[i], b, sizeof(b), &number_b);
    CHECK_EQ_STR(b, a);
    // RFC 5280 5.2.3: B continues A's CRL numbers, never goes below.
    CHECK(number_a >= 1);
    CHECK(number_b > number_a);
  }
}

// import_raw POSTs an ImportRequest of |bundle| to B.
static Pki__V1__ImportResponse *import_raw(Pki__V1__Bundle *bundle,
                                           long *status, char *code,
                                           size_t code_len) {
  Pki__V1__ImportRequest req = PKI__V1__IMPORT_REQUEST__INIT;
  req.bundle = bundle;
  pki_reply reply;
  Pki__V1__ImportResponse *resp = NULL;
  *status = 0;
  if (post(api_b, "/v1/bulk/import", &req.base, &reply)) {
    *status = reply.status;
    if (reply.status == 200) {
      resp = pki__v1__import_response__unpack(NULL, reply.body_len, reply.body);
      CHECK(resp != NULL);
    } else if (code != NULL) {
      error_code(&reply, code, code_len);
    }
    pki_reply_cleanup(&reply);
  }
  return resp;
}

static void unhold(const char *serial) {
  Pki__V1__RevokeRequest req = PKI__V1__REVOKE_REQUEST__INIT;
  char path[160];
  snprintf(path, sizeof(path), "/v1/certificates/%s:unhold", serial);
  pki_reply reply;
  if (post(api_a, path, &req.base, &reply)) {
    CHECK_EQ_INT(reply.status, 200);
    pki_reply_cleanup(&reply);
  }
}

static char share[512];

TEST(an_import_gives_b_the_same_certificates_ocsp_answers_and_crls) {
  char cmd[1600];
  // A's CRL numbers run ahead of what B's import alone would reach: each
  // hold and release publishes a CRL.
  for (int i = 0; i < 4; i++) {
    unhold(serials[1]);
    revoke(serials[1], 6);
    revoke(serials[5], 6);
    unhold(serials[5]);
  }
  it_tmpdir("issued-share", share, sizeof(share));
  snprintf(cmd, sizeof(cmd),
           "api/pkictl %s bulk export --issued --dir %s --page 3 &&"
           " api/pkictl %s bulk import --issued --dir %s",
           pkid_a.ctl, share, pkid_b.ctl, share);
  CHECK_EQ_INT(it_run(cmd), 0);
  CHECK_EQ_INT(db_count("SELECT count(*) FROM certificates", NULL),
               it_db_int(&db_b, "SELECT count(*) FROM certificates", NULL));
  check_same_rows();
  check_same_ocsp("rsa-issuing");
  check_same_ocsp("ec-issuing");
  check_same_crls();
  // One audit row per file; CRLs made by the import.
  CHECK_EQ_INT(it_db_int(&db_b,
                         "SELECT count(*) FROM audit_log WHERE action ="
                         " 'bulk-import' AND object = 'issued'",
                         NULL),
               3);
  // Again: nothing changes.
  long status;
  Pki__V1__Bundle *all = export_page("", &status, NULL, 0);
  CHECK(all != NULL);
  Pki__V1__ImportResponse *resp = import_raw(all, &status, NULL, 0);
  CHECK_EQ_INT(status, 200);
  if (resp != NULL) {
    CHECK_EQ_INT(resp->added, 0);
    CHECK_EQ_INT(resp->replaced, 0);
    CHECK_EQ_INT(resp->unchanged, all->n_entries);
  }
  pki__v1__import_response__free_unpacked(resp, NULL);
  pki__v1__bundle__free_unpacked(all, NULL);
  check_same_rows();
}

TEST(later_revocations_and_releases_reach_b_and_final_ones_stay) {
  // On A after the first import: the hold is released, a good one
  // revoked, a new one issued and put on hold.
  char held[64];
  // B's single answers, cached now.
  check_same_single("ec-issuing", serials[1]);
  check_same_single("rsa-issuing", serials[2]);
  unhold(serials[1]);
  revoke(serials[2], 4);  // superseded
  issue("tomcat", "a8.alpha.example.com", "", held);
  revoke(held, 6);
  // The import must make B's cached answers current at once.
  long status;
  Pki__V1__Bundle *all = export_page("", &status, NULL, 0);
  CHECK(all != NULL);
  Pki__V1__ImportResponse *resp = import_raw(all, &status, NULL, 0);
  CHECK_EQ_INT(status, 200);
  if (resp != NULL) {
    CHECK_EQ_INT(resp->added, 1);
    CHECK_EQ_INT(resp->replaced, 2);
    CHECK_EQ_INT(resp->unchanged, all->n_entries - 3);
  }
  pki__v1__import_response__free_unpacked(resp, NULL);
  check_same_rows();
  check_same_single("ec-issuing", serials[1]);
  check_same_single("rsa-issuing", serials[2]);
  check_same_single("rsa-issuing", held);
  check_same_ocsp("rsa-issuing");
  check_same_ocsp("ec-issuing");
  check_same_crls();
  // A bundle that says good of a certificate revoked for good does not
  // un-revoke it.
  Pki__V1__BundleEntry *changed = NULL;
  char *status_text = NULL;
  for (size_t i = 0; all != NULL && i < all->n_entries; i++) {
    if (strcmp(all->entries[i]->serial, serials[0]) == 0) {
      changed = all->entries[i];
      status_text = changed->status;
      all->entries[i]->status = "good";
      all->entries[i]->revoked_at = 0;
      all->entries[i]->revocation_reason = 0;
    }
  }
  resp = import_raw(all, &status, NULL, 0);
  CHECK_EQ_INT(status, 200);
  if (resp != NULL) {
    CHECK_EQ_INT(resp->replaced, 0);
  }
  pki__v1__import_response__free_unpacked(resp, NULL);
  CHECK_EQ_INT(it_db_int(&db_b,
                         "SELECT count(*) FROM certificate_status"
                         " WHERE serial = $1"
                         " AND status = 'revoked' AND revocation_reason = 1",
                         serials[0]),
               1);
  // The status string belongs to |all|: put it back before freeing.
  if (changed != NULL) {
    changed->status = status_text;
  }
  pki__v1__bundle__free_unpacked(all, NULL);
}

TEST(a_tampered_entry_or_a_ca_b_lacks_refuses_the_whole_import) {
  char fresh[64];
  issue("CallManager", "a9.alpha.example.com", "", fresh);
  const long long before =
      it_db_int(&db_b, "SELECT count(*) FROM certificates", NULL);
  const long long audits =
      it_db_int(&db_b, "SELECT count(*) FROM audit_log", NULL);
  long status;
  char code[64];
  Pki__V1__Bundle *all = export_page("", &status, NULL, 0);
  CHECK(all != NULL && all->n_entries >= 3);
  if (all == NULL || all->n_entries < 3) {
    pki__v1__bundle__free_unpacked(all, NULL);
    return;
  }
  Pki__V1__BundleEntry *last = all->entries[all->n_entries - 1];
  CHECK_EQ_STR(last->serial, fresh);
  // A bad signature.
  uint8_t *sig = &last->certificate.data[last->certificate.len - 5];
  *sig ^= 0x40;
  Pki__V1__ImportResponse *resp = import_raw(all, &status, code, sizeof(code));
  CHECK(resp == NULL);
  CHECK_EQ_INT(status, 400);
  CHECK_EQ_STR(code, "BUNDLE_MALFORMED");
  *sig ^= 0x40;
  // The certificate of another CA than the one named.
  char *issuer = last->issuer;
  last->issuer =
      strcmp(issuer, "rsa-issuing") == 0 ? "ec-issuing" : "rsa-issuing";
  resp = import_raw(all, &status, code, sizeof(code));
  CHECK(resp == NULL);
  CHECK_EQ_STR(code, "BUNDLE_MALFORMED");
  last->issuer = issuer;
  // A serial that is not the certificate's.
  char *serial = last->serial;
  last->serial = "01";
  resp = import_raw(all, &status, code, sizeof(code));
  CHECK(resp == NULL);
  CHECK_EQ_STR(code, "BUNDLE_MALFORMED");
  last->serial = serial;
  // The CAs of another pki: without A's CA certificates, B holds none of
  // the bundle's CAs.
  const size_t n_cas = all->n_ca_certificates;
  all->n_ca_certificates = 0;
  resp = import_raw(all, &status, code, sizeof(code));
  CHECK(resp == NULL);
  CHECK_EQ_INT(status, 503);
  CHECK_EQ_STR(code, "ISSUER_UNAVAILABLE");
  all->n_ca_certificates = n_cas;
  // Nothing was stored by any of them, no audit row written.
  CHECK_EQ_INT(it_db_int(&db_b, "SELECT count(*) FROM certificates", NULL),
               before);
  CHECK_EQ_INT(it_db_int(&db_b,
                         "SELECT count(*) FROM certificates"
                         " WHERE serial = $1",
                         fresh),
               0);
  CHECK_EQ_INT(it_db_int(&db_b, "SELECT count(*) FROM audit_log", NULL),
               audits);
  // Untouched, it goes in.
  resp = import_raw(all, &status, NULL, 0);
  CHECK_EQ_INT(status, 200);
  CHECK(resp != NULL && resp->added == 1);
  pki__v1__import_response__free_unpacked(resp, NULL);
  pki__v1__bundle__free_unpacked(all, NULL);
  check_same_rows();
}

TEST(another_certificate_under_a_stored_serial_is_a_conflict) {
  // A certificate that A's rsa-issuing key signs (its key file is at hand)
  // with the serial of one B already holds: same CA and serial, other DER.
  char pem[512], key[512], der[512], cmd[3000];
  it_tmpdir("issued-ca.pem", pem, sizeof(pem));
  it_tmpdir("issued-forged.der", der, sizeof(der));
  snprintf(key, sizeof(key), "%s/keys/rsa-issuing.key", dir_a);
  PGresult *ca = it_db_query(&db_a,
                             "SELECT encode(der, 'base64') FROM issuers"
                             " WHERE name = 'rsa-issuing'",
                             NULL, NULL);
  CHECK(ca != NULL && PQntuples(ca) == 1);
  if (ca == NULL || PQntuples(ca) != 1) {
    PQclear(ca);
    return;
  }
  char body[8192];
  snprintf(body, sizeof(body),
           "-----BEGIN CERTIFICATE-----\n%s\n-----END CERTIFICATE-----\n",
           PQgetvalue(ca, 0, 0));
  PQclear(ca);
  CHECK(it_write_file(pem, body, strlen(body)));
  // An extension makes it v3, as pki reads certificates.
  char ext[600];
  static const char kExt[] = "subjectAltName=DNS:forged.example.com\n";
  snprintf(ext, sizeof(ext), "%s.ext", der);
  CHECK(it_write_file(ext, kExt, strlen(kExt)));
  snprintf(cmd, sizeof(cmd),
           "openssl req -new -newkey rsa:2048 -nodes -keyout /dev/null"
           " -subj /CN=forged.example.com 2>/dev/null |"
           " openssl x509 -req -CA %s -CAkey %s -set_serial 0x%s -days 30"
           " -sha256 -extfile %s.ext -outform DER -out %s 2>/dev/null",
           pem, key, serials[5], der, der);
  CHECK_EQ_INT(it_run(cmd), 0);
  FILE *f = fopen(der, "rb");
  CHECK(f != NULL);
  if (f == NULL) {
    return;
  }
  static uint8_t forged[8192];
  const size_t forged_len = fread(forged, 1, sizeof(forged), f);
  fclose(f);
  long status;
  char code[64];
  Pki__V1__Bundle *all = export_page("", &status, NULL, 0);
  CHECK(all != NULL);
  Pki__V1__BundleEntry *e = NULL;
  for (size_t i = 0; all != NULL && i < all->n_entries; i++) {
    if (strcmp(all->entries[i]->serial, serials[5]) == 0) {
      e = all->entries[i];
    }
  }
  CHECK(e != NULL && strcmp(e->issuer, "rsa-issuing") == 0);
  if (e != NULL) {
    const ProtobufCBinaryData real = e->certificate;
    e->certificate.data = forged;
    e->certificate.len = forged_len;
    Pki__V1__ImportResponse *resp =
        import_raw(all, &status, code, sizeof(code));
    CHECK(resp == NULL);
    CHECK_EQ_INT(status, 409);
    CHECK_EQ_STR(code, "CONFLICT");
    pki__v1__import_response__free_unpacked(resp, NULL);
    e->certificate = real;
  }
  pki__v1__bundle__free_unpacked(all, NULL);
  check_same_rows();
}

TEST(adopting_again_restarts_and_other_cas_are_refused) {
  // B restarts with the same flag: its CAs are those of the file.
  CHECK_EQ_INT(it_pkid_stop(&pkid_b), 0);
  const char *extra[] = {"--cluster",   "beta", "--keypool", "none",
                         "--adopt-cas", ca_pem, NULL};
  CHECK(it_pkid_start(&pkid_b, &db_b, pkid_b.data_dir, extra));
  check_same_ocsp("rsa-issuing");
  // A database whose CAs were made at a first start refuses to adopt.
  it_db db;
  it_db_create(&db);
  char dir[512];
  it_tmpdir("issued-own", dir, sizeof(dir));
  it_pkid own = {0};
  const char *plain[] = {"--keypool", "none", NULL};
  CHECK(it_pkid_start(&own, &db, dir, plain));
  CHECK_EQ_INT(it_pkid_stop(&own), 0);
  it_pkid again = {0};
  CHECK_EQ_INT(start_adopting(&again, &db, "issued-own-adopt", NULL, ca_pem),
               0);
  CHECK(log_mentions(&again, "already holds other CAs"));
  it_db_drop(&db);
}

int main(void) {
  it_db_create(&db_a);
  it_db_create(&db_b);
  it_tmpdir("issued-a", dir_a, sizeof(dir_a));
  const char *extra_a[] = {"--cluster", "alpha", "--keypool", "none", NULL};
  if (!it_pkid_start(&pkid_a, &db_a, dir_a, extra_a)) {
    it_db_drop(&db_a);
    it_db_drop(&db_b);
    return 1;
  }
  api_a = it_client(&pkid_a);
  RUN(pages_hold_every_issued_certificate_once_with_its_state);
  RUN(the_page_size_and_cursor_are_checked);
  RUN(pkictl_writes_one_file_per_page_into_an_empty_directory);
  RUN(a_new_instance_adopts_the_cas_whose_keys_it_holds);
  RUN(an_import_gives_b_the_same_certificates_ocsp_answers_and_crls);
  RUN(later_revocations_and_releases_reach_b_and_final_ones_stay);
  RUN(a_tampered_entry_or_a_ca_b_lacks_refuses_the_whole_import);
  RUN(another_certificate_under_a_stored_serial_is_a_conflict);
  RUN(adopting_again_restarts_and_other_cas_are_refused);
  pki_client_free(api_a);
  CHECK_EQ_INT(it_pkid_stop(&pkid_a), 0);
  if (api_b != NULL) {
    pki_client_free(api_b);
    CHECK_EQ_INT(it_pkid_stop(&pkid_b), 0);
  }
  it_db_drop(&db_a);
  it_db_drop(&db_b);
  return test_summary();
}
