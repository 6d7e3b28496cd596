// pkictl: the command-line client of pkid, over the protobuf API.
#include <errno.h>
#include <fcntl.h>
#include <openssl/bytestring.h>
#include <openssl/evp.h>
#include <openssl/mem.h>
#include <openssl/nid.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api/cli/pkictl.h"
#include "api/cli/pkictl_json.h"
#include "api/client/client.h"
#include "ca/limits.h"
#include "ca/policy/profile.h"
#include "ca/x509/asn1_time.h"
#include "ca/x509/csr.h"
#include "ca/x509/csr_build.h"
#include "ca/x509/key.h"
#include "ca/x509/name.h"
#include "ca/x509/pem.h"
#include "ca/x509/san.h"
#include "ca/x509/x509.h"
#include "proto/pki.pb-c.h"

// pkictl --help: kUsageHead, the usage of each command of kCommands, then
// kUsageTail.
static const char kUsageHead[] =
    "usage: pkictl [--server URL] [--token T | --token-file F] [--cacert F]\n"
    "              COMMAND [flags]\n"
    "\n";

static const char kUsageTail[] =
    "\n"
    "Global flags, before the command:\n"
    "  --json            print one JSON object on stdout: the API's answer\n"
    "                    (proto3 JSON), the files written, or the error\n"
    "  --server URL      default $PKI_SERVER, else https://127.0.0.1:8443\n"
    "  --token T         default $PKI_TOKEN\n"
    "  --token-file F    the token on the first line of F; default\n"
    "                    $PKI_TOKEN_FILE (keeps the token out of ps)\n"
    "  --cacert F        the CA file https is checked against; default\n"
    "                    $PKI_CACERT, else the system's (pkid's own:\n"
    "                    DATA_DIR/tls/ca.pem)\n";

// The flags of the commands of this file. They share one struct and one
// table: every one of these commands has always accepted all of them.
typedef struct flags {
  const char *profile, *csr, *out, *csr_dir, *out_dir, *cn, *status, *after,
      *format, *o, *ou, *l, *st, *c, *key_type, *issuer;
  // The cluster of the node that will hold the certificates.
  const char *cluster;
  const char *key_out;  // csr
  const char *key;      // csr: an existing private key to use
  unsigned years;       // selfsigned, regenerate
  int parent_domain;    // csr
  pkictl_list sans;
  unsigned days, limit, count;
  int all;
  const char *positional[4];
  int n_positional;
} flags;

// read_ulong reads |text|, a whole decimal number: digits only (no sign,
// no space), not past ULONG_MAX. The one number reader of pkictl's flags.
static int read_ulong(const char *text, unsigned long *out) {
  char *end;
  errno = 0;
  *out = strtoul(text, &end, 10);
  return text[0] >= '0' && text[0] <= '9' && *end == '\0' && errno == 0;
}

// accept_uint stores |n| when |ok|, else prints that |flag| must be |what|.
static int accept_uint(const char *flag, int ok, unsigned long n,
                       const char *what, unsigned *out) {
  if (!ok) {
    fprintf(stderr, "pkictl: %s must be %s\n", flag, what);
    return 0;
  }
  *out = (unsigned)n;
  return 1;
}

// to_positive reads --days and --limit: 1 to 100000.
static int to_positive(const char *flag, const char *text, unsigned *out) {
  unsigned long n;
  const int ok = read_ulong(text, &n) && n >= 1 && n <= 100000;
  return accept_uint(flag, ok, n, "a positive number", out);
}

static int to_count(const char *flag, const char *text, unsigned *out) {
  return pkictl_uint_in(flag, text, 1, 100000, out);
}

// to_years reads the validity of a self-signed identity.
static int to_years(const char *flag, const char *text, unsigned *out) {
  unsigned long n;
  // 15 only for ITLRecovery; the server says so for other profiles.
  const int ok =
      read_ulong(text, &n) && (n == 5 || n == 10 || n == 15 || n == 20);
  return accept_uint(flag, ok, n, "5, 10, 15 or 20", out);
}

static const pkictl_flag kFlags[] = {
    PKICTL_STRING_FLAG("--profile", flags, profile),
    PKICTL_STRING_FLAG("--csr", flags, csr),
    PKICTL_STRING_FLAG("--out", flags, out),
    PKICTL_STRING_FLAG("--csr-dir", flags, csr_dir),
    PKICTL_STRING_FLAG("--out-dir", flags, out_dir),
    PKICTL_STRING_FLAG("--cn", flags, cn),
    PKICTL_STRING_FLAG("--status", flags, status),
    PKICTL_STRING_FLAG("--after", flags, after),
    PKICTL_STRING_FLAG("--format", flags, format),
    PKICTL_STRING_FLAG("--o", flags, o),
    PKICTL_STRING_FLAG("--ou", flags, ou),
    PKICTL_STRING_FLAG("--l", flags, l),
    PKICTL_STRING_FLAG("--st", flags, st),
    PKICTL_STRING_FLAG("--c", flags, c),
    PKICTL_STRING_FLAG("--key-type", flags, key_type),
    PKICTL_STRING_FLAG("--issuer", flags, issuer),
    PKICTL_STRING_FLAG("--cluster", flags, cluster),
    PKICTL_STRING_FLAG("--key-out", flags, key_out),
    PKICTL_STRING_FLAG("--key", flags, key),
    PKICTL_UINT_FLAG("--years", flags, years, to_years),
    PKICTL_LIST_FLAG("--san", flags, sans),
    PKICTL_UINT_FLAG("--count", flags, count, to_count),
    PKICTL_UINT_FLAG("--days", flags, days, to_positive),
    PKICTL_UINT_FLAG("--limit", flags, limit, to_positive),
    PKICTL_BOOL_FLAG("--all", flags, all),
    PKICTL_BOOL_FLAG("--parent-domain", flags, parent_domain),
};

static const pkictl_flag_spec kFlagSpec = {
    kFlags, PKICTL_COUNT(kFlags), sizeof(flags), 4, NULL,
};

static uint8_t *read_file(const char *path, size_t max, size_t *out_len) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    fprintf(stderr, "pkictl: %s: %s\n", path, strerror(errno));
    return NULL;
  }
  uint8_t *buf = malloc(max + 1);
  size_t n = buf != NULL ? fread(buf, 1, max + 1, f) : 0;
  const int failed = buf == NULL || ferror(f);
  fclose(f);
  if (failed || n > max) {
    fprintf(stderr, "pkictl: %s: %s\n", path,
            failed ? "cannot read" : "file too large");
    free(buf);
    return NULL;
  }
  *out_len = n;
  return buf;
}

// write_file writes |data| to |path| through a temporary file and a rename,
// so an interrupted run never leaves a truncated certificate.
static int write_file(const char *path, const uint8_t *data, size_t len) {
  char tmp[4096];
  snprintf(tmp, sizeof(tmp), "%s.tmp%ld", path, (long)getpid());
  FILE *f = fopen(tmp, "wb");
  if (f == NULL) {
    fprintf(stderr, "pkictl: %s: %s\n", tmp, strerror(errno));
    return 0;
  }
  const int ok = fwrite(data, 1, len, f) == len;
  if (fclose(f) != 0 || !ok || rename(tmp, path) != 0) {
    fprintf(stderr, "pkictl: cannot write %s: %s\n", path, strerror(errno));
    unlink(tmp);
    return 0;
  }
  pkictl_json_written(path, len);
  return 1;
}

// issued_pem renders a certificate and its chain as PEM (OPENSSL_free).
static uint8_t *issued_pem(const Pki__V1__IssuedCertificate *c,
                           size_t *out_len) {
  CBB cbb;
  uint8_t *out;
  if (!CBB_init(&cbb, 8192) ||
      !ca_pem_add(&cbb, "CERTIFICATE", c->certificate.data,
                  c->certificate.len)) {
    CBB_cleanup(&cbb);
    return NULL;
  }
  for (size_t i = 0; i < c->n_chain; i++) {
    if (!ca_pem_add(&cbb, "CERTIFICATE", c->chain[i].data, c->chain[i].len)) {
      CBB_cleanup(&cbb);
      return NULL;
    }
  }
  if (!CBB_finish(&cbb, &out, out_len)) {
    CBB_cleanup(&cbb);
    return NULL;
  }
  return out;
}

// cleanse_key_reply overwrites a reply that held a private key, and the
// key decoded from it (|key| may be NULL), before they are freed.
static void cleanse_key_reply(pki_reply *reply, ProtobufCBinaryData *key) {
  if (reply->body != NULL) {
    OPENSSL_cleanse(reply->body, reply->body_len);
  }
  if (key != NULL && key->data != NULL) {
    OPENSSL_cleanse(key->data, key->len);
  }
}

static int report_error(const pki_reply *reply) {
  char text[1024];
  pki_reply_error_text(reply, text, sizeof(text));
  fprintf(stderr, "pkictl: %s\n", text);
  pkictl_json_error(reply);
  return 1;
}

static int cmd_issue(pki_client *client, const flags *f) {
  if (f->profile == NULL || f->csr == NULL) {
    fprintf(stderr, "pkictl issue: --profile and --csr are required\n");
    return 2;
  }
  size_t csr_len;
  uint8_t *csr = read_file(f->csr, 2 * CA_LIMIT_CSR_BYTES, &csr_len);
  if (csr == NULL) {
    return 1;
  }
  Pki__V1__IssueRequest req = PKI__V1__ISSUE_REQUEST__INIT;
  req.profile = (char *)f->profile;
  req.cluster = (char *)(f->cluster != NULL ? f->cluster : "");
  req.csr.data = csr;
  req.csr.len = csr_len;
  req.validity_days = f->days;
  const size_t len = pki__v1__issue_request__get_packed_size(&req);
  uint8_t *body = malloc(len + 1);
  int rc = 1;
  pki_reply reply;
  memset(&reply, 0, sizeof(reply));
  Pki__V1__IssueResponse *resp = NULL;
  uint8_t *pem = NULL;
  size_t pem_len;
  if (body == NULL) {
    goto done;
  }
  pki__v1__issue_request__pack(&req, body);
  if (!pki_client_call(client, "POST", "/v1/certificates:issue",
                       "application/x-protobuf", body, len, &reply)) {
    fprintf(stderr, "pkictl: %s\n", ca_err_get()->message);
    goto done;
  }
  if (reply.status != 200) {
    rc = report_error(&reply);
    goto done;
  }
  resp = pki__v1__issue_response__unpack(NULL, reply.body_len, reply.body);
  pkictl_json_answer((const ProtobufCMessage *)resp);
  if (resp == NULL || resp->certificate == NULL ||
      (pem = issued_pem(resp->certificate, &pem_len)) == NULL) {
    fprintf(stderr, "pkictl: unreadable reply\n");
    goto done;
  }
  if (f->out != NULL) {
    if (!write_file(f->out, pem, pem_len)) {
      goto done;
    }
  } else if (!pkictl_print_body("pem", pem, pem_len)) {
    goto done;
  }
  fprintf(stderr, "issued %s serial %s by %s\n", resp->certificate->profile,
          resp->certificate->serial, resp->certificate->issuer);
  rc = 0;
done:
  OPENSSL_free(pem);
  pki__v1__issue_response__free_unpacked(resp, NULL);
  pki_reply_cleanup(&reply);
  free(body);
  free(csr);
  return rc;
}

static int get_reply(pki_client *client, const char *path, pki_reply *reply) {
  if (!pki_client_call(client, "GET", path, NULL, NULL, 0, reply)) {
    fprintf(stderr, "pkictl: %s\n", ca_err_get()->message);
    return 0;
  }
  if (reply->status != 200) {
    report_error(reply);
    return 0;
  }
  return 1;
}

// add_query appends "&name=value", escaping the value.
static void add_query(char *path, size_t cap, const char *name,
                      const char *value) {
  if (value == NULL) {
    return;
  }
  size_t len = strlen(path);
  int n = snprintf(path + len, cap - len,
                   "%c%s=", strchr(path, '?') ? '&' : '?', name);
  if (n < 0) {
    return;
  }
  len += (size_t)n;
  for (const char *p = value; *p != '\0' && len + 4 < cap; p++) {
    const unsigned char c = (unsigned char)*p;
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
        (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_') {
      path[len++] = (char)c;
    } else {
      len += (size_t)snprintf(path + len, cap - len, "%%%02X", c);
    }
  }
  path[len] = '\0';
}

static int cmd_list(pki_client *client, const flags *f) {
  char cursor[32] = "";
  if (f->after != NULL) {
    snprintf(cursor, sizeof(cursor), "%s", f->after);
  }
  int header = 1;
  for (;;) {
    char path[2048] = "/v1/certificates";
    char limit[16];
    snprintf(limit, sizeof(limit), "%u", f->limit > 0 ? f->limit : 100);
    // "list" is of issued certificates; "find" covers trust entries too.
    add_query(path, sizeof(path), "usage", "identity");
    add_query(path, sizeof(path), "profile", f->profile);
    add_query(path, sizeof(path), "cn", f->cn);
    add_query(path, sizeof(path), "status", f->status);
    add_query(path, sizeof(path), "limit", limit);
    add_query(path, sizeof(path), "after", cursor[0] ? cursor : NULL);
    Pki__V1__ListCertificatesResponse *resp =
        (Pki__V1__ListCertificatesResponse *)pkictl_get_message(
            client, path, &pki__v1__list_certificates_response__descriptor);
    if (resp == NULL) {
      return 1;
    }
    if (header) {
      printf("%-34s %-18s %-8s %-20s %s\n", "SERIAL", "PROFILE", "STATUS",
             "NOT_AFTER", "COMMON_NAME");
      header = 0;
    }
    for (size_t i = 0; i < resp->n_certificates; i++) {
      const Pki__V1__CertificateInfo *c = resp->certificates[i];
      char na[21];
      if (!ca_time_format(c->not_after, na)) {
        snprintf(na, sizeof(na), "?");
      }
      printf("%-34s %-18s %-8s %-20s %s\n", c->serial, c->profile, c->status,
             na, c->common_name);
    }
    snprintf(cursor, sizeof(cursor), "%s", resp->next_after);
    pki__v1__list_certificates_response__free_unpacked(resp, NULL);
    if (!f->all || cursor[0] == '\0') {
      if (cursor[0] != '\0') {
        fprintf(stderr, "more: pkictl list --after %s (or --all)\n", cursor);
      }
      return 0;
    }
  }
}

static int cmd_get(pki_client *client, const flags *f) {
  if (f->n_positional != 1) {
    fprintf(stderr, "pkictl get: SERIAL is required\n");
    return 2;
  }
  char path[512] = "/v1/certificates/";
  const char *serial = f->positional[0];
  for (const char *p = serial; *p != '\0'; p++) {
    if (strchr("0123456789abcdefABCDEF:x", *p) == NULL) {
      fprintf(stderr, "pkictl get: SERIAL must be hexadecimal\n");
      return 2;
    }
  }
  if (strlen(serial) > 128) {
    fprintf(stderr, "pkictl get: SERIAL too long\n");
    return 2;
  }
  strcat(path, serial);
  add_query(path, sizeof(path), "format", f->format);
  pki_reply reply;
  int rc = 1;
  if (get_reply(client, path, &reply)) {
    if (f->out != NULL) {
      rc = write_file(f->out, reply.body, reply.body_len) ? 0 : 1;
    } else {
      rc = pkictl_print_body("body", reply.body, reply.body_len) ? 0 : 1;
    }
  }
  pki_reply_cleanup(&reply);
  return rc;
}

// expand writes |pattern| with every "{n}" replaced by |n| into |out|.
static int expand(const char *pattern, unsigned n, char *out, size_t len) {
  size_t o = 0;
  for (const char *p = pattern; *p != '\0';) {
    if (strncmp(p, "{n}", 3) == 0) {
      const int w = snprintf(out + o, len - o, "%u", n);
      if (w < 0 || (size_t)w >= len - o) {
        return 0;
      }
      o += (size_t)w;
      p += 3;
      continue;
    }
    if (o + 1 >= len) {
      return 0;
    }
    out[o++] = *p++;
  }
  out[o] = '\0';
  return 1;
}

// write_key_file writes a private key: mode 0600 from creation on, and
// never over an existing file.
static int write_key_file(const char *path, const uint8_t *der, size_t len) {
  CBB pem;
  int ok = 0;
  if (!CBB_init(&pem, 2 * len + 128) ||
      !ca_pem_add(&pem, "PRIVATE KEY", der, len)) {
    CBB_cleanup(&pem);
    return 0;
  }
  const int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    fprintf(stderr, "pkictl: %s: %s\n", path, strerror(errno));
  } else {
    ok = write(fd, CBB_data(&pem), CBB_len(&pem)) == (ssize_t)CBB_len(&pem);
    ok = close(fd) == 0 && ok;
    if (!ok) {
      fprintf(stderr, "pkictl: cannot write %s\n", path);
      unlink(path);
    } else {
      pkictl_json_written(path, CBB_len(&pem));
    }
  }
  ca_cbb_cleanse_cleanup(&pem);
  return ok;
}

// keygen_one asks for one key pair and certificate and writes both.
static int keygen_one(pki_client *client, const flags *f, unsigned n) {
  char cn[256];
  char san_text[PKICTL_LIST_MAX][300];
  char *sans[PKICTL_LIST_MAX];
  if (!expand(f->cn, n, cn, sizeof(cn))) {
    fprintf(stderr, "pkictl: --cn too long\n");
    return 0;
  }
  for (size_t i = 0; i < f->sans.n; i++) {
    if (!expand(f->sans.values[i], n, san_text[i], sizeof(san_text[i]))) {
      fprintf(stderr, "pkictl: --san too long\n");
      return 0;
    }
    sans[i] = san_text[i];
  }
  Pki__V1__Subject subject = PKI__V1__SUBJECT__INIT;
  subject.common_name = cn;
  subject.organization = (char *)(f->o != NULL ? f->o : "");
  subject.organizational_unit = (char *)(f->ou != NULL ? f->ou : "");
  subject.locality = (char *)(f->l != NULL ? f->l : "");
  subject.state = (char *)(f->st != NULL ? f->st : "");
  subject.country = (char *)(f->c != NULL ? f->c : "");
  Pki__V1__GenerateKeyRequest req = PKI__V1__GENERATE_KEY_REQUEST__INIT;
  req.profile = (char *)f->profile;
  req.cluster = (char *)(f->cluster != NULL ? f->cluster : "");
  req.subject = &subject;
  req.n_sans = f->sans.n;
  req.sans = sans;
  req.key_type = (char *)(f->key_type != NULL ? f->key_type : "");
  req.validity_days = f->days;
  const size_t len = pki__v1__generate_key_request__get_packed_size(&req);
  uint8_t *body = malloc(len + 1);
  pki_reply reply;
  memset(&reply, 0, sizeof(reply));
  Pki__V1__GenerateKeyResponse *resp = NULL;
  uint8_t *pem = NULL;
  size_t pem_len;
  int ok = 0;
  if (body == NULL) {
    goto done;
  }
  pki__v1__generate_key_request__pack(&req, body);
  if (!pki_client_call(client, "POST", "/v1/keys:generate",
                       "application/x-protobuf", body, len, &reply)) {
    fprintf(stderr, "pkictl: %s\n", ca_err_get()->message);
    goto done;
  }
  if (reply.status != 200) {
    char why[1024];
    pki_reply_error_text(&reply, why, sizeof(why));
    fprintf(stderr, "%s: %s\n", cn, why);
    pkictl_json_error(&reply);
    goto done;
  }
  resp =
      pki__v1__generate_key_response__unpack(NULL, reply.body_len, reply.body);
  if (f->count > 0) {
    pkictl_json_item((const ProtobufCMessage *)resp);
  } else {
    pkictl_json_answer((const ProtobufCMessage *)resp);
  }
  if (resp == NULL || resp->certificate == NULL ||
      (pem = issued_pem(resp->certificate, &pem_len)) == NULL) {
    fprintf(stderr, "pkictl: unreadable reply\n");
    goto done;
  }
  char key_path[4096 + 300], cert_path[4096 + 300];
  snprintf(key_path, sizeof(key_path), "%s/%s.key", f->out_dir, cn);
  snprintf(cert_path, sizeof(cert_path), "%s/%s.pem", f->out_dir, cn);
  ok =
      write_key_file(key_path, resp->private_key.data, resp->private_key.len) &&
      write_file(cert_path, pem, pem_len);
  if (ok) {
    printf("%s: serial %s, key %s\n", cn, resp->certificate->serial,
           resp->key_from_pool ? "from the pool" : "generated on demand");
  }
done:
  cleanse_key_reply(&reply, resp != NULL ? &resp->private_key : NULL);
  pki__v1__generate_key_response__free_unpacked(resp, NULL);
  pki_reply_cleanup(&reply);
  OPENSSL_free(pem);
  free(body);
  return ok;
}

static int cmd_keygen(pki_client *client, const flags *f) {
  if (f->profile == NULL || f->cn == NULL || f->out_dir == NULL) {
    fprintf(stderr,
            "pkictl keygen: --profile, --cn and --out-dir are required\n");
    return 2;
  }
  const unsigned count = f->count > 0 ? f->count : 1;
  if (count > 1 && strstr(f->cn, "{n}") == NULL) {
    fprintf(stderr, "pkictl keygen: with --count, --cn must hold {n}\n");
    return 2;
  }
  if (mkdir(f->out_dir, 0700) != 0 && errno != EEXIST) {
    fprintf(stderr, "pkictl: %s: %s\n", f->out_dir, strerror(errno));
    return 1;
  }
  unsigned failed = 0;
  for (unsigned n = 1; n <= count; n++) {
    failed += !keygen_one(client, f, n);
  }
  printf("%u issued, %u failed\n", count - failed, failed);
  return failed == 0 ? 0 : 1;
}

// serial_path writes "/v1/certificates/SERIAL" plus |suffix|, refusing a
// serial that is not hexadecimal.
static int serial_path(const char *serial, const char *suffix, char *out,
                       size_t len) {
  if (strlen(serial) == 0 || strlen(serial) > 128) {
    fprintf(stderr, "pkictl: bad serial\n");
    return 0;
  }
  for (const char *p = serial; *p != '\0'; p++) {
    if (strchr("0123456789abcdefABCDEF:x", *p) == NULL) {
      fprintf(stderr, "pkictl: SERIAL must be hexadecimal\n");
      return 0;
    }
  }
  snprintf(out, len, "/v1/certificates/%s%s", serial, suffix);
  return 1;
}

static int cmd_unhold(pki_client *client, const flags *f) {
  char path[256];
  if (f->n_positional != 1) {
    fprintf(stderr, "pkictl unhold: SERIAL is required\n");
    return 2;
  }
  if (!serial_path(f->positional[0], ":unhold", path, sizeof(path))) {
    return 2;
  }
  Pki__V1__UnholdRequest req = PKI__V1__UNHOLD_REQUEST__INIT;
  req.issuer = (char *)(f->issuer != NULL ? f->issuer : "");
  return pkictl_post_revocation(client, path, &req.base);
}

static int cmd_crl(pki_client *client, const flags *f) {
  if (f->n_positional != 1 || strlen(f->positional[0]) > 64 ||
      strchr(f->positional[0], '/') != NULL) {
    fprintf(stderr, "pkictl crl: CA is required (see pkictl ca list)\n");
    return 2;
  }
  char path[256] = "";
  snprintf(path, sizeof(path), "/v1/crl/%s", f->positional[0]);
  add_query(path, sizeof(path), "format", f->format);
  return pkictl_download(client, path, f->out);
}

// --- Self-signed identities and CSRs ---

// cert_common_name copies the CN of the DER certificate |der| into |out|.
static int cert_common_name(const uint8_t *der, size_t len, char *out,
                            size_t out_len) {
  ca_x509 cert;
  CBS cn;
  if (!ca_x509_parse(&cert, der, len) || !ca_name_check(&cert.subject, &cn) ||
      CBS_len(&cn) >= out_len) {
    return 0;
  }
  memcpy(out, CBS_data(&cn), CBS_len(&cn));
  out[CBS_len(&cn)] = '\0';
  // The CN names a file: refuse what would leave the directory.
  return strchr(out, '/') == NULL && strcmp(out, ".") != 0 &&
         strcmp(out, "..") != 0;
}

// post_self_signed sends |msg| to |path| and writes the key and the
// certificate of the SelfSignedResponse into |out_dir| as <cn>.key and
// <cn>.pem.
static int post_self_signed(pki_client *client, const char *path,
                            const ProtobufCMessage *msg, const char *out_dir) {
  const size_t len = protobuf_c_message_get_packed_size(msg);
  uint8_t *body = malloc(len + 1);
  pki_reply reply;
  memset(&reply, 0, sizeof(reply));
  Pki__V1__SelfSignedResponse *resp = NULL;
  uint8_t *pem = NULL;
  size_t pem_len;
  int rc = 1;
  if (body == NULL) {
    goto done;
  }
  protobuf_c_message_pack(msg, body);
  if (!pki_client_call(client, "POST", path, "application/x-protobuf", body,
                       len, &reply)) {
    fprintf(stderr, "pkictl: %s\n", ca_err_get()->message);
    goto done;
  }
  if (reply.status != 200) {
    rc = report_error(&reply);
    goto done;
  }
  resp =
      pki__v1__self_signed_response__unpack(NULL, reply.body_len, reply.body);
  pkictl_json_answer((const ProtobufCMessage *)resp);
  char cn[CA_LIMIT_CN_LEN + 1];
  if (resp == NULL || resp->certificate == NULL ||
      !cert_common_name(resp->certificate->certificate.data,
                        resp->certificate->certificate.len, cn, sizeof(cn)) ||
      (pem = issued_pem(resp->certificate, &pem_len)) == NULL) {
    fprintf(stderr, "pkictl: unreadable reply\n");
    goto done;
  }
  char key_path[4096 + 80], cert_path[4096 + 80];
  snprintf(key_path, sizeof(key_path), "%s/%s.key", out_dir, cn);
  snprintf(cert_path, sizeof(cert_path), "%s/%s.pem", out_dir, cn);
  if (write_key_file(key_path, resp->private_key.data, resp->private_key.len) &&
      write_file(cert_path, pem, pem_len)) {
    printf("%s: serial %s, self-signed, key %s\n", cn,
           resp->certificate->serial,
           resp->key_from_pool ? "from the pool" : "generated on demand");
    if (resp->replaces[0] != '\0') {
      printf("replaces %s\n", resp->replaces);
    }
    rc = 0;
  }
done:
  cleanse_key_reply(&reply, resp != NULL ? &resp->private_key : NULL);
  pki__v1__self_signed_response__free_unpacked(resp, NULL);
  pki_reply_cleanup(&reply);
  OPENSSL_free(pem);
  free(body);
  return rc;
}

static int make_out_dir(const char *dir) {
  if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
    fprintf(stderr, "pkictl: %s: %s\n", dir, strerror(errno));
    return 0;
  }
  return 1;
}

static int cmd_selfsigned(pki_client *client, const flags *f) {
  if (f->profile == NULL || f->cn == NULL || f->out_dir == NULL) {
    fprintf(stderr,
            "pkictl selfsigned: --profile, --cn and --out-dir are required\n");
    return 2;
  }
  if (!make_out_dir(f->out_dir)) {
    return 1;
  }
  Pki__V1__Subject subject = PKI__V1__SUBJECT__INIT;
  subject.common_name = (char *)f->cn;
  subject.organization = (char *)(f->o != NULL ? f->o : "");
  subject.organizational_unit = (char *)(f->ou != NULL ? f->ou : "");
  subject.locality = (char *)(f->l != NULL ? f->l : "");
  subject.state = (char *)(f->st != NULL ? f->st : "");
  subject.country = (char *)(f->c != NULL ? f->c : "");
  Pki__V1__SelfSignedRequest req = PKI__V1__SELF_SIGNED_REQUEST__INIT;
  req.profile = (char *)f->profile;
  req.subject = &subject;
  req.n_sans = f->sans.n;
  req.sans = (char **)f->sans.values;
  req.key_type = (char *)(f->key_type != NULL ? f->key_type : "");
  req.validity_years = f->years;
  req.cluster = (char *)(f->cluster != NULL ? f->cluster : "");
  return post_self_signed(client, "/v1/self-signed", &req.base, f->out_dir);
}

static int cmd_regenerate(pki_client *client, const flags *f) {
  char path[256];
  if (f->n_positional != 1 || f->out_dir == NULL) {
    fprintf(stderr, "pkictl regenerate: SERIAL and --out-dir are required\n");
    return 2;
  }
  if (!serial_path(f->positional[0], ":regenerate", path, sizeof(path))) {
    return 2;
  }
  if (!make_out_dir(f->out_dir)) {
    return 1;
  }
  Pki__V1__RegenerateRequest req = PKI__V1__REGENERATE_REQUEST__INIT;
  req.validity_years = f->years;
  req.key_type = (char *)(f->key_type != NULL ? f->key_type : "");
  return post_self_signed(client, path, &req.base, f->out_dir);
}

// csr_sans lists the dNSNames of a node's CSR: the FQDN first, then the
// names given, then (with --parent-domain) the FQDN's parent domain, as
// CUCM's multi-server option adds it.
static size_t csr_sans(const flags *f, const char **out) {
  size_t n = 0;
  out[n++] = f->cn;
  for (size_t i = 0; i < f->sans.n && n < PKICTL_LIST_MAX; i++) {
    const char *s = f->sans.values[i];
    const char *bare = strncmp(s, "DNS:", 4) == 0 ? s + 4 : s;
    if (strcasecmp(bare, f->cn) != 0) {
      out[n++] = s;
    }
  }
  const char *dot = strchr(f->cn, '.');
  if (f->parent_domain && dot != NULL && n < PKICTL_LIST_MAX) {
    out[n++] = dot + 1;
  }
  return n;
}

// check_csr applies to the request |der| the checks pki makes of a CSR for
// |profile|: subject, SANs with the CN among them, one host unless the
// profile allows several.
static int check_csr(const ca_profile *profile, const uint8_t *der,
                     size_t len) {
  ca_csr csr;
  memset(&csr, 0, sizeof(csr));
  ca_san_list *sans = malloc(sizeof(*sans));
  CBS cn;
  int ok = sans != NULL && ca_csr_parse(&csr, der, len) &&
           ca_name_check(&csr.subject, &cn) && csr.has_san &&
           ca_san_parse(sans, &csr.san) && ca_san_require_cn(sans, &cn) &&
           (profile->multi_host || ca_san_require_single_host(sans, &cn)) &&
           ca_csr_verify(&csr);
  ca_csr_cleanup(&csr);
  free(sans);
  return ok;
}

// csr_key is the key of pkictl csr: the one of --key FILE (an existing
// key, as CiscoCertUtil can reuse one), or a new one of --key-type or the
// profile's default. It must suit the profile; RSA-1024 is left to the CA
// to accept (pkid --allow-rsa1024). NULL with a message printed.
static EVP_PKEY *csr_key(const ca_profile *profile, const flags *f) {
  ca_profile relaxed = *profile;
  relaxed.keys |= profile->key_type == CA_KEY_RSA ? CA_RSA_1024 : 0;
  EVP_PKEY *key = NULL;
  ca_key_info have;
  if (f->key != NULL) {
    size_t len;
    uint8_t *text = read_file(f->key, 64 * 1024, &len);
    if (text == NULL) {
      return NULL;
    }
    key = ca_key_parse_pem(text, len);
    OPENSSL_cleanse(text, len);
    free(text);
    if (key == NULL || !ca_key_info_from_pkey(key, &have) ||
        !ca_profile_check_key(&relaxed, &have)) {
      fprintf(stderr, "pkictl: %s: %s\n", f->key, ca_err_get()->message);
      EVP_PKEY_free(key);
      return NULL;
    }
    return key;
  }
  ca_key_spec spec;
  if (!ca_key_spec_parse(&spec, f->key_type != NULL ? f->key_type
                                : profile->key_type == CA_KEY_EC
                                    ? "EC-P256"
                                    : "RSA-2048")) {
    fprintf(stderr, "pkictl: %s\n", ca_err_get()->message);
    return NULL;
  }
  const ca_key_info want = {spec.type,
                            spec.type == CA_KEY_RSA           ? spec.rsa_bits
                            : spec.curve_nid == NID_secp384r1 ? 384
                                                              : 256,
                            spec.curve_nid};
  if (!ca_profile_check_key(&relaxed, &want)) {
    fprintf(stderr, "pkictl: %s\n", ca_err_get()->message);
    return NULL;
  }
  key = ca_key_generate(&spec);
  if (key == NULL) {
    fprintf(stderr, "pkictl: %s\n", ca_err_get()->message);
  }
  return key;
}

// csr_json describes, for --json, the CSR cmd_csr made.
static void csr_json(const ca_profile *profile, const flags *f,
                     const EVP_PKEY *key, const char **sans, size_t n_sans) {
  pkictl_json_string("csr", f->out);
  pkictl_json_string("key", f->key != NULL ? f->key : f->key_out);
  pkictl_json_bool("keyReused", f->key != NULL);
  pkictl_json_string("profile", profile->name);
  pkictl_json_string("commonName", f->cn);
  pkictl_json_strings("sans", sans, n_sans);
  pkictl_json_string("keyType",
                     EVP_PKEY_id(key) == EVP_PKEY_RSA ? "RSA" : "EC");
  pkictl_json_int("keyBits", EVP_PKEY_bits(key));
}

static int cmd_csr(pki_client *client, const flags *f) {
  (void)client;  // local: no server
  // --key reuses a key, which therefore is not written again: --key-out
  // is for a new one.
  if (f->profile == NULL || f->cn == NULL || f->out == NULL ||
      (f->key == NULL) == (f->key_out == NULL) ||
      (f->key != NULL && f->key_type != NULL)) {
    fprintf(stderr,
            "pkictl csr: --profile, --cn, --out and either --key-out (a new "
            "key) or --key (an existing one, without --key-type) are "
            "required\n");
    return 2;
  }
  // The parent domain of host.example.com is example.com; a name of two
  // labels has none worth naming (a top-level domain is no host's).
  const char *dot = strchr(f->cn, '.');
  if (f->parent_domain && (dot == NULL || strchr(dot + 1, '.') == NULL)) {
    fprintf(stderr,
            "pkictl csr: --parent-domain needs a --cn of at least "
            "three labels (host.example.com)\n");
    return 2;
  }
  ca_profile_table profiles;
  ca_profile_table_init(&profiles);
  const ca_profile *profile = ca_profile_find(&profiles, f->profile);
  if (profile == NULL) {
    fprintf(stderr, "pkictl: %s\n", ca_err_get()->message);
    return 2;
  }
  const char *sans[PKICTL_LIST_MAX];
  const size_t n_sans = csr_sans(f, sans);
  // OU only when given: CUCM 14 omits it.
  const ca_name_fields subject = {
      .country = f->c,
      .state = f->st,
      .locality = f->l,
      .organization = f->o,
      .organizational_unit = f->ou,
      .common_name = f->cn,
  };
  const ca_csr_template tmpl = {
      .subject = &subject,
      .sans = sans,
      .san_count = n_sans,
      .key_usage = profile->key_usage,
      .ext_key_usage = profile->ext_key_usage,
  };
  uint8_t *der = NULL, *pem = NULL;
  size_t der_len = 0, pem_len;
  CBB cbb;
  CBB_zero(&cbb);
  int rc = 1;
  EVP_PKEY *key = csr_key(profile, f);
  if (key == NULL) {
    return 2;
  }
  if (!ca_csr_build(&tmpl, key, &der, &der_len) ||
      !check_csr(profile, der, der_len)) {
    fprintf(stderr, "pkictl: %s\n", ca_err_get()->message);
    goto done;
  }
  if (!CBB_init(&cbb, 2 * der_len + 128) ||
      !ca_pem_add(&cbb, "CERTIFICATE REQUEST", der, der_len) ||
      !CBB_finish(&cbb, &pem, &pem_len)) {
    fprintf(stderr, "pkictl: out of memory\n");
    goto done;
  }
  // The key first: a CSR whose key could not be kept is useless.
  if (f->key_out != NULL && !ca_key_write_file(f->key_out, key, NULL)) {
    fprintf(stderr, "pkictl: %s\n", ca_err_get()->message);
    goto done;
  }
  struct stat key_st;
  if (f->key_out != NULL && stat(f->key_out, &key_st) == 0) {
    pkictl_json_written(f->key_out, (size_t)key_st.st_size);
  }
  if (!write_file(f->out, pem, pem_len)) {
    if (f->key_out != NULL) {
      unlink(f->key_out);
    }
    goto done;
  }
  printf("%s: %s request for %s, key %s%s\n", f->out, profile->name, f->cn,
         f->key != NULL ? f->key : f->key_out,
         f->key != NULL ? " (reused)" : "");
  csr_json(profile, f, key, sans, n_sans);
  rc = 0;
done:
  CBB_cleanup(&cbb);
  EVP_PKEY_free(key);
  OPENSSL_free(der);
  OPENSSL_free(pem);
  return rc;
}

static int cmd_ca_list(pki_client *client, const flags *f) {
  (void)f;  // it takes no flags, and ignores any given
  Pki__V1__ListCasResponse *resp =
      (Pki__V1__ListCasResponse *)pkictl_get_message(
          client, "/v1/ca", &pki__v1__list_cas_response__descriptor);
  if (resp == NULL) {
    return 1;
  }
  printf("%-12s %-8s %-9s %-20s %s\n", "NAME", "ROLE", "ALGORITHM", "NOT_AFTER",
         "SUBJECT");
  for (size_t i = 0; i < resp->n_cas; i++) {
    const Pki__V1__CaInfo *c = resp->cas[i];
    char na[21];
    if (!ca_time_format(c->not_after, na)) {
      snprintf(na, sizeof(na), "?");
    }
    printf("%-12s %-8s %-9s %-20s %s\n", c->name, c->role, c->algorithm, na,
           c->subject);
  }
  pki__v1__list_cas_response__free_unpacked(resp, NULL);
  return 0;
}

// --- Expiry monitor (pkictl monitor ...) ---

static const char kMonitorUsage[] =
    "usage: pkictl monitor COMMAND\n"
    "  show\n"
    "      the expiry monitor's configuration\n"
    "  set [--enabled true|false] [--start-days N] [--frequency 12h|1d|7d]\n"
    "      [--email ADDRESS]... [--no-emails] [--webhook URL]...\n"
    "      [--webhook-allow-private URL]... [--no-webhooks]\n"
    "      [--smtp-host HOST] [--smtp-port PORT] [--smtp-from ADDRESS]\n"
    "      change it; --email (--webhook, --webhook-allow-private) given\n"
    "      replaces the list, --no-emails (--no-webhooks) empties it; what\n"
    "      is not given stays (stored webhooks are kept whole)\n"
    "      webhooks: http:// or https:// URLs, no backslash; never a\n"
    "      link-local address (169.254.0.0/16, fe80::/10) nor pkid's own API\n"
    "      or OCSP listener; a loopback or private address (127.0.0.0/8,\n"
    "      10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10, ::1,\n"
    "      fc00::/7, localhost) only with --webhook-allow-private URL, which\n"
    "      sets that webhook's allow_private opt-in (admins). Host names are\n"
    "      checked on each address pkid connects to\n"
    "      show prints webhooks redacted, as scheme://host[:port]/ and "
    "\"\u2026\"\n"
    "      when the URL holds more (user, path, query); only admins see\n"
    "      destinations\n"
    "  expiring [--days N]\n"
    "      certificates (issued and trust-store) that expire within N days\n"
    "      (default 30) or expired in the last 30 days, soonest first\n"
    "  check\n"
    "      run one check now: send the notices due; exit 1 if one failed\n";

// monitor_call sends |msg| (NULL: no body) and returns the 200 reply in
// |reply|, or 0 after printing the error.
static int monitor_call(pki_client *client, const char *method,
                        const char *path, const ProtobufCMessage *msg,
                        pki_reply *reply) {
  uint8_t *body = NULL;
  size_t len = 0;
  memset(reply, 0, sizeof(*reply));
  if (msg != NULL) {
    len = protobuf_c_message_get_packed_size(msg);
    body = malloc(len + 1);
    if (body == NULL) {
      fprintf(stderr, "pkictl: out of memory\n");
      return 0;
    }
    protobuf_c_message_pack(msg, body);
  }
  const int ok = pki_client_call(client, method, path,
                                 msg != NULL ? "application/x-protobuf" : NULL,
                                 body, len, reply);
  free(body);
  if (!ok) {
    fprintf(stderr, "pkictl: %s\n", ca_err_get()->message);
    return 0;
  }
  if (reply->status != 200) {
    report_error(reply);
    pki_reply_cleanup(reply);
    return 0;
  }
  return 1;
}

int pkictl_write_key(const char *path, const uint8_t *der, size_t len) {
  return write_key_file(path, der, len);
}

// print_text_reply prints what GET |path| answers with ?format=text in it;
// with --json, the API's answer instead: the same path without
// format=text, a |desc| message.
static int print_text_reply(pki_client *client, const char *path,
                            const ProtobufCMessageDescriptor *desc) {
  if (!pkictl_json_on()) {
    return pkictl_print_call(client, "GET", path);
  }
  char proto_path[128];
  const char *format = strstr(path, "format=text");
  if (format == NULL || strlen(path) >= sizeof(proto_path)) {
    fprintf(stderr, "pkictl: cannot ask %s for JSON\n", path);
    return 1;
  }
  const char *rest = format + strlen("format=text");
  rest += *rest == '&';
  snprintf(proto_path, sizeof(proto_path), "%.*s%s", (int)(format - path), path,
           rest);
  const size_t n = strlen(proto_path);
  if (n > 0 && proto_path[n - 1] == '?') {
    proto_path[n - 1] = '\0';
  }
  pki_reply reply;
  if (!monitor_call(client, "GET", proto_path, NULL, &reply)) {
    return 1;
  }
  ProtobufCMessage *msg =
      protobuf_c_message_unpack(desc, NULL, reply.body_len, reply.body);
  pki_reply_cleanup(&reply);
  if (msg == NULL) {
    fprintf(stderr, "pkictl: unreadable reply\n");
    return 1;
  }
  pkictl_json_answer(msg);
  protobuf_c_message_free_unpacked(msg, NULL);
  return 0;
}

int pkictl_print_call(pki_client *client, const char *method,
                      const char *path) {
  pki_reply reply;
  if (!monitor_call(client, method, path, NULL, &reply)) {
    return 1;
  }
  const int rc = !pkictl_print_body("text", reply.body, reply.body_len);
  pki_reply_cleanup(&reply);
  return rc;
}

static int monitor_number(const char *flag, const char *text, unsigned long max,
                          uint32_t *out) {
  unsigned long v;
  if (!read_ulong(text, &v) || v > max) {
    fprintf(stderr, "pkictl: %s must be a number up to %lu\n", flag, max);
    return 0;
  }
  *out = (uint32_t)v;
  return 1;
}

// The flags of pkictl monitor set. A repeated flag (--email) given replaces
// the whole list; --no-emails (--no-webhooks) empties it.
typedef struct monitor_flags {
  const char *enabled, *start_days, *frequency, *smtp_host, *smtp_port,
      *smtp_from;
  int no_emails, no_webhooks;
  pkictl_list emails, webhooks;
  pkictl_list private_webhooks;  // --webhook-allow-private
  // Read from start_days and smtp_port by monitor_flags_check.
  uint32_t start_days_value, smtp_port_value;
} monitor_flags;

static const pkictl_flag kMonitorFlags[] = {
    PKICTL_STRING_FLAG("--enabled", monitor_flags, enabled),
    PKICTL_STRING_FLAG("--start-days", monitor_flags, start_days),
    PKICTL_STRING_FLAG("--frequency", monitor_flags, frequency),
    PKICTL_LIST_FLAG("--email", monitor_flags, emails),
    PKICTL_BOOL_FLAG("--no-emails", monitor_flags, no_emails),
    PKICTL_LIST_FLAG("--webhook", monitor_flags, webhooks),
    PKICTL_LIST_FLAG("--webhook-allow-private", monitor_flags,
                     private_webhooks),
    PKICTL_BOOL_FLAG("--no-webhooks", monitor_flags, no_webhooks),
    PKICTL_STRING_FLAG("--smtp-host", monitor_flags, smtp_host),
    PKICTL_STRING_FLAG("--smtp-port", monitor_flags, smtp_port),
    PKICTL_STRING_FLAG("--smtp-from", monitor_flags, smtp_from),
};

static const pkictl_flag_spec kMonitorSpec = {
    kMonitorFlags, PKICTL_COUNT(kMonitorFlags), sizeof(monitor_flags), 0,
    kMonitorUsage,
};

// monitor_flags_check refuses the values pkid would refuse anyway, before
// anything is read from it.
static int monitor_flags_check(monitor_flags *m) {
  if (m->enabled != NULL && strcmp(m->enabled, "true") != 0 &&
      strcmp(m->enabled, "false") != 0) {
    fprintf(stderr, "pkictl: --enabled must be true or false\n");
    return 0;
  }
  if ((m->start_days != NULL &&
       !monitor_number("--start-days", m->start_days, 100000,
                       &m->start_days_value)) ||
      (m->smtp_port != NULL && !monitor_number("--smtp-port", m->smtp_port,
                                               65535, &m->smtp_port_value))) {
    return 0;
  }
  if (m->emails.n > CA_LIMIT_MONITOR_DESTINATIONS) {
    fprintf(stderr, "pkictl: at most %d of --email\n",
            CA_LIMIT_MONITOR_DESTINATIONS);
    return 0;
  }
  if (m->webhooks.n + m->private_webhooks.n > CA_LIMIT_MONITOR_DESTINATIONS) {
    fprintf(stderr,
            "pkictl: at most %d of --webhook and --webhook-allow-private\n",
            CA_LIMIT_MONITOR_DESTINATIONS);
    return 0;
  }
  return 1;
}

// monitor_apply sets on |c| what |m| gives. |opted| (of
// CA_LIMIT_MONITOR_DESTINATIONS) holds the --webhook-allow-private
// destinations, |opted_ptrs| points at them. The strings set point into
// argv: the caller puts |c|'s own back before freeing it.
static void monitor_apply(const monitor_flags *m, Pki__V1__MonitorConfig *c,
                          Pki__V1__WebhookDestination *opted,
                          Pki__V1__WebhookDestination **opted_ptrs) {
  if (m->enabled != NULL) {
    c->enabled = strcmp(m->enabled, "true") == 0;
  }
  if (m->start_days != NULL) {
    c->start_days = m->start_days_value;
  }
  if (m->smtp_port != NULL) {
    c->smtp_port = m->smtp_port_value;
  }
  c->frequency = m->frequency != NULL ? (char *)m->frequency : c->frequency;
  c->smtp_host = m->smtp_host != NULL ? (char *)m->smtp_host : c->smtp_host;
  c->smtp_from = m->smtp_from != NULL ? (char *)m->smtp_from : c->smtp_from;
  if (m->no_emails || m->emails.n > 0) {
    c->emails = (char **)m->emails.values;
    c->n_emails = m->emails.n;
  }
  if (!m->no_webhooks && m->webhooks.n == 0 && m->private_webhooks.n == 0) {
    // What was read is redacted; pkid keeps the whole URLs it stores.
    c->n_webhooks = 0;
    c->n_webhook_destinations = 0;
    c->keep_webhooks = 1;
    return;
  }
  for (size_t i = 0; i < m->private_webhooks.n; i++) {
    pki__v1__webhook_destination__init(&opted[i]);
    opted[i].url = (char *)m->private_webhooks.values[i];
    opted[i].allow_private = 1;
    opted_ptrs[i] = &opted[i];
  }
  c->webhooks = (char **)m->webhooks.values;
  c->n_webhooks = m->webhooks.n;
  c->webhook_destinations = opted_ptrs;
  c->n_webhook_destinations = m->private_webhooks.n;
  c->keep_webhooks = 0;
}

// monitor_set reads the configuration, applies the flags and writes it back.
// The webhooks it read are redacted: unless the flags replace them, it asks
// pkid to keep the stored ones (keep_webhooks).
static int monitor_set(pki_client *client, int argc, char **argv) {
  monitor_flags m;
  int n_positional;
  if (!pkictl_parse_flags(&kMonitorSpec, argc, argv, &m, NULL, &n_positional) ||
      !monitor_flags_check(&m)) {
    return 1;
  }
  pki_reply reply;
  if (!monitor_call(client, "GET", "/v1/monitor", NULL, &reply)) {
    return 1;
  }
  Pki__V1__MonitorConfig *c =
      pki__v1__monitor_config__unpack(NULL, reply.body_len, reply.body);
  pki_reply_cleanup(&reply);
  if (c == NULL) {
    fprintf(stderr, "pkictl: unreadable reply\n");
    return 1;
  }
  // The unpacked message keeps its own strings; monitor_apply points some
  // into argv, and they are put back before it is freed.
  const Pki__V1__MonitorConfig saved = *c;
  Pki__V1__WebhookDestination opted[CA_LIMIT_MONITOR_DESTINATIONS];
  Pki__V1__WebhookDestination *opted_ptrs[CA_LIMIT_MONITOR_DESTINATIONS];
  monitor_apply(&m, c, opted, opted_ptrs);
  int rc = 1;
  if (monitor_call(client, "PUT", "/v1/monitor", &c->base, &reply)) {
    pki_reply_cleanup(&reply);
    rc = print_text_reply(client, "/v1/monitor?format=text",
                          &pki__v1__monitor_config__descriptor);
  }
  *c = saved;
  pki__v1__monitor_config__free_unpacked(c, NULL);
  return rc;
}

static int monitor_check(pki_client *client) {
  pki_reply reply;
  if (!monitor_call(client, "POST", "/v1/monitor:check", NULL, &reply)) {
    return 1;
  }
  Pki__V1__MonitorCheckResponse *r =
      pki__v1__monitor_check_response__unpack(NULL, reply.body_len, reply.body);
  pkictl_json_answer((const ProtobufCMessage *)r);
  pki_reply_cleanup(&reply);
  if (r == NULL) {
    fprintf(stderr, "pkictl: unreadable reply\n");
    return 1;
  }
  printf(
      "%s; window %llu: %u due, %u notices sent, %u sent before, %u "
      "failed (%u messages sent, %u failed)\n",
      r->enabled ? "enabled" : "disabled", (unsigned long long)r->window,
      r->due, r->notified, r->already_notified, r->failed, r->messages_sent,
      r->messages_failed);
  for (size_t i = 0; i < r->n_errors; i++) {
    fprintf(stderr, "failed: %s\n", r->errors[i]);
  }
  const int rc = r->failed > 0;
  pki__v1__monitor_check_response__free_unpacked(r, NULL);
  return rc;
}

// How pkictl reaches pkid: --token, --token-file, --cacert or their
// environment variables, read once in main.
static struct {
  char token[128];
  const char *cacert;
} g_auth;

// connect_server returns a client of |server| with the credentials of
// g_auth, or NULL.
static pki_client *connect_server(const char *server) {
  pki_client *client = pki_client_new(server);
  if (client != NULL &&
      !pki_client_set_auth(client,
                           g_auth.token[0] != '\0' ? g_auth.token : NULL,
                           g_auth.cacert)) {
    pki_client_free(client);
    return NULL;
  }
  return client;
}

// load_token sets g_auth.token from |token|, else the first line of
// |token_file|; neither is an empty token.
static int load_token(const char *token, const char *token_file) {
  if (token != NULL) {
    snprintf(g_auth.token, sizeof(g_auth.token), "%s", token);
    return 1;
  }
  if (token_file == NULL) {
    return 1;
  }
  FILE *f = fopen(token_file, "r");
  if (f == NULL || fgets(g_auth.token, sizeof(g_auth.token), f) == NULL) {
    fprintf(stderr, "pkictl: cannot read the token file %s\n", token_file);
    if (f != NULL) {
      fclose(f);
    }
    return 0;
  }
  fclose(f);
  g_auth.token[strcspn(g_auth.token, "\r\n")] = '\0';
  return 1;
}

// cmd_monitor runs "pkictl monitor ..." with the arguments after "monitor".
static int cmd_monitor(pki_client *client, int argc, char **argv) {
  if (argc < 1 || strcmp(argv[0], "--help") == 0) {
    fputs(kMonitorUsage, argc < 1 ? stderr : stdout);
    return argc < 1 ? 2 : 0;
  }
  const char *sub = argv[0];
  char path[64] = "/v1/monitor/expiring?format=text";
  if (strcmp(sub, "expiring") == 0 && argc > 1) {
    uint32_t days;
    if (argc != 3 || strcmp(argv[1], "--days") != 0 ||
        !monitor_number("--days", argv[2], 3650, &days)) {
      fprintf(stderr, "pkictl: usage: pkictl monitor expiring [--days N]\n");
      return 2;
    }
    snprintf(path, sizeof(path), "/v1/monitor/expiring?format=text&days=%u",
             (unsigned)days);
  } else if (strcmp(sub, "set") != 0 && argc > 1) {
    fprintf(stderr, "pkictl: too many arguments\n%s", kMonitorUsage);
    return 2;
  }
  if (strcmp(sub, "show") == 0) {
    return print_text_reply(client, "/v1/monitor?format=text",
                            &pki__v1__monitor_config__descriptor);
  }
  if (strcmp(sub, "set") == 0) {
    return monitor_set(client, argc - 1, argv + 1);
  }
  if (strcmp(sub, "expiring") == 0) {
    return print_text_reply(client, path,
                            &pki__v1__expiring_response__descriptor);
  }
  if (strcmp(sub, "check") == 0) {
    return monitor_check(client);
  }
  fprintf(stderr, "pkictl: unknown command monitor %s\n%s", sub, kMonitorUsage);
  return 2;
}

// One command of pkictl: what main dispatches through and --help prints.
typedef struct command {
  const char *name;
  const char *sub;  // the one subcommand it takes ("ca list"), or NULL
  // A command of this file: its arguments are read by |spec| before pkictl
  // connects, then |run| gets them.
  const pkictl_flag_spec *spec;
  int (*run)(pki_client *client, const flags *f);
  // A family of subcommands: gets the arguments after its name and reads
  // them by its own table.
  int (*run_family)(pki_client *client, int argc, char **argv);
  const char *usage;  // its lines of pkictl --help
} command;

static const command kCommands[] = {
    {"issue", NULL, &kFlagSpec, cmd_issue, NULL,
     "  issue --profile P --csr FILE [--out FILE] [--days N] [--cluster C]\n"
     "      issue one certificate; writes it and its chain (PEM) to --out or\n"
     "      stdout\n"},
    {"batch", NULL, NULL, NULL, pkictl_batch,
     "  batch --profile P --csr-dir DIR --out-dir DIR [--days N]\n"
     "        [--cluster C] [--parallel N] [--batch-size N]\n"
     "        [--max-wait SECONDS] [--json]\n"
     "      issue a certificate for every CSR file in DIR, N requests in\n"
     "      flight (default 4) of up to --batch-size CSRs (default 1000);\n"
     "      writes <csr-name>.pem (certificate, then chain) atomically and\n"
     "      skips a CSR whose .pem is already there; retries 503s and\n"
     "      connection failures for up to --max-wait (default 300 s);\n"
     "      exit 1 if any failed\n"},
    {"list", NULL, &kFlagSpec, cmd_list, NULL,
     "  list [--profile P] [--cn TEXT] [--status good|revoked] [--limit N]\n"
     "       [--after CURSOR] [--all]\n"
     "      list issued certificates\n"},
    {"get", NULL, &kFlagSpec, cmd_get, NULL,
     "  get SERIAL [--format pem|der|p7b|p7b-pem] [--out FILE]\n"
     "      download one certificate\n"},
    {"ca", "list", &kFlagSpec, cmd_ca_list, NULL,
     "  ca list\n"
     "      list pki's CAs\n"},
    {"revoke", NULL, NULL, NULL, pkictl_revoke,
     "  revoke SERIAL --reason R [--issuer CA] [--time UNIX_SECONDS]\n"
     "      revoke a certificate; R is an RFC 5280 reason name or code\n"
     "      (keyCompromise, superseded, cessationOfOperation,\n"
     "      certificateHold, ...). Only certificateHold can be lifted\n"
     "  revoke --serials-file FILE --reason R [--issuer CA] [--dry-run]\n"
     "      revoke the serials of FILE, one a line, optionally followed by\n"
     "      the issuing CA's name; sent in batches of --batch-items N\n"
     "      (default 10000, pkid's --max-batch-items), --parallel P at once\n"
     "      (default 2)\n"
     "  revoke --select --reason R [--cluster C] [--profile P] [--cn TEXT]\n"
     "         [--issued-before DATE] [--issued-after DATE] [--dry-run]\n"
     "      revoke every good certificate pki issued that the filters find\n"
     "      (as find's; the issue date is notBefore); --dry-run prints how\n"
     "      many. Both print: revoked, already revoked, refused by reason\n"},
    {"unhold", NULL, &kFlagSpec, cmd_unhold, NULL,
     "  unhold SERIAL [--issuer CA]\n"
     "      lift a certificateHold\n"},
    {"crl", NULL, &kFlagSpec, cmd_crl, NULL,
     "  crl CA [--format der|pem] [--out FILE]\n"
     "      download the current CRL of a CA\n"},
    {"keygen", NULL, &kFlagSpec, cmd_keygen, NULL,
     "  keygen --profile P --cn NAME [--o ORG] [--ou UNIT] [--l CITY]\n"
     "         [--st STATE] [--c CC] [--san NAME]... [--key-type T]\n"
     "         [--days N] [--count N] [--cluster C] --out-dir DIR\n"
     "      have pki generate a key pair and issue its certificate; writes\n"
     "      DIR/<cn>.key (PKCS#8, mode 0600) and DIR/<cn>.pem (certificate\n"
     "      and chain). With --count N, \"{n}\" in --cn and --san takes\n"
     "      the values 1 to N (lab provisioning)\n"},
    {"find", NULL, NULL, NULL, pkictl_find,
     "  find [--cn TEXT] [--profile P] [--usage identity|trust|external]\n"
     "       [--key-type RSA|EC] [--key-bits N] [--status good|revoked]\n"
     "       [--store S] [--cluster C] [--expires-before DATE]\n"
     "       [--expires-after DATE] [--limit N] [--after CURSOR] [--all]\n"
     "       [--revocation STATUS]\n"
     "      find certificates, issued and in trust stores, soonest expiry\n"
     "      first; DATE is YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or Unix seconds\n"},
    {"trust", NULL, NULL, NULL, pkictl_trust,
     "  trust list [STORE] [--revocation STATUS]\n"
     "      STATUS: good, revoked, unknown, unreachable, anchor, unchecked\n"
     "  trust add STORE FILE [--force] [--description TEXT]\n"
     "      upload a PEM, DER or PKCS#7 file of CA or leaf certificates\n"
     "      (a chain's leaf given with its CA is skipped); --force stores\n"
     "      expired ones too\n"
     "  trust get STORE FINGERPRINT [--format pem|der|p7b|p7b-pem] [--out F]\n"
     "  trust delete STORE FINGERPRINT [--force]\n"
     "      --force: delete it even though other entries chain to it\n"
     "      STORE: tomcat-trust, CallManager-trust, Phone-SAST-trust,\n"
     "      CAPF-trust, ipsec-trust, TVS-trust\n"},
    {"identity", NULL, NULL, NULL, pkictl_identity,
     "  identity add --node N --purpose P [--cluster C] [--description T] "
     "FILE\n"
     "      register a node's certificate pki did not issue (PEM, DER or\n"
     "      PKCS#7; the leaf and optionally its chain); pki verifies the\n"
     "      chain against its trust stores and CAs and records the verdict\n"
     "  identity list [--node N] [--purpose P] [--cluster C]\n"
     "  identity get ID [--format pem|der|p7b|p7b-pem] [--out FILE]\n"
     "  identity replace ID FILE [--description TEXT]\n"
     "  identity remove ID\n"},
    {"bulk", NULL, NULL, NULL, pkictl_bulk,
     "  bulk export --dir DIR [--cluster C] [--type T] [--format p7b]\n"
     "      write the cluster's certificates (T: tomcat, tomcat-ECDSA,\n"
     "      CallManager, CallManager-ECDSA, CAPF or all) to DIR/<C>.bundle,\n"
     "      with --format p7b also DIR/<C>.p7b (certificates only)\n"
     "  bulk export --issued --dir DIR [--page N]\n"
     "      write every certificate pki issued or self-signed, with its\n"
     "      revocation state and the CA certificates, to\n"
     "      DIR/issued-0001.bundle, ... (N per file, at most 500); DIR must\n"
     "      hold no issued-*.bundle yet\n"
     "  bulk consolidate --dir DIR\n"
     "      merge every DIR/*.bundle (two clusters at least) into\n"
     "      DIR/consolidated.bundle; prints conflicts, exit 3 if any\n"
     "  bulk import --dir DIR [--cluster C]\n"
     "  bulk import --issued --dir DIR\n"
     "      import every DIR/issued-*.bundle of another pki whose CAs this\n"
     "      one adopted (pkid --adopt-cas): same serials, revocation state\n"
     "  bulk import --pkcs12 FILE --password P --purpose T --from-cluster X\n"
     "              [--cluster C]\n"
     "      load the other clusters' certificates of DIR/consolidated.bundle\n"
     "      (or of a PKCS#12 file) into the trust stores; C is the\n"
     "      importing cluster (default: pkid's --cluster)\n"},
    {"node", NULL, NULL, NULL, pkictl_node,
     "  node add --fqdn FQDN --product P [--role R] [--short-name S]\n"
     "           [--address IP]... [--cluster C]\n"
     "  node list [--cluster C] | node delete FQDN [--cluster C]\n"
     "      the node registry of a cluster (P: CUCM, IM&P, UCCX, MediaSense,\n"
     "      SocialMiner, Finesse, UCCE, CUC, CER; R: publisher|subscriber,\n"
     "      UCCX 1|2, Finesse primary|secondary)\n"
     "  node multi-server --profile P --product X [--cluster C] [--o ORG]\n"
     "           [--ou UNIT] [--l CITY] [--st STATE] [--c CC] [--key-type T]\n"
     "           [--days N] --out-dir DIR\n"
     "      have pki make one key and certificate shared by the registered\n"
     "      nodes the product rules give; writes DIR/<P>-ms.key and .pem\n"},
    {"stats", NULL, NULL, NULL, pkictl_stats,
     "  stats [--refresh] [--json]\n"
     "      certificates by CA, profile and status and the expiry counts, as\n"
     "      of the last snapshot (--refresh: compute it now; admin)\n"},
    {"monitor", NULL, NULL, NULL, cmd_monitor,
     "  monitor show | set [flags] | expiring [--days N] | check\n"
     "      the expiry monitor; see pkictl monitor --help\n"},
    {"selfsigned", NULL, &kFlagSpec, cmd_selfsigned, NULL,
     "  selfsigned --profile P --cn NAME [--o ORG] [--ou UNIT] [--l CITY]\n"
     "             [--st STATE] [--c CC] [--san NAME]... [--key-type T]\n"
     "             [--years 5|10|15|20] [--cluster C] --out-dir DIR\n"
     "      have pki make a self-signed identity, as a node does at install\n"
     "      time; T may also be RSA-1024. Writes DIR/<cn>.key (PKCS#8, mode\n"
     "      0600, never over an existing file) and DIR/<cn>.pem\n"},
    {"regenerate", NULL, &kFlagSpec, cmd_regenerate, NULL,
     "  regenerate SERIAL [--years 5|10|15|20] [--key-type T] --out-dir DIR\n"
     "      replace a self-signed identity by a new key and certificate like\n"
     "      it (the key of type T if given, else like the old one); writes\n"
     "      DIR/<cn>.key and DIR/<cn>.pem\n"},
    {"csr", NULL, &kFlagSpec, cmd_csr, NULL,
     "  csr --profile P --cn FQDN [--san NAME]... [--parent-domain]\n"
     "      [--o ORG] [--ou UNIT] [--l CITY] [--st STATE] [--c CC]\n"
     "      [--key-type T] --key-out KEY --out CSR\n"
     "  csr ... --key KEY --out CSR\n"
     "      make, locally, the CSR a Cisco node makes for that purpose: the\n"
     "      profile's Key Usage and Extended Key Usage requested, the FQDN\n"
     "      (and with --parent-domain its parent domain) as dNSNames. Writes\n"
     "      the key (PKCS#8 PEM, mode 0600, never over an existing file)\n"
     "      and the CSR (PEM). --key KEY reuses an existing key instead\n"
     "      (PEM: PKCS#8, RSA or EC, unencrypted), as CiscoCertUtil can\n"},
    {"token", NULL, NULL, NULL, pkictl_token,
     "\n"
     "  token create --role issuer|revoker|admin [--profiles P,...|all]\n"
     "      [--name NAME] | token list | token revoke ID\n"
     "      API tokens (admin); create prints the new token once\n"},
    {"allowlist", NULL, NULL, NULL, pkictl_allowlist,
     "  allowlist list | allowlist add NET [--force] | allowlist delete NET\n"
     "      [--force]\n"
     "      the networks admin and revocation calls may come from (admin)\n"},
    {"audit", NULL, NULL, NULL, pkictl_audit,
     "  audit [--actor A] [--action X|PREFIX*] [--object O] [--outcome R]\n"
     "        [--since T] [--until T] [--limit N] [--cursor C] [--all]\n"
     "        [--json]\n"
     "      the audit log, newest first (admin); T as find's DATE; --all\n"
     "      reads every page\n"},
};

static void print_usage(FILE *out) {
  fputs(kUsageHead, out);
  for (size_t k = 0; k < PKICTL_COUNT(kCommands); k++) {
    fputs(kCommands[k].usage, out);
  }
  fputs(kUsageTail, out);
}

static const command *find_command(const char *name) {
  for (size_t k = 0; k < PKICTL_COUNT(kCommands); k++) {
    if (strcmp(name, kCommands[k].name) == 0) {
      return &kCommands[k];
    }
  }
  return NULL;
}

// run_parsed runs |cmd| with the arguments after its name against
// |server| and returns pkictl's exit status: a mistake in the arguments
// is 2, found before connecting.
static int run_parsed(const command *cmd, const char *server, int argc,
                      char **argv) {
  if (cmd->sub != NULL) {
    if (argc < 1 || strcmp(argv[0], cmd->sub) != 0) {
      fprintf(stderr, "pkictl: usage: pkictl %s %s\n", cmd->name, cmd->sub);
      return 2;
    }
    argc--;
    argv++;
  }
  flags f;
  if (cmd->spec != NULL && !pkictl_parse_flags(cmd->spec, argc, argv, &f,
                                               f.positional, &f.n_positional)) {
    return 2;
  }
  pki_client *client = connect_server(server);
  if (client == NULL) {
    fprintf(stderr, "pkictl: bad --server %s\n", server);
    return 2;
  }
  const int rc = cmd->run != NULL ? cmd->run(client, &f)
                                  : cmd->run_family(client, argc, argv);
  pki_client_free(client);
  return rc;
}

// run_batch_json runs "pkictl --json batch" as "pkictl batch --json":
// batch's own JSON, which prints its failures as they come.
static int run_batch_json(const char *server, int argc, char **argv) {
  char **args = calloc((size_t)argc + 2, sizeof(*args));
  if (args == NULL) {
    fprintf(stderr, "pkictl: out of memory\n");
    return 1;
  }
  if (argc > 0) {
    memcpy(args, argv, (size_t)argc * sizeof(*args));
  }
  args[argc] = (char *)"--json";
  pki_client *client = connect_server(server);
  int rc = 2;
  if (client == NULL) {
    fprintf(stderr, "pkictl: bad --server %s\n", server);
  } else {
    rc = pkictl_batch(client, argc + 1, args);
    pki_client_free(client);
  }
  free(args);
  return rc;
}

// run_command runs |cmd|, with --json (|json|) printing one JSON object
// (pkictl_json.h) in place of its text.
static int run_command(const command *cmd, const char *server, int json,
                       int argc, char **argv) {
  if (json && cmd->run_family == pkictl_batch) {
    return run_batch_json(server, argc, argv);
  }
  if (json && !pkictl_json_begin()) {
    return 1;
  }
  return pkictl_json_end(run_parsed(cmd, server, argc, argv));
}

int main(int argc, char **argv) {
  const char *server = getenv("PKI_SERVER");
  if (server == NULL || server[0] == '\0') {
    server = "https://127.0.0.1:8443";
  }
  const char *token = getenv("PKI_TOKEN");
  const char *token_file = getenv("PKI_TOKEN_FILE");
  g_auth.cacert = getenv("PKI_CACERT");
  int i = 1, json = 0;
  for (;;) {
    if (i < argc && strcmp(argv[i], "--json") == 0) {
      json = 1;
      i++;
      continue;
    }
    if (!(i + 1 < argc && (strcmp(argv[i], "--server") == 0 ||
                           strcmp(argv[i], "--token") == 0 ||
                           strcmp(argv[i], "--token-file") == 0 ||
                           strcmp(argv[i], "--cacert") == 0))) {
      break;
    }
    const char *flag = argv[i], *value = argv[i + 1];
    if (strcmp(flag, "--server") == 0) {
      server = value;
    } else if (strcmp(flag, "--token") == 0) {
      token = value;
      token_file = NULL;
    } else if (strcmp(flag, "--token-file") == 0) {
      token_file = value;
      token = NULL;
    } else {
      g_auth.cacert = value;
    }
    i += 2;
  }
  if (g_auth.cacert != NULL && g_auth.cacert[0] == '\0') {
    g_auth.cacert = NULL;
  }
  if (!load_token(
          token != NULL && token[0] != '\0' ? token : NULL,
          token_file != NULL && token_file[0] != '\0' ? token_file : NULL)) {
    return 2;
  }
  if (i >= argc || strcmp(argv[i], "--help") == 0 ||
      strcmp(argv[i], "-h") == 0) {
    print_usage(i >= argc ? stderr : stdout);
    return i >= argc ? 2 : 0;
  }
  const command *cmd = find_command(argv[i]);
  if (cmd == NULL) {
    fprintf(stderr, "pkictl: unknown command %s\n", argv[i]);
    print_usage(stderr);
    return 2;
  }
  return run_command(cmd, server, json, argc - i - 1, argv + i + 1);
}

// Shared with the command files of api/cli/pkictl.h.
int pkictl_get(pki_client *client, const char *path, pki_reply *reply) {
  return get_reply(client, path, reply);
}

// unpack_reply unpacks the body of |reply|, cleaned up here, as a |desc|
// (see pkictl_get_message).
static ProtobufCMessage *unpack_reply(pki_reply *reply,
                                      const ProtobufCMessageDescriptor *desc) {
  ProtobufCMessage *msg =
      protobuf_c_message_unpack(desc, NULL, reply->body_len, reply->body);
  pkictl_json_answer(msg);
  pki_reply_cleanup(reply);
  if (msg == NULL) {
    fprintf(stderr, "pkictl: unreadable reply\n");
  }
  return msg;
}

ProtobufCMessage *pkictl_get_message(pki_client *client, const char *path,
                                     const ProtobufCMessageDescriptor *desc) {
  pki_reply reply;
  if (!get_reply(client, path, &reply)) {
    pki_reply_cleanup(&reply);
    return NULL;
  }
  return unpack_reply(&reply, desc);
}

ProtobufCMessage *pkictl_call_message(pki_client *client, const char *method,
                                      const char *path,
                                      const char *content_type,
                                      const uint8_t *body, size_t len,
                                      const ProtobufCMessageDescriptor *desc) {
  pki_reply reply;
  if (!pki_client_call(client, method, path, content_type, body, len, &reply)) {
    fprintf(stderr, "pkictl: %s\n", ca_err_get()->message);
    return NULL;
  }
  if (reply.status != 200) {
    report_error(&reply);
    pki_reply_cleanup(&reply);
    return NULL;
  }
  return unpack_reply(&reply, desc);
}

int pkictl_download(pki_client *client, const char *path, const char *out) {
  pki_reply reply;
  int rc = 1;
  if (get_reply(client, path, &reply)) {
    rc = out != NULL ? !write_file(out, reply.body, reply.body_len)
                     : !pkictl_print_body("body", reply.body, reply.body_len);
  }
  pki_reply_cleanup(&reply);
  return rc;
}

void pkictl_format_time(int64_t t, char out[21]) {
  if (!ca_time_format(t, out)) {
    snprintf(out, 21, "?");
  }
}

uint8_t *pkictl_issued_pem(const Pki__V1__IssuedCertificate *c,
                           size_t *out_len) {
  return issued_pem(c, out_len);
}

int pkictl_report(const pki_reply *reply) {
  return report_error(reply);
}

uint8_t *pkictl_read_file(const char *path, size_t max, size_t *out_len) {
  return read_file(path, max, out_len);
}

int pkictl_write_file(const char *path, const uint8_t *data, size_t len) {
  return write_file(path, data, len);
}

void pkictl_add_query(char *path, size_t cap, const char *name,
                      const char *value) {
  add_query(path, cap, name, value);
}

// find_flag returns the entry of |name| in |spec|, or NULL.
static const pkictl_flag *find_flag(const pkictl_flag_spec *spec,
                                    const char *name) {
  for (size_t k = 0; k < spec->n_flags; k++) {
    if (strcmp(name, spec->flags[k].name) == 0) {
      return &spec->flags[k];
    }
  }
  return NULL;
}

// store_value stores |value| of |flag| in |out| by its kind.
static int store_value(const pkictl_flag *flag, const char *value, void *out) {
  char *dest = (char *)out + flag->offset;
  switch (flag->kind) {
    case PKICTL_FLAG_STRING:
      *(const char **)dest = value;
      return 1;
    case PKICTL_FLAG_UINT:
      return flag->to_uint(flag->name, value, (unsigned *)dest);
    case PKICTL_FLAG_LIST: {
      pkictl_list *list = (pkictl_list *)dest;
      if (list->n == PKICTL_LIST_MAX) {
        fprintf(stderr, "pkictl: at most %d %s\n", PKICTL_LIST_MAX, flag->name);
        return 0;
      }
      list->values[list->n++] = value;
      return 1;
    }
    case PKICTL_FLAG_BOOL:
      break;
  }
  return 0;
}

int pkictl_uint_in(const char *flag, const char *text, unsigned long min,
                   unsigned long max, unsigned *out) {
  unsigned long n;
  if (!read_ulong(text, &n) || n < min || n > max) {
    fprintf(stderr, "pkictl: %s must be %lu to %lu\n", flag, min, max);
    return 0;
  }
  *out = (unsigned)n;
  return 1;
}

int pkictl_parse_flags(const pkictl_flag_spec *spec, int argc, char **argv,
                       void *out, const char **positional,
                       int *out_n_positional) {
  memset(out, 0, spec->out_size);
  *out_n_positional = 0;
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    if (a[0] != '-') {
      if (*out_n_positional == spec->max_positional) {
        fprintf(stderr, "pkictl: too many arguments\n");
        return 0;
      }
      positional[(*out_n_positional)++] = a;
      continue;
    }
    const pkictl_flag *flag = find_flag(spec, a);
    if (flag == NULL) {
      fprintf(stderr, "pkictl: unknown flag %s\n%s", a,
              spec->unknown_hint != NULL ? spec->unknown_hint : "");
      return 0;
    }
    if (flag->kind == PKICTL_FLAG_BOOL) {
      *(int *)((char *)out + flag->offset) = 1;
      continue;
    }
    if (i + 1 >= argc) {
      fprintf(stderr, "pkictl: %s needs a value\n", a);
      return 0;
    }
    if (!store_value(flag, argv[++i], out)) {
      return 0;
    }
  }
  return 1;
}
