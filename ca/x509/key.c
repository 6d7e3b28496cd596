#include "ca/x509/key.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/cipher.h>
#include <openssl/ec.h>
#include <openssl/ec_key.h>
#include <openssl/evp.h>
#include <openssl/mem.h>
#include <openssl/nid.h>
#include <openssl/pkcs8.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ca/limits.h"
#include "ca/x509/pem.h"

int ca_key_spec_parse(ca_key_spec *out, const char *text) {
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
  CA_SET_ERROR(CA_ERR_PARAMETER_INVALID,
               "unknown key type \"%.32s\" (RSA-2048, RSA-3072, RSA-4096, "
               "EC-P256, EC-P384)",
               text);
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

// sync_dir makes the directory entry of |path| durable: after a crash the
// name must not point at nothing, nor be lost once reported written.
static int sync_dir(const char *path) {
  char dir[4096];
  const char *slash = strrchr(path, '/');
  if (slash == NULL) {
    snprintf(dir, sizeof(dir), ".");
  } else if (slash == path) {
    snprintf(dir, sizeof(dir), "/");
  } else {
    snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
  }
  const int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return 0;
  }
  const int ok = fsync(fd) == 0;
  close(fd);
  return ok;
}

int ca_key_write_file(const char *path, const EVP_PKEY *key,
                      const char *passphrase) {
  int ret = 0;
  CBB der, pem;
  CBB_zero(&der);
  CBB_zero(&pem);
  int fd = -1;
  char tmp[4096];
  tmp[0] = '\0';
  CA_GUARD_CRYPTO(CBB_init(&der, 2048));
  if (passphrase != NULL) {
    CA_ENSURE(passphrase[0] != '\0', CA_ERR_CONFIG, "empty key passphrase");
    // PBES2 (pbe_nid -1) with AES-256-CBC and a random salt of BoringSSL's
    // default length; see CA_LIMIT_KEY_PBKDF2_ITERATIONS for the count.
    CA_GUARD_CRYPTO(PKCS8_marshal_encrypted_private_key(
        &der, -1, EVP_aes_256_cbc(), passphrase, strlen(passphrase), NULL, 0,
        CA_LIMIT_KEY_PBKDF2_ITERATIONS, key));
  } else {
    CA_GUARD_CRYPTO(EVP_marshal_private_key(&der, key));
  }
  CA_GUARD_CRYPTO(CBB_init(&pem, 4096));
  // RFC 7468 section 11: EncryptedPrivateKeyInfo is labelled "ENCRYPTED
  // PRIVATE KEY", which is what openssl pkey expects.
  CA_GUARD(ca_pem_add(
      &pem, passphrase != NULL ? "ENCRYPTED PRIVATE KEY" : "PRIVATE KEY",
      CBB_data(&der), CBB_len(&der)));
  // The key is written to a temporary file beside |path|, synced, and only
  // then given its name: a full disk, a crash or a kill half-way can never
  // leave a truncated key under the name pkid loads.
  const int n = snprintf(tmp, sizeof(tmp), "%s.tmp-XXXXXX", path);
  CA_ENSURE(n > 0 && (size_t)n < sizeof(tmp), CA_ERR_KEY_FILE,
            "key path too long: %.64s", path);
  // mkostemp creates the file with mode 0600 and O_EXCL.
  fd = mkostemp(tmp, O_CLOEXEC);
  if (fd < 0) {
    const int e = errno;
    tmp[0] = '\0';
    CA_RAISE(CA_ERR_KEY_FILE, "cannot create %s: %s", path, strerror(e));
  }
  // The umask may have narrowed the mode further; it can never widen it,
  // but set it explicitly so the file is 0600 whatever the umask.
  CA_ENSURE(fchmod(fd, 0600) == 0, CA_ERR_KEY_FILE, "chmod %s: %s", tmp,
            strerror(errno));
  CA_ENSURE(write_all(fd, CBB_data(&pem), CBB_len(&pem)) && fsync(fd) == 0,
            CA_ERR_KEY_FILE, "cannot write %s: %s", path, strerror(errno));
  // The descriptor is gone after close() whatever it returns: never close
  // it twice (another thread may have been given the number since).
  const int closed = close(fd);
  fd = -1;
  CA_ENSURE(closed == 0, CA_ERR_KEY_FILE, "cannot close %s: %s", tmp,
            strerror(errno));
  // link(), not rename(): it fails with EEXIST instead of replacing. A key
  // file is never replaced; losing a CA key must be a deliberate act of the
  // operator.
  CA_ENSURE(link(tmp, path) == 0, CA_ERR_KEY_FILE, "cannot create %s: %s", path,
            strerror(errno));
  (void)unlink(tmp);
  tmp[0] = '\0';
  if (!sync_dir(path)) {
    const int e = errno;
    unlink(path);
    CA_RAISE(CA_ERR_KEY_FILE, "cannot sync the directory of %s: %s", path,
             strerror(e));
  }
  ret = 1;
err:
  // On success |fd| is closed (-1) and |tmp| linked and emptied.
  if (fd >= 0) {
    close(fd);
  }
  // A partly written key file must not be mistaken for a key later, nor
  // linger with key material in it.
  if (tmp[0] != '\0') {
    unlink(tmp);
  }
  ca_cbb_cleanse_cleanup(&der);
  ca_cbb_cleanse_cleanup(&pem);
  return ret;
}

// A key file larger than this is not a key file.
#define KEY_FILE_MAX (64 * 1024)

// pbkdf2_iterations reads the PBKDF2 iteration count of the
// EncryptedPrivateKeyInfo |der| (RFC 5958 section 3, PBES2 of RFC 8018
// appendix A.4) without decrypting anything, so that a file's count can be
// bounded before it drives the CPU. Only PBES2 with PBKDF2 is accepted: the
// PKCS#12 PBES1 schemes use RC4, RC2 or 3DES.
static int pbkdf2_iterations(const uint8_t *der, size_t der_len,
                             uint64_t *out) {
  // 1.2.840.113549.1.5.13 (id-PBES2) and 1.2.840.113549.1.5.12 (id-PBKDF2).
  static const uint8_t kPBES2[] = {0x2a, 0x86, 0x48, 0x86, 0xf7,
                                   0x0d, 0x01, 0x05, 0x0d};
  static const uint8_t kPBKDF2[] = {0x2a, 0x86, 0x48, 0x86, 0xf7,
                                    0x0d, 0x01, 0x05, 0x0c};
  CBS in, epki, alg, oid, params, kdf, kdf_oid, kdf_params, salt;
  CBS_init(&in, der, der_len);
  if (!CBS_get_asn1(&in, &epki, CBS_ASN1_SEQUENCE) ||
      !CBS_get_asn1(&epki, &alg, CBS_ASN1_SEQUENCE) ||
      !CBS_get_asn1(&alg, &oid, CBS_ASN1_OBJECT) ||
      !CBS_mem_equal(&oid, kPBES2, sizeof(kPBES2)) ||
      !CBS_get_asn1(&alg, &params, CBS_ASN1_SEQUENCE) ||
      !CBS_get_asn1(&params, &kdf, CBS_ASN1_SEQUENCE) ||
      !CBS_get_asn1(&kdf, &kdf_oid, CBS_ASN1_OBJECT) ||
      !CBS_mem_equal(&kdf_oid, kPBKDF2, sizeof(kPBKDF2)) ||
      !CBS_get_asn1(&kdf, &kdf_params, CBS_ASN1_SEQUENCE) ||
      !CBS_get_asn1(&kdf_params, &salt, CBS_ASN1_OCTETSTRING) ||
      !CBS_get_asn1_uint64(&kdf_params, out)) {
    return 0;
  }
  return 1;
}

// decrypt_key parses the EncryptedPrivateKeyInfo |der| with |passphrase|.
static EVP_PKEY *decrypt_key(const char *path, const uint8_t *der,
                             size_t der_len, const char *passphrase) {
  EVP_PKEY *key = NULL;
  uint64_t iterations = 0;
  CA_ENSURE(passphrase != NULL, CA_ERR_KEY_FILE,
            "%s is encrypted: pkid needs the key passphrase "
            "(--key-passphrase-file or PKI_KEY_PASSPHRASE)",
            path);
  CA_ENSURE(pbkdf2_iterations(der, der_len, &iterations), CA_ERR_KEY_FILE,
            "%s: not a PBES2/PBKDF2 encrypted key (re-encrypt with openssl "
            "pkcs8 -topk8 -v2 aes-256-cbc)",
            path);
  CA_ENSURE(iterations >= 1 && iterations <= CA_LIMIT_KEY_PBKDF2_ITERATIONS_MAX,
            CA_ERR_KEY_FILE, "%s: PBKDF2 iteration count %llu out of range",
            path, (unsigned long long)iterations);
  CBS cbs;
  CBS_init(&cbs, der, der_len);
  key = PKCS8_parse_encrypted_private_key(&cbs, passphrase, strlen(passphrase));
  // BoringSSL cannot tell a wrong passphrase from a damaged file: the
  // padding check of the decrypted data fails in both cases.
  CA_ENSURE(key != NULL && CBS_len(&cbs) == 0, CA_ERR_KEY_FILE,
            "%s: wrong passphrase or damaged key", path);
  return key;
err:
  EVP_PKEY_free(key);
  return NULL;
}

EVP_PKEY *ca_key_read_file(const char *path, const char *passphrase) {
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
  CA_ENSURE(ca_pem_next(&in, &label, &der, &der_len, KEY_FILE_MAX),
            CA_ERR_KEY_FILE, "%s holds no PKCS#8 PRIVATE KEY block", path);
  if (ca_pem_label_is(&label, "ENCRYPTED PRIVATE KEY")) {
    key = decrypt_key(path, der, der_len, passphrase);
    CA_GUARD_PTR(key);
  } else {
    // An unencrypted key is read even with a passphrase set, so that an
    // installation can start using one without converting its keys first.
    CA_ENSURE(ca_pem_label_is(&label, "PRIVATE KEY"), CA_ERR_KEY_FILE,
              "%s holds no PKCS#8 PRIVATE KEY block", path);
    CBS der_cbs;
    CBS_init(&der_cbs, der, der_len);
    key = EVP_parse_private_key(&der_cbs);
    CA_ENSURE(key != NULL && CBS_len(&der_cbs) == 0, CA_ERR_KEY_FILE,
              "%s: unreadable private key", path);
  }
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

int ca_key_passphrase_read_file(const char *path, char **out) {
  char buf[CA_LIMIT_KEY_PASSPHRASE_BYTES + 2];
  size_t len = 0;
  char *copy = NULL;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  CA_ENSURE(fd >= 0, CA_ERR_CONFIG, "cannot open %s: %s", path,
            strerror(errno));
  struct stat st;
  CA_ENSURE(fstat(fd, &st) == 0 && S_ISREG(st.st_mode), CA_ERR_CONFIG,
            "%s is not a file", path);
  // The passphrase protects the CA keys: a file others may read is as
  // exposed as an unencrypted key.
  CA_ENSURE((st.st_mode & 077) == 0, CA_ERR_CONFIG,
            "refusing a key passphrase file that group or others may access "
            "(mode %03o; fix with chmod 600): %s",
            (unsigned)(st.st_mode & 0777), path);
  // Read at most one byte more than a passphrase and its "\r\n" can take.
  for (;;) {
    ssize_t r = read(fd, buf + len, sizeof(buf) - len);
    if (r < 0 && errno == EINTR) {
      continue;
    }
    CA_ENSURE(r >= 0, CA_ERR_CONFIG, "cannot read %s", path);
    len += (size_t)r;
    if (r == 0 || len == sizeof(buf)) {
      break;
    }
  }
  // The first line; its "\r\n" or "\n" is not part of it.
  size_t line = 0;
  while (line < len && buf[line] != '\n') {
    line++;
  }
  if (line > 0 && buf[line - 1] == '\r') {
    line--;
  }
  CA_ENSURE(line <= CA_LIMIT_KEY_PASSPHRASE_BYTES, CA_ERR_CONFIG,
            "%s: key passphrase longer than %d bytes", path,
            CA_LIMIT_KEY_PASSPHRASE_BYTES);
  CA_ENSURE(line > 0, CA_ERR_CONFIG, "%s: empty key passphrase", path);
  CA_ENSURE(memchr(buf, '\0', line) == NULL, CA_ERR_CONFIG,
            "%s: key passphrase holds a NUL byte", path);
  copy = OPENSSL_malloc(line + 1);
  CA_ENSURE_ALLOC(copy);
  memcpy(copy, buf, line);
  copy[line] = '\0';
  close(fd);
  OPENSSL_cleanse(buf, sizeof(buf));
  *out = copy;
  return 1;
err:
  if (fd >= 0) {
    close(fd);
  }
  OPENSSL_cleanse(buf, sizeof(buf));
  return 0;
}

void ca_key_passphrase_free(char *passphrase) {
  if (passphrase != NULL) {
    OPENSSL_cleanse(passphrase, strlen(passphrase));
    OPENSSL_free(passphrase);
  }
}

// parse_key_block reads the DER of one PEM block labelled |label| as a
// private key: PKCS#8, PKCS#1 (RSA) or SEC 1 (EC).
static EVP_PKEY *parse_key_block(const CBS *label, const uint8_t *der,
                                 size_t der_len) {
  CBS in;
  CBS_init(&in, der, der_len);
  EVP_PKEY *key = NULL;
  if (ca_pem_label_is(label, "PRIVATE KEY")) {
    key = EVP_parse_private_key(&in);
  } else if (ca_pem_label_is(label, "RSA PRIVATE KEY")) {
    RSA *rsa = RSA_parse_private_key(&in);
    key = EVP_PKEY_new();
    if (rsa == NULL || key == NULL || !EVP_PKEY_assign_RSA(key, rsa)) {
      RSA_free(rsa);
      EVP_PKEY_free(key);
      key = NULL;
    }
  } else if (ca_pem_label_is(label, "EC PRIVATE KEY")) {
    // SEC 1 keys written by openssl name their curve in the key itself.
    EC_KEY *ec = EC_KEY_parse_private_key(&in, NULL);
    key = EVP_PKEY_new();
    if (ec == NULL || key == NULL || !EVP_PKEY_assign_EC_KEY(key, ec)) {
      EC_KEY_free(ec);
      EVP_PKEY_free(key);
      key = NULL;
    }
  }
  if (key != NULL && CBS_len(&in) != 0) {
    EVP_PKEY_free(key);
    key = NULL;
  }
  return key;
}

EVP_PKEY *ca_key_parse_pem(const uint8_t *text, size_t text_len) {
  CBS in, label;
  CBS_init(&in, text, text_len);
  for (;;) {
    uint8_t *der;
    size_t der_len;
    if (!ca_pem_next(&in, &label, &der, &der_len, KEY_FILE_MAX)) {
      // Legacy encrypted PEM (Proc-Type: 4,ENCRYPTED) fails as a broken
      // block.
      CA_SET_ERROR(CA_ERR_KEY_FILE,
                   "no unencrypted PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE "
                   "KEY block (decrypt an encrypted key first, e.g. openssl "
                   "pkey -in KEY -out PLAIN)");
      return NULL;
    }
    const int encrypted = ca_pem_label_is(&label, "ENCRYPTED PRIVATE KEY");
    const int is_key = ca_pem_label_is(&label, "PRIVATE KEY") ||
                       ca_pem_label_is(&label, "RSA PRIVATE KEY") ||
                       ca_pem_label_is(&label, "EC PRIVATE KEY");
    EVP_PKEY *key = is_key ? parse_key_block(&label, der, der_len) : NULL;
    OPENSSL_cleanse(der, der_len);
    OPENSSL_free(der);
    CA_ENSURE_RETURN(!encrypted, CA_ERR_KEY_FILE,
                     "the key is encrypted: decrypt it first (openssl pkey "
                     "-in KEY -out PLAIN)");
    if (is_key) {
      CA_ENSURE_RETURN(key != NULL, CA_ERR_KEY_FILE,
                       "unreadable private key (or of a type other than RSA "
                       "and EC)");
      return key;
    }
    // Another block (EC PARAMETERS before an openssl ecparam key): skip.
  }
}
