// Server-side key generation (POST /v1/keys:generate) against a real pkid
// and PostgreSQL: every private key matches its certificate, no key is
// handed out twice, the pool refills, refusals spend no key, the records
// say the key was generated, and pkictl keygen writes private key files
// with mode 0600.
#include <openssl/bytestring.h>
#include <openssl/evp.h>
#include <openssl/mem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/client/client.h"
#include "proto/pki.pb-c.h"
#include "tests/integration/harness.h"
#include "tests/support/test.h"

static it_db db;
static it_pkid pkid;
static pki_client *client;

typedef struct generated {
  long status;
  char code[64];
  EVP_PKEY *key;  // parsed from the response's PKCS#8
  X509 *cert;
  int from_pool;
} generated;

static void generated_free(generated *g) {
  EVP_PKEY_free(g->key);
  X509_free(g->cert);
  memset(g, 0, sizeof(*g));
}

static void generate(const char *profile, const char *cn, const char *key_type,
                     const char *san, generated *out) {
  memset(out, 0, sizeof(*out));
  Pki__V1__Subject subject = PKI__V1__SUBJECT__INIT;
  subject.common_name = (char *)cn;
  subject.organization = "Lab";
  Pki__V1__GenerateKeyRequest req = PKI__V1__GENERATE_KEY_REQUEST__INIT;
  req.profile = (char *)profile;
  req.subject = &subject;
  req.key_type = (char *)key_type;
  char *sans[1] = {(char *)san};
  if (san != NULL) {
    req.n_sans = 1;
    req.sans = sans;
  }
  const size_t len = pki__v1__generate_key_request__get_packed_size(&req);
  uint8_t *body = malloc(len + 1);
  pki__v1__generate_key_request__pack(&req, body);
  pki_reply reply;
  CHECK(pki_client_call(client, "POST", "/v1/keys:generate",
                        "application/x-protobuf", body, len, &reply));
  free(body);
  out->status = reply.status;
  if (reply.status != 200) {
    Pki__V1__Error *e =
        pki__v1__error__unpack(NULL, reply.body_len, reply.body);
    if (e != NULL) {
      snprintf(out->code, sizeof(out->code), "%s", e->code);
      pki__v1__error__free_unpacked(e, NULL);
    }
    pki_reply_cleanup(&reply);
    return;
  }
  Pki__V1__GenerateKeyResponse *resp =
      pki__v1__generate_key_response__unpack(NULL, reply.body_len, reply.body);
  CHECK(resp != NULL && resp->certificate != NULL);
  if (resp != NULL && resp->certificate != NULL) {
    CBS pkcs8;
    CBS_init(&pkcs8, resp->private_key.data, resp->private_key.len);
    out->key = EVP_parse_private_key(&pkcs8);
    CHECK(out->key != NULL && CBS_len(&pkcs8) == 0);
    const uint8_t *p = resp->certificate->certificate.data;
    out->cert = d2i_X509(NULL, &p, (long)resp->certificate->certificate.len);
    CHECK(out->cert != NULL);
    out->from_pool = resp->key_from_pool;
  }
  pki__v1__generate_key_response__free_unpacked(resp, NULL);
  pki_reply_cleanup(&reply);
}

// metric reads one value of /metrics (the first line starting |name|).
static long long metric(const char *name) {
  pki_reply reply;
  long long v = -1;
  if (pki_client_call(client, "GET", "/metrics", NULL, NULL, 0, &reply) &&
      reply.body != NULL) {
    char needle[128];
    snprintf(needle, sizeof(needle), "\n%s ", name);
    const char *line = strstr((const char *)reply.body, needle);
    if (line != NULL) {
      v = strtoll(line + strlen(needle), NULL, 10);
    }
  }
  pki_reply_cleanup(&reply);
  return v;
}

static int wait_for_pool(long long want) {
  for (int i = 0; i < 300; i++) {
    if (metric("pki_keypool_ready{kind=\"EC-P256\"}") == want) {
      return 1;
    }
    usleep(100 * 1000);
  }
  return 0;
}

TEST(keys_match_their_certificates_and_are_never_handed_out_twice) {
  CHECK(wait_for_pool(4));
  enum { N = 12 };
  generated g[N];
  int from_pool = 0;
  for (int i = 0; i < N; i++) {
    char cn[64];
    snprintf(cn, sizeof(cn), "gen%d.example.com", i);
    generate("tomcat-ECDSA", cn, "EC-P256", NULL, &g[i]);
    CHECK_EQ_INT(g[i].status, 200);
    from_pool += g[i].from_pool;
    if (g[i].key != NULL && g[i].cert != NULL) {
      EVP_PKEY *pub = X509_get_pubkey(g[i].cert);
      CHECK(EVP_PKEY_cmp(g[i].key, pub) == 1);
      EVP_PKEY_free(pub);
    }
  }
  // The first four came from the full pool.
  CHECK(g[0].from_pool && g[1].from_pool && g[2].from_pool && g[3].from_pool);
  CHECK(from_pool >= 4);
  // Twelve different keys.
  for (int i = 0; i < N; i++) {
    for (int k = i + 1; k < N; k++) {
      if (g[i].key != NULL && g[k].key != NULL) {
        CHECK(EVP_PKEY_cmp(g[i].key, g[k].key) != 1);
      }
    }
  }
  CHECK_EQ_INT(metric("pki_keys_generated_total{source=\"pool\"}"), from_pool);
  CHECK_EQ_INT(metric("pki_keys_generated_total{source=\"on_demand\"}"),
               N - from_pool);
  for (int i = 0; i < N; i++) {
    generated_free(&g[i]);
  }
  // The pool fills up again by itself.
  CHECK(wait_for_pool(4));
  CHECK_EQ_INT(it_db_int(&db,
                         "SELECT count(*) FROM certificates WHERE"
                         " key_generated AND common_name LIKE 'gen%'",
                         NULL),
               N);
}

TEST(rsa_keys_and_requested_sans) {
  generated g;
  generate("tomcat", "rsa.example.com", "", "DNS:rsa.example.com", &g);
  CHECK_EQ_INT(g.status, 200);
  if (g.key != NULL) {
    CHECK_EQ_INT(EVP_PKEY_id(g.key), EVP_PKEY_RSA);
    CHECK_EQ_INT(EVP_PKEY_bits(g.key), 2048);
    EVP_PKEY *pub = X509_get_pubkey(g.cert);
    CHECK(EVP_PKEY_cmp(g.key, pub) == 1);
    EVP_PKEY_free(pub);
  }
  generated_free(&g);
}

TEST(refusals_spend_no_key) {
  CHECK(wait_for_pool(4));
  const long long before = metric("pki_keys_generated_total{source=\"pool\"}");
  struct {
    const char *profile, *cn, *key, *san, *code;
  } cases[] = {
      {"tomcat", "a.example.com", "EC-P256", NULL, "KEY_TYPE_MISMATCH"},
      {"tomcat", "a.example.com", "RSA-1024", NULL, "KEY_TOO_SMALL"},
      {"tomcat-ECDSA", "", "EC-P256", NULL, "SUBJECT_CN_MISSING"},
      {"nosuch", "a.example.com", "EC-P256", NULL, "PROFILE_UNKNOWN"},
      {"tomcat-ECDSA", "a.example.com", "DSA", NULL, "PARAMETER_INVALID"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    generated g;
    generate(cases[i].profile, cases[i].cn, cases[i].key, cases[i].san, &g);
    CHECK_EQ_INT(g.status, 400);
    CHECK_EQ_STR(g.code, cases[i].code);
    generated_free(&g);
  }
  CHECK_EQ_INT(metric("pki_keys_generated_total{source=\"pool\"}"), before);
}

TEST(pkictl_keygen_writes_private_keys_0600) {
  char dir[512], cmd[2048];
  it_tmpdir("keygen-out", dir, sizeof(dir));
  snprintf(cmd, sizeof(cmd),
           "api/pkictl %s keygen --profile tomcat-ECDSA"
           " --cn 'lab{n}.example.com' --san 'DNS:lab{n}.example.com'"
           " --san 'lab{n}' --count 3 --out-dir %s",
           pkid.ctl, dir);
  CHECK_EQ_INT(it_run(cmd), 0);
  for (int n = 1; n <= 3; n++) {
    char key[700], cert[700];
    snprintf(key, sizeof(key), "%s/lab%d.example.com.key", dir, n);
    snprintf(cert, sizeof(cert), "%s/lab%d.example.com.pem", dir, n);
    struct stat st;
    CHECK(stat(key, &st) == 0 && (st.st_mode & 0777) == 0600);
    // An independent check that the pair belongs together.
    snprintf(cmd, sizeof(cmd),
             "cmp -s <(openssl pkey -in %s -pubout) <(openssl x509 -in %s "
             "-pubkey -noout)",
             key, cert);
    char bash[2200];
    snprintf(bash, sizeof(bash), "bash -c \"%s\"", cmd);
    CHECK_EQ_INT(it_run(bash), 0);
  }
  // A key file is never overwritten.
  snprintf(cmd, sizeof(cmd),
           "api/pkictl %s keygen --profile tomcat-ECDSA"
           " --cn lab1.example.com --out-dir %s 2>/dev/null",
           pkid.ctl, dir);
  CHECK(it_run(cmd) != 0);
}

int main(void) {
  it_db_create(&db);
  char dir[512];
  it_tmpdir("keygen", dir, sizeof(dir));
  const char *extra[] = {"--keypool",
                         "EC-P256=4,RSA-2048=1,RSA-3072=0,RSA-4096=0,EC-P384=0",
                         NULL};
  if (!it_pkid_start(&pkid, &db, dir, extra)) {
    it_db_drop(&db);
    return 1;
  }
  client = it_client(&pkid);
  RUN(keys_match_their_certificates_and_are_never_handed_out_twice);
  RUN(rsa_keys_and_requested_sans);
  RUN(refusals_spend_no_key);
  RUN(pkictl_keygen_writes_private_keys_0600);
  pki_client_free(client);
  CHECK_EQ_INT(it_pkid_stop(&pkid), 0);
  it_db_drop(&db);
  return test_summary();
}
