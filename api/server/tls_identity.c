#include "api/server/tls_identity.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/bytestring.h>
#include <openssl/evp.h>
#include <openssl/mem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api/server/files.h"
#include "api/server/log.h"
#include "api/server/tls.h"
#include "ca/x509/key.h"
#include "ca/x509/pem.h"

// What is served now, so that the hourly check costs nothing while the
// certificate is fresh (reading it again would decrypt the key).
static struct {
  char serial[64];
  int64_t not_after;
  char names[600];
} g_served;

static int tls_path(const char *data_dir, const char *file, char *out,
                    size_t len) {
  const int n = snprintf(out, len, "%s/tls%s%s", data_dir,
                         file[0] != '\0' ? "/" : "", file);
  CA_ENSURE_RETURN(n > 0 && (size_t)n < len, CA_ERR_CONFIG,
                   "data dir path too long");
  return 1;
}

static void names_text(const api_tls_identity_config *c, char *out,
                       size_t len) {
  size_t used = 0;
  out[0] = '\0';
  for (size_t i = 0; i < c->n_names && used < len; i++) {
    const int n =
        snprintf(out + used, len - used, "%s%s", i > 0 ? "," : "", c->names[i]);
    if (n < 0) {
      break;
    }
    used += (size_t)n;
  }
}

int api_tls_identity_load_files(const char *pem_path, const char *key_path,
                                const char *passphrase) {
  int ret = 0;
  uint8_t *chain = NULL, *der = NULL;
  size_t chain_len = 0, der_len = 0;
  EVP_PKEY *key = NULL;
  CBB cbb;
  CBB_zero(&cbb);
  CA_GUARD(api_read_file(pem_path, &chain, &chain_len));
  key = ca_key_read_file(key_path, passphrase);
  CA_GUARD_PTR(key);
  CA_GUARD_CRYPTO(CBB_init(&cbb, 2048));
  CA_GUARD_CRYPTO(EVP_marshal_private_key(&cbb, key));
  CA_GUARD_CRYPTO(CBB_finish(&cbb, &der, &der_len));
  CA_GUARD(
      api_tls_set((const char *)chain, chain_len, (const char *)der, der_len));
  ret = 1;
err:
  OPENSSL_free(chain);
  if (der != NULL) {
    OPENSSL_cleanse(der, der_len);
    OPENSSL_free(der);
  }
  ca_cbb_cleanse_cleanup(&cbb);  // accepts the CBB CBB_finish emptied
  EVP_PKEY_free(key);
  return ret;
}

// serve reads the chain and key of |serial| and hands them to GnuTLS.
static int serve(const api_tls_identity_config *c, const char *serial) {
  char file[128], pem_path[4096], key_path[4096];
  snprintf(file, sizeof(file), "api-%.60s.pem", serial);
  CA_GUARD_RETURN(tls_path(c->data_dir, file, pem_path, sizeof(pem_path)));
  snprintf(file, sizeof(file), "api-%.60s.key", serial);
  CA_GUARD_RETURN(tls_path(c->data_dir, file, key_path, sizeof(key_path)));
  return api_tls_identity_load_files(pem_path, key_path, c->passphrase);
}

// read_current reads DATA_DIR/tls/current: "SERIAL NOT_AFTER NAMES".
static int read_current(const api_tls_identity_config *c, char serial[64],
                        int64_t *not_after, char names[600]) {
  char path[4096];
  uint8_t *text = NULL;
  size_t len;
  if (!tls_path(c->data_dir, "current", path, sizeof(path)) ||
      !api_read_file(path, &text, &len)) {
    ca_err_clear();
    return 0;
  }
  long long na = 0;
  const int ok =
      sscanf((const char *)text, "%63s %lld %599s", serial, &na, names) == 3;
  OPENSSL_free(text);
  *not_after = na;
  return ok;
}

static void remove_files(const api_tls_identity_config *c, const char *serial) {
  char file[128], path[4096];
  static const char *const kKinds[] = {"key", "pem"};
  for (size_t i = 0; i < 2; i++) {
    snprintf(file, sizeof(file), "api-%.60s.%s", serial, kKinds[i]);
    if (tls_path(c->data_dir, file, path, sizeof(path))) {
      unlink(path);
    }
  }
}

// issue_new issues a certificate through the engine and writes its files.
static int issue_new(ca_engine *engine, const api_tls_identity_config *c,
                     const char *names, char serial_out[64],
                     int64_t *not_after) {
  ca_issued res;
  memset(&res, 0, sizeof(res));
  CBB chain;
  CBB_zero(&chain);
  EVP_PKEY *key = NULL;
  char file[128], path[4096], requester[96], current[800];
  int key_written = 0;
  ca_key_spec spec;
  CA_GUARD(ca_key_spec_parse(&spec, "RSA-2048"));
  const ca_name_fields fields = {.organization = c->organization,
                                 .common_name = c->names[0]};
  ca_issue_request req;
  memset(&req, 0, sizeof(req));
  req.profile = "tomcat";
  req.validity_days = c->days;
  req.generate = &spec;
  req.subject = &fields;
  req.sans = c->names;
  req.san_count = c->n_names;
  snprintf(requester, sizeof(requester), "pkid@%.80s", c->node);
  CA_GUARD(ca_engine_issue(engine, &req, 1, requester, "local", &res));
  CA_ENSURE(res.issuer != NULL && res.private_key != NULL, CA_ERR_INTERNAL,
            "the API certificate came without its issuer or key");

  CBS pkcs8;
  CBS_init(&pkcs8, res.private_key, res.private_key_len);
  key = EVP_parse_private_key(&pkcs8);
  CA_ENSURE(key != NULL, CA_ERR_INTERNAL, "cannot read the generated key");
  snprintf(file, sizeof(file), "api-%s.key", res.serial_hex);
  CA_GUARD(tls_path(c->data_dir, file, path, sizeof(path)));
  CA_GUARD(ca_key_write_file(path, key, c->passphrase));
  key_written = 1;

  CA_GUARD_CRYPTO(CBB_init(&chain, 8192));
  CA_GUARD(ca_pem_add(&chain, "CERTIFICATE", res.der, res.der_len));
  for (size_t i = 0; i < res.issuer->chain_len; i++) {
    CA_GUARD(ca_pem_add(&chain, "CERTIFICATE", res.issuer->chain[i]->der,
                        res.issuer->chain[i]->der_len));
  }
  snprintf(file, sizeof(file), "api-%s.pem", res.serial_hex);
  CA_GUARD(tls_path(c->data_dir, file, path, sizeof(path)));
  CA_GUARD(
      api_write_file_atomic(path, CBB_data(&chain), CBB_len(&chain), 0644));
  // The root alone, for clients to trust: the last certificate of the
  // chain.
  const ca_issuer *root = res.issuer->chain[res.issuer->chain_len - 1];
  CBB_cleanup(&chain);
  CA_GUARD_CRYPTO(CBB_init(&chain, 4096));
  CA_GUARD(ca_pem_add(&chain, "CERTIFICATE", root->der, root->der_len));
  CA_GUARD(tls_path(c->data_dir, "ca.pem", path, sizeof(path)));
  CA_GUARD(
      api_write_file_atomic(path, CBB_data(&chain), CBB_len(&chain), 0644));

  const int n = snprintf(current, sizeof(current), "%s %" PRId64 " %s\n",
                         res.serial_hex, res.not_after, names);
  CA_ENSURE(n > 0 && (size_t)n < sizeof(current), CA_ERR_CONFIG,
            "too many TLS names");
  CA_GUARD(tls_path(c->data_dir, "current", path, sizeof(path)));
  CA_GUARD(api_write_file_atomic(path, current, (size_t)n, 0644));
  snprintf(serial_out, 64, "%s", res.serial_hex);
  *not_after = res.not_after;
  CBB_cleanup(&chain);
  EVP_PKEY_free(key);
  ca_issued_cleanup(&res);
  return 1;
err:
  if (key_written) {
    // The certificate stays recorded (it was issued); its files go.
    remove_files(c, res.serial_hex);
  }
  CBB_cleanup(&chain);
  EVP_PKEY_free(key);
  ca_issued_cleanup(&res);
  return 0;
}

int api_tls_identity_ensure(ca_engine *engine, const api_tls_identity_config *c,
                            int *issued) {
  *issued = 0;
  char names[600], dir[4096];
  names_text(c, names, sizeof(names));
  const int64_t now = (int64_t)time(NULL);
  const int64_t renew_left = (int64_t)c->days * 86400 / 3;
  if (g_served.serial[0] != '\0' && strcmp(g_served.names, names) == 0 &&
      g_served.not_after - now > renew_left) {
    return 1;
  }
  CA_GUARD_RETURN(tls_path(c->data_dir, "", dir, sizeof(dir)));
  CA_ENSURE_RETURN(mkdir(dir, 0755) == 0 || errno == EEXIST, CA_ERR_KEY_FILE,
                   "cannot create %.200s: %s", dir, strerror(errno));
  char serial[64], old_names[600];
  int64_t not_after = 0;
  if (read_current(c, serial, &not_after, old_names) &&
      strcmp(old_names, names) == 0 && not_after - now > renew_left) {
    if (serve(c, serial)) {
      goto served;
    }
    // A damaged or unreadable identity is replaced, not fatal.
    api_log(API_LOG_WARN, "API certificate %s: %s; issuing a new one", serial,
            ca_err_get()->message);
    ca_err_clear();
  }
  char old_serial[64];
  int64_t old_not_after;
  if (!read_current(c, old_serial, &old_not_after, old_names)) {
    old_serial[0] = '\0';
  }
  CA_GUARD_RETURN(issue_new(engine, c, names, serial, &not_after));
  CA_GUARD_RETURN(serve(c, serial));
  *issued = 1;
  if (old_serial[0] != '\0' && strcmp(old_serial, serial) != 0) {
    remove_files(c, old_serial);
  }
served:
  snprintf(g_served.serial, sizeof(g_served.serial), "%s", serial);
  snprintf(g_served.names, sizeof(g_served.names), "%s", names);
  g_served.not_after = not_after;
  return 1;
}
