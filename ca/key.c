#include "ca/key.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/ec_key.h>
#include <openssl/evp.h>
#include <openssl/mem.h>
#include <openssl/nid.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ca/pem.h"

int ca_key_spec_parse(const char *text, ca_key_spec *out) {
  static const struct {
    const char *names[3];
    ca_key_spec spec;
  } kSpecs[] = {
      {{"RSA-1024", "rsa1024", NULL}, {CA_KEY_RSA, 1024, 0}},
      {{"RSA-2048", "rsa2048", "rsa"}, {CA_KEY_RSA, 2048, 0}},
      {{"RSA-3072", "rsa3072", NULL}, {CA_KEY_RSA, 3072, 0}},
      {{"RSA-4096", "rsa4096", NULL}, {CA_KEY_RSA, 4096, 0}},
      {{"EC-P256", "p256", "ec"}, {CA_KEY_EC, 0, NID_X9_62_prime256v1}},
      {{"EC-P384", "p384", NULL}, {CA_KEY_EC, 0, NID_secp384r1}},
  };
  for (size_t i = 0; i < sizeof(kSpecs) / sizeof(kSpecs[0]); i++) {
    for (size_t j = 0; j < 3 && kSpecs[i].names[j] != NULL; j++) {
      if (strcasecmp(text, kSpecs[i].names[j]) == 0) {
        *out = kSpecs[i].spec;
        return 1;
      }
    }
  }
  CA_RAISE(CA_ERR_PARAMETER_INVALID,
           "unknown key type \"%.32s\" (RSA-2048, RSA-3072, RSA-4096, "
           "EC-P256, EC-P384)",
           text);
err:
  return 0;
}

void ca_key_spec_name(const ca_key_spec *spec, char *out, size_t out_len) {
  if (spec->type == CA_KEY_RSA) {
    snprintf(out, out_len, "RSA-%u", spec->rsa_bits);
  } else {
    snprintf(out, out_len, "EC-%s",
             spec->curve_nid == NID_secp384r1 ? "P384" : "P256");
  }
}

EVP_PKEY *ca_key_generate(const ca_key_spec *spec) {
  EVP_PKEY *pkey = EVP_PKEY_new();
  RSA *rsa = NULL;
  BIGNUM *e = NULL;
  EC_KEY *ec = NULL;
  CA_ENSURE_ALLOC(pkey);
  if (spec->type == CA_KEY_RSA) {
    rsa = RSA_new();
    e = BN_new();
    CA_ENSURE_ALLOC(rsa);
    CA_ENSURE_ALLOC(e);
    CA_GUARD_CRYPTO(BN_set_word(e, RSA_F4));
    CA_GUARD_CRYPTO(RSA_generate_key_ex(rsa, (int)spec->rsa_bits, e, NULL));
    CA_GUARD_CRYPTO(EVP_PKEY_assign_RSA(pkey, rsa));
    rsa = NULL;
  } else if (spec->type == CA_KEY_EC) {
    ec = EC_KEY_new_by_curve_name(spec->curve_nid);
    CA_ENSURE(ec != NULL, CA_ERR_INTERNAL, "unsupported curve");
    CA_GUARD_CRYPTO(EC_KEY_generate_key(ec));
    CA_GUARD_CRYPTO(EVP_PKEY_assign_EC_KEY(pkey, ec));
    ec = NULL;
  } else {
    CA_RAISE(CA_ERR_INTERNAL, "unknown key type");
  }
  BN_free(e);
  return pkey;
err:
  RSA_free(rsa);
  BN_free(e);
  EC_KEY_free(ec);
  EVP_PKEY_free(pkey);
  return NULL;
}

static int write_all(int fd, const uint8_t *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) {
      continue;
    }
    if (w <= 0) {
      return 0;
    }
    p += w;
    n -= (size_t)w;
  }
  return 1;
}

int ca_key_write_file(const char *path, const EVP_PKEY *key) {
  CBB der, pem;
  CBB_zero(&der);
  CBB_zero(&pem);
  int fd = -1;
  int created = 0;
  CA_GUARD_CRYPTO(CBB_init(&der, 2048));
  CA_GUARD_CRYPTO(EVP_marshal_private_key(&der, key));
  CA_GUARD_CRYPTO(CBB_init(&pem, 4096));
  CA_GUARD(ca_pem_add(&pem, "PRIVATE KEY", CBB_data(&der), CBB_len(&der)));
  // O_EXCL: a key file is never replaced; losing a CA key must be a
  // deliberate act of the operator.
  fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  CA_ENSURE(fd >= 0, CA_ERR_KEY_FILE, "cannot create %s: %s", path,
            strerror(errno));
  created = 1;
  // The umask may have narrowed the mode further; it can never widen it,
  // but set it explicitly so the file is 0600 whatever the umask.
  CA_ENSURE(fchmod(fd, 0600) == 0, CA_ERR_KEY_FILE, "chmod %s: %s", path,
            strerror(errno));
  CA_ENSURE(write_all(fd, CBB_data(&pem), CBB_len(&pem)) && fsync(fd) == 0,
            CA_ERR_KEY_FILE, "cannot write %s: %s", path, strerror(errno));
  // The descriptor is gone after close() whatever it returns: never close
  // it twice (another thread may have been given the number since).
  const int closed = close(fd);
  fd = -1;
  CA_ENSURE(closed == 0, CA_ERR_KEY_FILE, "cannot close %s: %s", path,
            strerror(errno));
  ca_cbb_cleanse_cleanup(&der);
  ca_cbb_cleanse_cleanup(&pem);
  return 1;
err:
  if (fd >= 0) {
    close(fd);
  }
  // A partly written key file must not be mistaken for a key later.
  if (created) {
    unlink(path);
  }
  ca_cbb_cleanse_cleanup(&der);
  ca_cbb_cleanse_cleanup(&pem);
  return 0;
}

// A key file larger than this is not a key file.
#define KEY_FILE_MAX (64 * 1024)

EVP_PKEY *ca_key_read_file(const char *path) {
  EVP_PKEY *key = NULL;
  uint8_t *text = NULL;
  size_t text_len = 0;
  uint8_t *der = NULL;
  size_t der_len = 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  CA_ENSURE(fd >= 0, CA_ERR_KEY_FILE, "cannot open %s: %s", path,
            strerror(errno));
  struct stat st;
  CA_ENSURE(fstat(fd, &st) == 0, CA_ERR_KEY_FILE, "cannot stat %s", path);
  CA_ENSURE(S_ISREG(st.st_mode), CA_ERR_KEY_FILE, "%s is not a file", path);
  CA_ENSURE((st.st_mode & 077) == 0, CA_ERR_KEY_FILE,
            "refusing a CA key that group or others may access (mode %03o; "
            "fix with chmod 600): %s",
            (unsigned)(st.st_mode & 0777), path);
  CA_ENSURE(st.st_size > 0 && st.st_size <= KEY_FILE_MAX, CA_ERR_KEY_FILE,
            "%s has an implausible size", path);
  text = OPENSSL_malloc((size_t)st.st_size);
  CA_ENSURE_ALLOC(text);
  while (text_len < (size_t)st.st_size) {
    ssize_t r = read(fd, text + text_len, (size_t)st.st_size - text_len);
    if (r < 0 && errno == EINTR) {
      continue;
    }
    CA_ENSURE(r > 0, CA_ERR_KEY_FILE, "cannot read %s", path);
    text_len += (size_t)r;
  }
  CBS in, label;
  CBS_init(&in, text, text_len);
  CA_ENSURE(ca_pem_next(&in, &label, &der, &der_len, KEY_FILE_MAX) &&
                ca_pem_label_is(&label, "PRIVATE KEY"),
            CA_ERR_KEY_FILE, "%s holds no PKCS#8 PRIVATE KEY block", path);
  CBS der_cbs;
  CBS_init(&der_cbs, der, der_len);
  key = EVP_parse_private_key(&der_cbs);
  CA_ENSURE(key != NULL && CBS_len(&der_cbs) == 0, CA_ERR_KEY_FILE,
            "%s: unreadable private key", path);
  goto done;
err:
  EVP_PKEY_free(key);
  key = NULL;
done:
  if (fd >= 0) {
    close(fd);
  }
  if (text != NULL) {
    OPENSSL_cleanse(text, text_len);
    OPENSSL_free(text);
  }
  if (der != NULL) {
    OPENSSL_cleanse(der, der_len);
    OPENSSL_free(der);
  }
  return key;
}

int ca_key_matches(const EVP_PKEY *key, const CBS *spki) {
  CBS in = *spki;
  EVP_PKEY *pub = EVP_parse_public_key(&in);
  if (pub == NULL) {
    return 0;
  }
  const int match = EVP_PKEY_cmp(key, pub) == 1;
  EVP_PKEY_free(pub);
  return match;
}

void ca_cbb_cleanse_cleanup(CBB *cbb) {
  // |base| is NULL in a zeroed CBB (bytestring.h declares the struct).
  if (cbb->base != NULL) {
    OPENSSL_cleanse((uint8_t *)CBB_data(cbb), CBB_len(cbb));
  }
  CBB_cleanup(cbb);
}
