#include "ca/issue/adopt.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/bytestring.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/mem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ca/limits.h"
#include "ca/x509/csr.h"
#include "ca/x509/key.h"
#include "ca/x509/name.h"
#include "ca/x509/pem.h"
#include "ca/x509/serial.h"
#include "ca/x509/x509.h"
#include "ca/x509/x509_verify.h"

// The CAs of every pki, parents first, as ca/issue/authority.c names them and
// their key files.
static const struct {
  const char *name;
  int parent;  // index of the root in this table; -1 for a root
} kCas[] = {
    {"rsa-root", -1},
    {"rsa-issuing", 0},
    {"ec-root", -1},
    {"ec-issuing", 2},
};
#define ADOPT_COUNT (sizeof(kCas) / sizeof(kCas[0]))

int ca_adopt_read_file(const char *path, uint8_t **out, size_t *out_len) {
  uint8_t *buf = NULL;
  size_t len = 0;
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  CA_ENSURE(fd >= 0, CA_ERR_CONFIG, "--adopt-cas %s: %s", path,
            strerror(errno));
  buf = OPENSSL_malloc(CA_LIMIT_ADOPT_FILE_BYTES + 1);
  CA_ENSURE_ALLOC(buf);
  for (;;) {
    const ssize_t got =
        read(fd, buf + len, CA_LIMIT_ADOPT_FILE_BYTES + 1 - len);
    CA_ENSURE(got >= 0 || errno == EINTR, CA_ERR_CONFIG, "--adopt-cas %s: %s",
              path, strerror(errno));
    if (got == 0) {
      break;
    }
    if (got > 0) {
      len += (size_t)got;
    }
    CA_ENSURE(len <= CA_LIMIT_ADOPT_FILE_BYTES, CA_ERR_CONFIG,
              "--adopt-cas %s: larger than %d bytes", path,
              CA_LIMIT_ADOPT_FILE_BYTES);
  }
  close(fd);
  *out = buf;
  *out_len = len;
  return 1;
err:
  if (fd >= 0) {
    close(fd);
  }
  OPENSSL_free(buf);
  return 0;
}

// One certificate of the file, and the key it was matched with.
typedef struct adopt_cert {
  uint8_t *der;
  size_t der_len;
  ca_x509 x509;
  int ca;  // index into kCas; -1 until matched
} adopt_cert;

static void certs_free(adopt_cert *certs, size_t n) {
  for (size_t i = 0; i < n; i++) {
    OPENSSL_free(certs[i].der);
  }
}

// read_certs reads the CERTIFICATE blocks of |pem|, keeping one of each
// DER (a chain file per CA repeats its root).
static int read_certs(const uint8_t *pem, size_t pem_len,
                      adopt_cert certs[CA_LIMIT_ADOPT_CAS], size_t *out_n) {
  size_t n = 0;
  CBS in, label;
  CBS_init(&in, pem, pem_len);
  for (;;) {
    uint8_t *der = NULL;
    size_t der_len;
    if (!ca_pem_next(&in, &label, &der, &der_len, CA_LIMIT_TRUST_CERT_BYTES)) {
      if (ca_err_get()->code == CA_ERR_NOT_FOUND) {
        break;
      }
      goto err;
    }
    if (!ca_pem_label_is(&label, "CERTIFICATE")) {
      OPENSSL_free(der);
      continue;
    }
    int seen = 0;
    for (size_t i = 0; i < n && !seen; i++) {
      seen = certs[i].der_len == der_len &&
             memcmp(certs[i].der, der, der_len) == 0;
    }
    if (seen) {
      OPENSSL_free(der);
      continue;
    }
    if (n == CA_LIMIT_ADOPT_CAS) {
      OPENSSL_free(der);
      CA_RAISE(CA_ERR_CONFIG, "--adopt-cas: more than %d CA certificates",
               CA_LIMIT_ADOPT_CAS);
    }
    certs[n].der = der;
    certs[n].der_len = der_len;
    certs[n].ca = -1;
    n++;
    CA_GUARD(ca_x509_parse(&certs[n - 1].x509, der, der_len));
  }
  CA_ENSURE(n > 0, CA_ERR_CONFIG, "--adopt-cas: no CERTIFICATE in the file");
  *out_n = n;
  return 1;
err:
  certs_free(certs, n);
  return 0;
}

// fill_record describes the adopted CA |ca| of certificate |c| with key
// |key|, child of |parent| (NULL for a root).
static int fill_record(size_t ca, const adopt_cert *c, const EVP_PKEY *key,
                       ca_issuer_row *out) {
  ca_key_info info;
  ca_key_spec spec;
  ca_serial serial;
  char algorithm[16], serial_hex[CA_SERIAL_HEX_LEN], key_file[48];
  CA_GUARD_RETURN(ca_key_info_from_pkey(key, &info));
  memset(&spec, 0, sizeof(spec));
  spec.type = info.type;
  spec.rsa_bits = info.bits;
  spec.curve_nid = info.curve_nid;
  ca_key_spec_name(&spec, algorithm, sizeof(algorithm));
  CA_GUARD_RETURN(ca_serial_from_integer(&c->x509.serial, &serial));
  ca_serial_to_hex(&serial, serial_hex);
  snprintf(key_file, sizeof(key_file), "%s.key", kCas[ca].name);
  out->name = OPENSSL_strdup(kCas[ca].name);
  out->role = OPENSSL_strdup(kCas[ca].parent < 0 ? "root" : "issuing");
  out->algorithm = OPENSSL_strdup(algorithm);
  out->parent =
      kCas[ca].parent < 0 ? NULL : OPENSSL_strdup(kCas[kCas[ca].parent].name);
  out->serial = OPENSSL_strdup(serial_hex);
  out->key_file = OPENSSL_strdup(key_file);
  out->der = OPENSSL_memdup(c->der, c->der_len);
  out->der_len = c->der_len;
  out->not_before = c->x509.not_before;
  out->not_after = c->x509.not_after;
  CA_ENSURE_RETURN(out->name && out->role && out->algorithm &&
                       (kCas[ca].parent < 0 || out->parent) && out->serial &&
                       out->key_file && out->der,
                   CA_ERR_NO_MEMORY, "out of memory");
  CA_GUARD_RETURN(ca_name_format(&c->x509.subject, &out->subject));
  return 1;
}

int ca_adopt_records(const char *data_dir, const uint8_t *pem, size_t pem_len,
                     const char *passphrase, ca_issuer_row **out,
                     size_t *out_n) {
  int ret = 0;
  adopt_cert certs[CA_LIMIT_ADOPT_CAS];
  size_t n_certs = 0;
  EVP_PKEY *keys[ADOPT_COUNT] = {NULL};
  size_t of_ca[ADOPT_COUNT];
  ca_issuer_row *records = NULL;
  char path[4096];
  memset(certs, 0, sizeof(certs));
  CA_GUARD(read_certs(pem, pem_len, certs, &n_certs));
  for (size_t k = 0; k < ADOPT_COUNT; k++) {
    const int len =
        snprintf(path, sizeof(path), "%s/keys/%s.key", data_dir, kCas[k].name);
    CA_ENSURE(len > 0 && (size_t)len < sizeof(path), CA_ERR_CONFIG,
              "data directory path too long");
    struct stat st;
    CA_ENSURE(stat(path, &st) == 0, CA_ERR_CONFIG,
              "--adopt-cas: %s: %s (copy the key files of the CAs to adopt "
              "into the data directory's keys/, mode 0600)",
              path, strerror(errno));
    keys[k] = ca_key_read_file(path, passphrase);
    CA_GUARD_PTR(keys[k]);
    size_t found = n_certs;
    for (size_t i = 0; i < n_certs; i++) {
      if (ca_key_matches(keys[k], &certs[i].x509.spki)) {
        found = i;
        break;
      }
    }
    ERR_clear_error();
    CA_ENSURE(found < n_certs, CA_ERR_CONFIG,
              "--adopt-cas: no certificate in the file for the key %s", path);
    certs[found].ca = (int)k;
    of_ca[k] = found;
  }
  for (size_t i = 0; i < n_certs; i++) {
    if (certs[i].ca < 0) {
      char *subject = NULL;
      if (!ca_name_format(&certs[i].x509.subject, &subject)) {
        subject = NULL;
      }
      CA_SET_ERROR(CA_ERR_CONFIG,
                   "--adopt-cas: certificate %zu (%s) has no key in %s/keys",
                   i + 1, subject != NULL ? subject : "?", data_dir);
      OPENSSL_free(subject);
      goto err;
    }
  }
  // The hierarchy: a root signed by itself, an issuing CA by its root.
  for (size_t k = 0; k < ADOPT_COUNT; k++) {
    const adopt_cert *c = &certs[of_ca[k]];
    const size_t signer = kCas[k].parent < 0 ? k : (size_t)kCas[k].parent;
    const CBS *want = &certs[of_ca[signer]].x509.subject;
    CA_ENSURE(CBS_len(&c->x509.issuer) == CBS_len(want) &&
                  memcmp(CBS_data(&c->x509.issuer), CBS_data(want),
                         CBS_len(want)) == 0,
              CA_ERR_CONFIG, "--adopt-cas: the certificate of %s is not %s",
              kCas[k].name,
              kCas[k].parent < 0 ? "self-signed" : "issued by its root");
    if (!ca_x509_verify_signed_by(&c->x509, keys[signer])) {
      char why[256];
      snprintf(why, sizeof(why), "%s", ca_err_get()->message);
      CA_RAISE(CA_ERR_CONFIG, "--adopt-cas: the certificate of %s: %s",
               kCas[k].name, why);
    }
  }
  records = calloc(ADOPT_COUNT, sizeof(*records));
  CA_ENSURE_ALLOC(records);
  for (size_t k = 0; k < ADOPT_COUNT; k++) {
    CA_GUARD(fill_record(k, &certs[of_ca[k]], keys[k], &records[k]));
  }
  *out = records;
  *out_n = ADOPT_COUNT;
  records = NULL;  // the caller's now
  ret = 1;
err:
  if (records != NULL) {
    ca_issuer_rows_free(records, ADOPT_COUNT);
  }
  for (size_t k = 0; k < ADOPT_COUNT; k++) {
    EVP_PKEY_free(keys[k]);
  }
  certs_free(certs, n_certs);
  return ret;
}
