#include "ca/revocation/ocsp_delegate.h"

#include <errno.h>
#include <openssl/bytestring.h>
#include <openssl/evp.h>
#include <openssl/mem.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ca/limits.h"
#include "ca/policy/profile.h"
#include "ca/x509/certificate.h"
#include "ca/x509/key.h"
#include "ca/x509/name.h"
#include "ca/x509/serial.h"
#include "ca/x509/signer.h"

void ca_ocsp_delegate_cleanup(ca_ocsp_delegate *d) {
  EVP_PKEY_free(d->key);
  OPENSSL_free(d->cert);
  memset(d, 0, sizeof(*d));
}

static int key_path(const char *data_dir, const char *file, char *out,
                    size_t len) {
  const int n = snprintf(out, len, "%s/keys/%s", data_dir, file);
  return n > 0 && (size_t)n < len && strchr(file, '/') == NULL;
}

// find_existing takes the newest recorded responder of |node| that is still
// fresh and whose key this node holds.
static int find_existing(ca_store *store, const ca_issuer *issuer,
                         const char *data_dir, const char *node,
                         int64_t renew_at_left, int64_t now,
                         const char *passphrase, ca_ocsp_delegate *out) {
  ca_responder_row *rows = NULL;
  size_t n = 0;
  CA_GUARD_RETURN(ca_store_find_responders(store, issuer->id, node, &rows, &n));
  for (size_t i = 0; i < n; i++) {
    char path[4096];
    if (rows[i].not_after - now <= renew_at_left ||
        !key_path(data_dir, rows[i].key_file, path, sizeof(path)) ||
        access(path, R_OK) != 0) {
      continue;
    }
    EVP_PKEY *key = ca_key_read_file(path, passphrase);
    ca_x509 cert;
    if (key == NULL || !ca_x509_parse(&cert, rows[i].der, rows[i].der_len) ||
        !ca_key_matches(key, &cert.spki)) {
      // A bad file is skipped, not fatal: a new responder will be issued.
      EVP_PKEY_free(key);
      ca_err_clear();
      continue;
    }
    out->key = key;
    out->cert = rows[i].der;
    out->cert_len = rows[i].der_len;
    out->not_after = rows[i].not_after;
    rows[i].der = NULL;
    break;
  }
  ca_responder_rows_free(rows, n);
  return 1;
}

static int issue_new(const ca_issuer *issuer, ca_store *store,
                     const char *data_dir, const char *node, int validity_days,
                     int64_t now, const char *passphrase,
                     ca_ocsp_delegate *out) {
  int ret = 0;
  CBB name, spki;
  CBB_zero(&name);
  CBB_zero(&spki);
  EVP_PKEY *key = NULL;
  uint8_t *der = NULL;
  size_t der_len = 0;
  ca_store_tx *tx = NULL;
  char path[4096], file[128], cn[CA_LIMIT_CN_LEN + 1], serial_hex[41];
  int written = 0;
  // The same family as the CA: an EC CA's clients may know only ECDSA.
  ca_key_spec spec = {CA_KEY_RSA, 2048, 0};
  if (issuer->key_info.type == CA_KEY_EC) {
    CA_GUARD(ca_key_spec_parse(&spec, "EC-P256"));
  }
  key = ca_key_generate(&spec);
  CA_GUARD_PTR(key);
  ca_serial serial;
  CA_GUARD(ca_serial_generate(&serial));
  ca_serial_to_hex(&serial, serial_hex);
  snprintf(cn, sizeof(cn), "%.20s OCSP responder %.20s", issuer->name, node);
  const ca_name_fields fields = {.common_name = cn};
  CA_GUARD_CRYPTO(CBB_init(&name, 128));
  CA_GUARD(ca_name_add_fields(&name, &fields));
  CA_GUARD_CRYPTO(CBB_init(&spki, 600));
  CA_GUARD_CRYPTO(EVP_marshal_public_key(&spki, key));
  ca_cert_template t;
  memset(&t, 0, sizeof(t));
  t.serial = &serial;
  t.issuer_name = issuer->cert.subject;
  CBS_init(&t.subject_name, CBB_data(&name), CBB_len(&name));
  CBS_init(&t.spki, CBB_data(&spki), CBB_len(&spki));
  t.not_before = now - 300;
  t.not_after = now + (int64_t)validity_days * 86400;
  if (t.not_after > issuer->cert.not_after) {
    t.not_after = issuer->cert.not_after;
  }
  t.key_usage = CA_KU_DIGITAL_SIGNATURE;
  t.ext_key_usage = CA_EKU_OCSP_SIGNING;
  t.path_len = -1;
  t.authority_key_id = issuer->key_id;
  t.ocsp_no_check = 1;
  ca_key_info key_info;
  CA_GUARD(ca_key_info_from_pkey(key, &key_info));
  CA_GUARD(ca_certificate_build(
      &t, issuer->key, issuer->key_info.type,
      ca_signature_digest(&issuer->key_info, &key_info), &der, &der_len, NULL));

  // The key first, then the records: a key without a record is harmless,
  // a record without its key would be chosen and fail.
  snprintf(file, sizeof(file), "ocsp-%.40s-%s.key", issuer->name, serial_hex);
  CA_ENSURE(key_path(data_dir, file, path, sizeof(path)), CA_ERR_KEY_FILE,
            "bad responder key path");
  CA_GUARD(ca_key_write_file(path, key, passphrase));
  written = 1;
  char *subject = NULL;
  CA_GUARD(ca_name_format(&t.subject_name, &subject));
  char requester[96];
  snprintf(requester, sizeof(requester), "pkid@%s", node);
  ca_new_cert_row record = {
      .issuer_id = issuer->id,
      .serial = serial_hex,
      .profile = CA_OCSP_RESPONDER_PROFILE,
      .subject = subject,
      .common_name = cn,
      .sans = NULL,
      .san_count = 0,
      .key_type = key_info.type,
      .key_bits = key_info.bits,
      .not_before = t.not_before,
      .not_after = t.not_after,
      .der = der,
      .der_len = der_len,
      .requester = requester,
      .key_generated = 1,
  };
  uint8_t collided = 0;
  int ok = ca_store_begin(store, &tx) &&
           ca_store_tx_insert_certificates(tx, &record, 1, &collided);
  OPENSSL_free(subject);
  CA_GUARD(ok);
  CA_ENSURE(!collided, CA_ERR_SERIAL_EXHAUSTED,
            "responder serial collided; try again");
  CA_GUARD(ca_store_tx_add_responder(tx, issuer->id, serial_hex, node, file));
  CA_GUARD(ca_store_tx_audit(tx, requester, "issue-ocsp-responder", serial_hex,
                             node, "ok", issuer->name));
  CA_GUARD(ca_store_commit(&tx));
  out->key = key;
  out->cert = der;
  out->cert_len = der_len;
  out->not_after = t.not_after;
  out->issued = 1;
  // |out| owns the key and the certificate, and the committed records name
  // the key file: nothing of them is undone below.
  key = NULL;
  der = NULL;
  written = 0;
  ret = 1;
err:
  ca_store_rollback(tx);  // NULL after a commit
  if (written) {
    unlink(path);
  }
  CBB_cleanup(&name);
  CBB_cleanup(&spki);
  EVP_PKEY_free(key);
  OPENSSL_free(der);
  return ret;
}

int ca_ocsp_delegate_ensure(const ca_authority *authority, ca_store *store,
                            const ca_issuer *issuer, const char *data_dir,
                            const char *node, int validity_days,
                            const char *passphrase, ca_ocsp_delegate *out) {
  (void)authority;
  memset(out, 0, sizeof(*out));
  const int64_t now = (int64_t)time(NULL);
  CA_ENSURE_RETURN(validity_days >= 1 && validity_days <= 366, CA_ERR_CONFIG,
                   "responder validity must be 1 to 366 days");
  CA_ENSURE_RETURN(issuer->key != NULL, CA_ERR_ISSUER_UNAVAILABLE,
                   "the key of CA %s is not loaded", issuer->name);
  CA_GUARD_RETURN(find_existing(store, issuer, data_dir, node,
                                (int64_t)validity_days * 86400 / 3, now,
                                passphrase, out));
  if (out->key != NULL) {
    return 1;
  }
  return issue_new(issuer, store, data_dir, node, validity_days, now,
                   passphrase, out);
}
