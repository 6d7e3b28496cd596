// JSON beside protobuf against a real pkid and PostgreSQL, with curl: a
// batch issued from a CSR sent as JSON (the certificate verifies with
// openssl against the chain of the answer), found with Accept:
// application/json, revoked with a JSON body; errors in JSON with their
// code (a second revocation, an unknown field, malformed JSON, no
// credential, a charset other than UTF-8); Accept choosing the answer's
// format whatever the request's (JSON for a protobuf request, protobuf for
// a JSON one).
#include <jansson.h>
#include <openssl/base64.h>
#include <openssl/mem.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "proto/pki.pb-c.h"
#include "tests/integration/harness.h"
#include "tests/support/csr_maker.h"
#include "tests/support/test.h"

static it_db db;
static it_pkid pkid;
static char work[512];
static char serial[80];  // the certificate issued by the first test

typedef struct answer {
  int status;
  char content_type[128];
  json_t *json;  // the body as JSON, or NULL
  uint8_t *body;
  size_t body_len;
} answer;

static void answer_free(answer *a) {
  json_decref(a->json);
  free(a->body);
  memset(a, 0, sizeof(*a));
}

static uint8_t *read_all(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    return NULL;
  }
  uint8_t *buf = NULL;
  size_t cap = 0;
  *len = 0;
  for (;;) {
    if (*len + 4096 > cap) {
      cap = (*len + 4096) * 2;
      uint8_t *grown = realloc(buf, cap);
      if (grown == NULL) {
        free(buf);
        fclose(f);
        return NULL;
      }
      buf = grown;
    }
    const size_t n = fread(buf + *len, 1, 4096, f);
    *len += n;
    if (n == 0) {
      break;
    }
  }
  fclose(f);
  return buf;
}

// call runs curl: |method| on |path| with |headers| (curl -H options, may
// be "") and the body of the file |body_file| (NULL for none), with the
// harness's credential unless |anonymous|. The answer's status, type and
// body (parsed when it is JSON) go to |out|.
static void call(const char *method, const char *path, const char *headers,
                 const char *body_file, int anonymous, answer *out) {
  memset(out, 0, sizeof(*out));
  char out_file[600], meta_file[600], cmd[4096], auth[1500];
  snprintf(out_file, sizeof(out_file), "%s/answer.body", work);
  snprintf(meta_file, sizeof(meta_file), "%s/answer.meta", work);
  if (anonymous) {
    snprintf(auth, sizeof(auth), "-sS --cacert %s", pkid.cacert);
  } else {
    snprintf(auth, sizeof(auth), "%s", pkid.curl);
  }
  char data[700] = "";
  if (body_file != NULL) {
    snprintf(data, sizeof(data), "--data-binary @%s", body_file);
  }
  snprintf(cmd, sizeof(cmd),
           "curl %s -X %s %s %s -o %s -w '%%{http_code} %%{content_type}' "
           "'%s%s' > %s",
           auth, method, headers, data, out_file, pkid.server, path, meta_file);
  CHECK_EQ_INT(it_run(cmd), 0);
  size_t n = 0;
  char *meta = (char *)read_all(meta_file, &n);
  if (meta != NULL) {
    meta[n < 200 ? n : 199] = '\0';
    if (sscanf(meta, "%d %127s", &out->status, out->content_type) < 1) {
      out->status = 0;
    }
    free(meta);
  }
  out->body = read_all(out_file, &out->body_len);
  if (out->body != NULL && strcmp(out->content_type, "application/json") == 0) {
    json_error_t err;
    out->json = json_loadb((const char *)out->body, out->body_len,
                           JSON_REJECT_DUPLICATES, &err);
    if (out->json == NULL) {
      fprintf(stderr, "answer is not JSON: %s\n", err.text);
    }
  }
}

// write_text writes |text| to WORK/|name| and returns the path in |path|.
static void write_text(const char *name, const char *text, char *path,
                       size_t path_len) {
  snprintf(path, path_len, "%s/%s", work, name);
  CHECK(it_write_file(path, text, strlen(text)));
}

static const char *str_at(const json_t *obj, const char *key) {
  return json_string_value(json_object_get(obj, key));
}

// write_pem_of writes the base64 DER certificates |b64s| (a JSON array or
// string) as PEM to |path|; returns how many.
static size_t write_pem_of(const json_t *b64s, const char *path) {
  FILE *f = fopen(path, "w");
  if (f == NULL) {
    return 0;
  }
  size_t written = 0;
  const size_t n = json_is_array(b64s) ? json_array_size(b64s) : 1;
  for (size_t i = 0; i < n; i++) {
    const json_t *v = json_is_array(b64s) ? json_array_get(b64s, i) : b64s;
    const char *text = json_string_value(v);
    if (text == NULL) {
      continue;
    }
    size_t max = 0;
    EVP_DecodedLength(&max, strlen(text));
    uint8_t *der = OPENSSL_malloc(max + 1);
    size_t der_len = 0;
    if (der != NULL && EVP_DecodeBase64(der, &der_len, max,
                                        (const uint8_t *)text, strlen(text))) {
      const uint8_t *p = der;
      X509 *x = d2i_X509(NULL, &p, (long)der_len);
      if (x != NULL && PEM_write_X509(f, x)) {
        written++;
      }
      X509_free(x);
    }
    OPENSSL_free(der);
  }
  fclose(f);
  return written;
}

TEST(batch_issue_in_json_verifies_with_openssl) {
  test_csr_spec spec = {
      .key = "RSA-2048",
      .subject = "/CN=json1.example.com/O=Example",
      .sans = "DNS:json1.example.com",
  };
  size_t der_len = 0;
  uint8_t *der = test_make_csr(&spec, &der_len, NULL);
  CHECK(der != NULL);
  if (der == NULL) {
    return;
  }
  size_t b64_len = 0;
  EVP_EncodedLength(&b64_len, der_len);
  char *b64 = OPENSSL_malloc(b64_len);
  CHECK(b64 != NULL);
  if (b64 == NULL) {
    OPENSSL_free(der);
    return;
  }
  EVP_EncodeBlock((uint8_t *)b64, der, der_len);
  char body[8192], path[700];
  // The .proto's own field name is taken as well as the JSON one.
  snprintf(body, sizeof(body),
           "{\"profile\": \"tomcat\", \"items\": [{\"csr\": \"%s\","
           " \"validity_days\": 30}]}",
           b64);
  OPENSSL_free(b64);
  OPENSSL_free(der);
  write_text("batch.json", body, path, sizeof(path));
  answer a;
  call("POST", "/v1/certificates:batchIssue",
       "-H 'Content-Type: application/json'", path, 0, &a);
  CHECK_EQ_INT(a.status, 200);
  CHECK_EQ_STR(a.content_type, "application/json");
  CHECK(a.json != NULL);
  const json_t *results = json_object_get(a.json, "results");
  CHECK_EQ_INT(json_array_size(results), 1);
  CHECK_EQ_INT(json_integer_value(json_object_get(a.json, "issued")), 1);
  // Default values are left out: no "failed": 0.
  CHECK(json_object_get(a.json, "failed") == NULL);
  const json_t *cert =
      json_object_get(json_array_get(results, 0), "certificate");
  CHECK(cert != NULL);
  if (cert == NULL) {
    answer_free(&a);
    return;
  }
  // 64-bit integers are strings; the serial is hexadecimal text.
  CHECK(json_is_string(json_object_get(cert, "notBefore")));
  CHECK(json_is_string(json_object_get(cert, "notAfter")));
  CHECK_EQ_STR(str_at(cert, "profile"), "tomcat");
  snprintf(serial, sizeof(serial), "%s",
           str_at(cert, "serial") != NULL ? str_at(cert, "serial") : "");
  CHECK(serial[0] != '\0');
  char leaf[700], root[700], untrusted[700], cmd[2400];
  snprintf(leaf, sizeof(leaf), "%s/leaf.pem", work);
  snprintf(root, sizeof(root), "%s/root.pem", work);
  snprintf(untrusted, sizeof(untrusted), "%s/issuing.pem", work);
  CHECK_EQ_INT(write_pem_of(json_object_get(cert, "certificate"), leaf), 1);
  const json_t *chain = json_object_get(cert, "chain");
  CHECK_EQ_INT(json_array_size(chain), 2);
  CHECK_EQ_INT(write_pem_of(json_array_get(chain, 1), root), 1);
  CHECK_EQ_INT(write_pem_of(json_array_get(chain, 0), untrusted), 1);
  snprintf(cmd, sizeof(cmd),
           "openssl verify -CAfile %s -untrusted %s %s &&"
           " openssl x509 -in %s -noout -subject | grep -q json1.example.com",
           root, untrusted, leaf, leaf);
  CHECK_EQ_INT(it_run(cmd), 0);
  answer_free(&a);
}

TEST(find_answers_json_when_accepted) {
  answer a;
  call("GET", "/v1/certificates?cn=json1.example.com",
       "-H 'Accept: application/json'", NULL, 0, &a);
  CHECK_EQ_INT(a.status, 200);
  CHECK_EQ_STR(a.content_type, "application/json");
  const json_t *certs = json_object_get(a.json, "certificates");
  CHECK_EQ_INT(json_array_size(certs), 1);
  const json_t *c = json_array_get(certs, 0);
  CHECK_EQ_STR(str_at(c, "serial"), serial);
  CHECK_EQ_STR(str_at(c, "status"), "good");
  CHECK_EQ_STR(str_at(c, "commonName"), "json1.example.com");
  answer_free(&a);
  // q-values: protobuf preferred over JSON answers protobuf.
  call("GET", "/v1/certificates?cn=json1.example.com",
       "-H 'Accept: application/json;q=0.5, application/x-protobuf'", NULL, 0,
       &a);
  CHECK_EQ_INT(a.status, 200);
  CHECK_EQ_STR(a.content_type, "application/x-protobuf");
  Pki__V1__ListCertificatesResponse *list =
      pki__v1__list_certificates_response__unpack(NULL, a.body_len, a.body);
  CHECK(list != NULL && list->n_certificates == 1);
  pki__v1__list_certificates_response__free_unpacked(list, NULL);
  answer_free(&a);
  // Without Accept, as before: protobuf.
  call("GET", "/v1/certificates?cn=json1.example.com", "", NULL, 0, &a);
  CHECK_EQ_STR(a.content_type, "application/x-protobuf");
  answer_free(&a);
}

TEST(revoke_with_a_json_body_and_errors_in_json) {
  char path[700], url[200];
  write_text("revoke.json", "{\"reason\": 1}", path, sizeof(path));
  snprintf(url, sizeof(url), "/v1/certificates/%s:revoke", serial);
  answer a;
  call("POST", url, "-H 'Content-Type: application/json; charset=UTF-8'", path,
       0, &a);
  CHECK_EQ_INT(a.status, 200);
  CHECK_EQ_STR(a.content_type, "application/json");
  CHECK_EQ_STR(str_at(a.json, "status"), "revoked");
  CHECK_EQ_STR(str_at(a.json, "serial"), serial);
  CHECK_EQ_INT(json_integer_value(json_object_get(a.json, "reason")), 1);
  CHECK(json_is_string(json_object_get(a.json, "revokedAt")));
  answer_free(&a);
  // Again: the error, in JSON, with its code.
  call("POST", url, "-H 'Content-Type: application/json'", path, 0, &a);
  CHECK_EQ_INT(a.status, 409);
  CHECK_EQ_STR(a.content_type, "application/json");
  CHECK_EQ_STR(str_at(a.json, "code"), "ALREADY_REVOKED");
  CHECK(str_at(a.json, "message") != NULL);
  answer_free(&a);
  // The certificate's state, found again.
  call("GET", "/v1/certificates?cn=json1.example.com&status=revoked",
       "-H 'Accept: application/json'", NULL, 0, &a);
  CHECK_EQ_INT(json_array_size(json_object_get(a.json, "certificates")), 1);
  answer_free(&a);
}

TEST(json_refusals_have_stable_codes) {
  static const struct {
    const char *body;
    const char *headers;
    int status;
    const char *code;
  } kCases[] = {
      {"{\"profile\": \"tomcat\", \"itemz\": []}",
       "-H 'Content-Type: application/json'", 400, "JSON_UNKNOWN_FIELD"},
      {"{\"profile\": \"tomcat\", \"items\": [",
       "-H 'Content-Type: "
       "application/json'",
       400, "JSON_MALFORMED"},
      {"{\"profile\": \"tomcat\", \"profile\": \"ipsec\"}",
       "-H 'Content-Type: application/json'", 400, "JSON_MALFORMED"},
      {"{\"items\": [{\"validityDays\": -1}]}",
       "-H 'Content-Type: application/json'", 400, "JSON_FIELD_INVALID"},
      {"{\"items\": [{\"csr\": \"not base64!\"}]}",
       "-H 'Content-Type: application/json'", 400, "JSON_FIELD_INVALID"},
      {"{\"items\": []}", "-H 'Content-Type: application/json'", 400,
       "BATCH_EMPTY"},
      {"{}", "-H 'Content-Type: application/json; charset=latin1'", 415,
       "UNSUPPORTED_MEDIA_TYPE"},
      // A form body is still refused, now in JSON when JSON is accepted.
      {"a=b",
       "-H 'Content-Type: application/x-www-form-urlencoded'"
       " -H 'Accept: application/json'",
       415, "UNSUPPORTED_MEDIA_TYPE"},
  };
  for (size_t i = 0; i < sizeof(kCases) / sizeof(kCases[0]); i++) {
    char path[700];
    write_text("refused.json", kCases[i].body, path, sizeof(path));
    answer a;
    call("POST", "/v1/certificates:batchIssue", kCases[i].headers, path, 0, &a);
    if (a.status != kCases[i].status || a.json == NULL ||
        str_at(a.json, "code") == NULL ||
        strcmp(str_at(a.json, "code"), kCases[i].code) != 0) {
      fprintf(stderr, "case %zu: %d %s %.*s\n", i, a.status, a.content_type,
              (int)a.body_len, a.body != NULL ? (char *)a.body : "");
    }
    CHECK_EQ_INT(a.status, kCases[i].status);
    CHECK_EQ_STR(a.content_type, "application/json");
    CHECK_EQ_STR(str_at(a.json, "code"), kCases[i].code);
    answer_free(&a);
  }
  // Refused before the body is read (no credential): in JSON too.
  char path[700];
  write_text("anon.json", "{}", path, sizeof(path));
  answer a;
  call("POST", "/v1/certificates:batchIssue",
       "-H 'Content-Type: application/json'", path, 1, &a);
  CHECK_EQ_INT(a.status, 401);
  CHECK_EQ_STR(a.content_type, "application/json");
  CHECK_EQ_STR(str_at(a.json, "code"), "UNAUTHENTICATED");
  answer_free(&a);
}

TEST(accept_chooses_the_answer_format) {
  // A protobuf request answered in JSON.
  test_csr_spec spec = {
      .key = "RSA-2048",
      .subject = "/CN=json2.example.com",
      .sans = "DNS:json2.example.com",
  };
  size_t der_len = 0;
  uint8_t *der = test_make_csr(&spec, &der_len, NULL);
  CHECK(der != NULL);
  if (der == NULL) {
    return;
  }
  Pki__V1__IssueRequest req = PKI__V1__ISSUE_REQUEST__INIT;
  req.profile = "tomcat";
  req.csr.data = der;
  req.csr.len = der_len;
  const size_t len = pki__v1__issue_request__get_packed_size(&req);
  uint8_t *pb = malloc(len);
  CHECK(pb != NULL);
  if (pb == NULL) {
    OPENSSL_free(der);
    return;
  }
  pki__v1__issue_request__pack(&req, pb);
  char path[700];
  snprintf(path, sizeof(path), "%s/issue.pb", work);
  CHECK(it_write_file(path, pb, len));
  free(pb);
  OPENSSL_free(der);
  answer a;
  call("POST", "/v1/certificates:issue",
       "-H 'Content-Type: application/x-protobuf'"
       " -H 'Accept: application/json'",
       path, 0, &a);
  CHECK_EQ_INT(a.status, 200);
  CHECK_EQ_STR(a.content_type, "application/json");
  const json_t *cert = json_object_get(a.json, "certificate");
  CHECK(json_is_string(json_object_get(cert, "certificate")));
  CHECK_EQ_STR(str_at(cert, "profile"), "tomcat");
  answer_free(&a);
  // A JSON request answered in protobuf.
  write_text("list.json", "{\"items\": []}", path, sizeof(path));
  call("POST", "/v1/certificates:batchIssue",
       "-H 'Content-Type: application/json'"
       " -H 'Accept: application/x-protobuf'",
       path, 0, &a);
  CHECK_EQ_INT(a.status, 400);
  CHECK_EQ_STR(a.content_type, "application/x-protobuf");
  Pki__V1__Error *e = pki__v1__error__unpack(NULL, a.body_len, a.body);
  CHECK(e != NULL);
  if (e != NULL) {
    CHECK_EQ_STR(e->code, "BATCH_EMPTY");
  }
  pki__v1__error__free_unpacked(e, NULL);
  answer_free(&a);
  // A text route keeps its own format whatever Accept says.
  call("GET", "/healthz", "-H 'Accept: application/json'", NULL, 1, &a);
  CHECK_EQ_INT(a.status, 200);
  CHECK(strcmp(a.content_type, "application/json") != 0);
  answer_free(&a);
}

// The routes added with registered identities and the node registry take
// JSON bodies as every other protobuf route does (their kBodyTypes lines).
TEST(identities_and_nodes_take_json_bodies) {
  char cmd[2400], path[700];
  snprintf(cmd, sizeof(cmd),
           "cd %s && openssl req -x509 -newkey rsa:2048 -nodes -keyout "
           "ext.key -days 30 -subj /CN=jsonnode.example.com -out ext.pem "
           "2>/dev/null && base64 -w0 ext.pem > ext.b64",
           work);
  CHECK_EQ_INT(it_run(cmd), 0);
  char b64_path[600];
  snprintf(b64_path, sizeof(b64_path), "%s/ext.b64", work);
  size_t b64_len = 0;
  char *b64 = (char *)read_all(b64_path, &b64_len);
  CHECK(b64 != NULL);
  if (b64 == NULL) {
    return;
  }
  char *body = malloc(b64_len + 200);
  CHECK(body != NULL);
  if (body == NULL) {
    free(b64);
    return;
  }
  snprintf(body, b64_len + 200,
           "{\"node\": \"jsonnode.example.com\", \"purpose\": \"tomcat\","
           " \"cluster\": \"jsonc\", \"certificate\": \"%.*s\"}",
           (int)b64_len, b64);
  write_text("identity.json", body, path, sizeof(path));
  free(body);
  free(b64);
  answer a;
  call("POST", "/v1/identities", "-H 'Content-Type: application/json'", path, 0,
       &a);
  CHECK_EQ_INT(a.status, 200);
  CHECK_EQ_STR(a.content_type, "application/json");
  const json_t *identity = json_object_get(a.json, "identity");
  CHECK_EQ_STR(str_at(identity, "node"), "jsonnode.example.com");
  CHECK_EQ_STR(str_at(identity, "purpose"), "tomcat");
  CHECK_EQ_STR(str_at(identity, "cluster"), "jsonc");
  char id[32] = "";
  const char *id_text = str_at(identity, "id");  // int64: a JSON string
  CHECK(id_text != NULL);
  snprintf(id, sizeof(id), "%s", id_text != NULL ? id_text : "0");
  answer_free(&a);
  // Replace (PUT) with the same certificate, in JSON too.
  write_text("replace.json", "{\"description\": \"json replace\"}", path,
             sizeof(path));
  char url[80];
  snprintf(url, sizeof(url), "/v1/identities/%s", id);
  call("PUT", url, "-H 'Content-Type: application/json'", path, 0, &a);
  // No certificate in the body: refused with the codes of protobuf, in JSON.
  CHECK_EQ_INT(a.status, 400);
  CHECK_EQ_STR(str_at(a.json, "code"), "CERTIFICATE_MALFORMED");
  answer_free(&a);
  // A node, then a multi-server request that the registry cannot serve.
  write_text("node.json",
             "{\"cluster\": \"jsonc\", \"fqdn\": \"jsonpub.example.com\","
             " \"product\": \"CUCM\", \"role\": \"publisher\","
             " \"addresses\": [\"10.0.0.7\"]}",
             path, sizeof(path));
  call("POST", "/v1/nodes", "-H 'Content-Type: application/json'", path, 0, &a);
  CHECK_EQ_INT(a.status, 200);
  answer_free(&a);
  call("GET", "/v1/nodes?cluster=jsonc", "-H 'Accept: application/json'", NULL,
       0, &a);
  CHECK_EQ_INT(a.status, 200);
  const json_t *nodes = json_object_get(a.json, "nodes");
  CHECK_EQ_INT(json_array_size(nodes), 1);
  CHECK_EQ_STR(str_at(json_array_get(nodes, 0), "fqdn"), "jsonpub.example.com");
  answer_free(&a);
  write_text(
      "ms.json",
      "{\"cluster\": \"jsonc\", \"profile\": \"tomcat\","
      " \"product\": \"CUCM\", \"subject\": {\"organization\": \"Lab\"}}",
      path, sizeof(path));
  call("POST", "/v1/nodes:multiServer", "-H 'Content-Type: application/json'",
       path, 0, &a);
  // Read as a MultiServerRequest: not refused as a media type.
  CHECK(a.status != 415);
  CHECK(a.json != NULL);
  answer_free(&a);
}

int main(void) {
  it_db_create(&db);
  char dir[512];
  it_tmpdir("json", dir, sizeof(dir));
  it_tmpdir("json-work", work, sizeof(work));
  mkdir(work, 0700);
  if (!it_pkid_start(&pkid, &db, dir, NULL)) {
    it_db_drop(&db);
    return 1;
  }
  RUN(batch_issue_in_json_verifies_with_openssl);
  RUN(find_answers_json_when_accepted);
  RUN(revoke_with_a_json_body_and_errors_in_json);
  RUN(json_refusals_have_stable_codes);
  RUN(accept_chooses_the_answer_format);
  RUN(identities_and_nodes_take_json_bodies);
  CHECK_EQ_INT(it_pkid_stop(&pkid), 0);
  it_db_drop(&db);
  return test_summary();
}
