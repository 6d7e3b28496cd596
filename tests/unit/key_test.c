// Unit tests of ca/x509/key.c: key specs, key generation, and the key files of
// ARCHITECTURE.md invariant 7 (PKCS#8 PEM, mode 0600 whatever the umask, never
// overwritten, refused when group or others may read them). Files written
// by pki are read back with BoringSSL's PEM reader, and files written by
// BoringSSL are read with pki's.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/bytestring.h>
#include <openssl/cipher.h>
#include <openssl/ec.h>
#include <openssl/ec_key.h>
#include <openssl/evp.h>
#include <openssl/mem.h>
#include <openssl/nid.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ca/limits.h"
#include "ca/x509/key.h"
#include "ca/x509/pem.h"
#include "tests/support/test.h"

static char dir[4096];
static EVP_PKEY *rsa_key, *ec_key;

// path_of returns |dir|/|name| in a static buffer (two in rotation).
static const char *path_of(const char *name) {
  static char bufs[2][4200];
  static int which;
  char *out = bufs[which++ % 2];
  snprintf(out, sizeof(bufs[0]), "%s/%s", dir, name);
  return out;
}

static int write_raw(const char *path, const void *data, size_t len,
                     mode_t mode) {
  unlink(path);
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0) {
    return 0;
  }
  const int ok = write(fd, data, len) == (ssize_t)len && fchmod(fd, mode) == 0;
  close(fd);
  return ok;
}

static char *read_all(const char *path, size_t *out_len) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    return NULL;
  }
  char *buf = malloc(1 << 17);
  *out_len = fread(buf, 1, (1 << 17) - 1, f);
  buf[*out_len] = '\0';
  fclose(f);
  return buf;
}

TEST(spec_parse) {
  static const struct {
    const char *text;
    ca_key_type type;
    unsigned bits;
    int nid;
    const char *canonical;
  } kGood[] = {
      {"RSA-2048", CA_KEY_RSA, 2048, 0, "RSA-2048"},
      {"rsa-2048", CA_KEY_RSA, 2048, 0, "RSA-2048"},
      {"rsa2048", CA_KEY_RSA, 2048, 0, "RSA-2048"},
      {"RSA", CA_KEY_RSA, 2048, 0, "RSA-2048"},
      {"RSA-3072", CA_KEY_RSA, 3072, 0, "RSA-3072"},
      {"rsa3072", CA_KEY_RSA, 3072, 0, "RSA-3072"},
      {"RSA-4096", CA_KEY_RSA, 4096, 0, "RSA-4096"},
      {"RSA4096", CA_KEY_RSA, 4096, 0, "RSA-4096"},
      {"RSA-1024", CA_KEY_RSA, 1024, 0, "RSA-1024"},
      {"EC-P256", CA_KEY_EC, 0, NID_X9_62_prime256v1, "EC-P256"},
      {"ec-p256", CA_KEY_EC, 0, NID_X9_62_prime256v1, "EC-P256"},
      {"p256", CA_KEY_EC, 0, NID_X9_62_prime256v1, "EC-P256"},
      {"P256", CA_KEY_EC, 0, NID_X9_62_prime256v1, "EC-P256"},
      {"ec", CA_KEY_EC, 0, NID_X9_62_prime256v1, "EC-P256"},
      {"EC-P384", CA_KEY_EC, 0, NID_secp384r1, "EC-P384"},
      {"p384", CA_KEY_EC, 0, NID_secp384r1, "EC-P384"},
  };
  for (size_t i = 0; i < sizeof(kGood) / sizeof(kGood[0]); i++) {
    ca_key_spec spec;
    memset(&spec, 0xaa, sizeof(spec));
    CHECK(ca_key_spec_parse(&spec, kGood[i].text));
    CHECK_EQ_INT(spec.type, kGood[i].type);
    if (spec.type == CA_KEY_RSA) {
      CHECK_EQ_INT(spec.rsa_bits, kGood[i].bits);
    } else {
      CHECK_EQ_INT(spec.curve_nid, kGood[i].nid);
    }
    char name[32];
    ca_key_spec_name(&spec, name, sizeof(name));
    CHECK_EQ_STR(name, kGood[i].canonical);
  }
  static const char *const kBad[] = {
      "",     "RSA-512", "RSA-2047",  "RSA-8192",  "EC-P521",
      "p521", "EC-P224", "RSA-2048 ", " RSA-2048", "RSA_2048",
      "DSA",  "ed25519", "RSA-20480", "ecdsa",
  };
  for (size_t i = 0; i < sizeof(kBad) / sizeof(kBad[0]); i++) {
    ca_key_spec spec;
    ca_err_clear();
    const int ok = ca_key_spec_parse(&spec, kBad[i]);
    if (ok) {
      fprintf(stderr, "  accepted \"%s\"\n", kBad[i]);
    }
    CHECK(!ok);
    CHECK_EQ_INT(ca_err_get()->code, CA_ERR_PARAMETER_INVALID);
  }
  // A long name is quoted in the message, bounded.
  char long_text[600];
  memset(long_text, 'z', sizeof(long_text) - 1);
  long_text[sizeof(long_text) - 1] = '\0';
  ca_key_spec spec;
  CHECK(!ca_key_spec_parse(&spec, long_text));
  CHECK(strlen(ca_err_get()->message) < CA_ERR_MESSAGE_LEN);
  // A small buffer for the name is truncated, not overrun.
  ca_key_spec rsa = {.type = CA_KEY_RSA, .rsa_bits = 4096};
  char tiny[5];
  ca_key_spec_name(&rsa, tiny, sizeof(tiny));
  CHECK_EQ_STR(tiny, "RSA-");
}

TEST(generate) {
  ca_key_spec spec;
  CHECK(ca_key_spec_parse(&spec, "EC-P384"));
  EVP_PKEY *p384 = ca_key_generate(&spec);
  CHECK(p384 != NULL && EVP_PKEY_id(p384) == EVP_PKEY_EC);
  if (p384 != NULL) {
    const EC_KEY *ec = EVP_PKEY_get0_EC_KEY(p384);
    CHECK_EQ_INT(EC_GROUP_get_curve_name(EC_KEY_get0_group(ec)), NID_secp384r1);
    CHECK(EC_KEY_get0_private_key(ec) != NULL && EC_KEY_check_key(ec));
  }
  // Two keys of one spec differ.
  EVP_PKEY *again = ca_key_generate(&spec);
  CHECK(again != NULL && EVP_PKEY_cmp(p384, again) == 0);
  EVP_PKEY_free(p384);
  EVP_PKEY_free(again);
  // RSA: the size asked for, e = 65537, a consistent key.
  CHECK(rsa_key != NULL && EVP_PKEY_id(rsa_key) == EVP_PKEY_RSA);
  const RSA *rsa = EVP_PKEY_get0_RSA(rsa_key);
  CHECK(rsa != NULL && RSA_bits(rsa) == 2048);
  CHECK(rsa != NULL && BN_get_word(RSA_get0_e(rsa)) == RSA_F4);
  CHECK(rsa != NULL && RSA_check_key(rsa));
  CHECK(ec_key != NULL &&
        EC_GROUP_get_curve_name(EC_KEY_get0_group(
            EVP_PKEY_get0_EC_KEY(ec_key))) == NID_X9_62_prime256v1);
  // Specs that name no key.
  ca_key_spec none = {.type = CA_KEY_NONE};
  ca_err_clear();
  CHECK(ca_key_generate(&none) == NULL);
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_INTERNAL);
  ca_key_spec bad_curve = {.type = CA_KEY_EC, .curve_nid = NID_sha256};
  ca_err_clear();
  CHECK(ca_key_generate(&bad_curve) == NULL);
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_INTERNAL);
}

// boringssl_read reads a PEM private key file with BoringSSL.
static EVP_PKEY *boringssl_read(const char *path) {
  BIO *bio = BIO_new_file(path, "r");
  EVP_PKEY *key =
      bio != NULL ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
  BIO_free(bio);
  return key;
}

TEST(write_and_read_back) {
  EVP_PKEY *keys[2] = {ec_key, rsa_key};
  const char *names[2] = {"ec.key", "rsa.key"};
  // The mode must be 0600 whatever the umask, even a permissive one.
  const mode_t old_umask = umask(0);
  for (int i = 0; i < 2; i++) {
    const char *path = path_of(names[i]);
    unlink(path);
    CHECK(ca_key_write_file(path, keys[i], NULL));
    struct stat st;
    CHECK(stat(path, &st) == 0);
    CHECK_EQ_INT(st.st_mode & 07777, 0600);
    CHECK(S_ISREG(st.st_mode));
    size_t len = 0;
    char *text = read_all(path, &len);
    CHECK(text != NULL &&
          strncmp(text, "-----BEGIN PRIVATE KEY-----\n", 28) == 0);
    CHECK(text != NULL && strstr(text, "-----END PRIVATE KEY-----\n") != NULL &&
          text[len - 1] == '\n');
    free(text);
    // BoringSSL's reader gets the same key.
    EVP_PKEY *theirs = boringssl_read(path);
    CHECK(theirs != NULL && EVP_PKEY_cmp(theirs, keys[i]) == 1);
    EVP_PKEY_free(theirs);
    // And pki's.
    EVP_PKEY *ours = ca_key_read_file(path, NULL);
    CHECK(ours != NULL && EVP_PKEY_cmp(ours, keys[i]) == 1);
    // The private part too: a signature by the read key verifies with the
    // original's public key.
    uint8_t sig[512];
    size_t sig_len = sizeof(sig);
    EVP_MD_CTX ctx;
    EVP_MD_CTX_init(&ctx);
    CHECK(ours != NULL &&
          EVP_DigestSignInit(&ctx, NULL, EVP_sha256(), NULL, ours) &&
          EVP_DigestSign(&ctx, sig, &sig_len, (const uint8_t *)"m", 1));
    EVP_MD_CTX_cleanup(&ctx);
    EVP_MD_CTX_init(&ctx);
    CHECK(EVP_DigestVerifyInit(&ctx, NULL, EVP_sha256(), NULL, keys[i]) &&
          EVP_DigestVerify(&ctx, sig, sig_len, (const uint8_t *)"m", 1));
    EVP_MD_CTX_cleanup(&ctx);
    EVP_PKEY_free(ours);
  }
  // A restrictive umask does not matter either.
  umask(0077);
  const char *path = path_of("umask.key");
  unlink(path);
  CHECK(ca_key_write_file(path, ec_key, NULL));
  struct stat st;
  CHECK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0600);
  umask(old_umask);
}

TEST(never_overwrites) {
  const char *path = path_of("once.key");
  unlink(path);
  CHECK(ca_key_write_file(path, ec_key, NULL));
  size_t before_len = 0, after_len = 0;
  char *before = read_all(path, &before_len);
  ca_err_clear();
  CHECK(!ca_key_write_file(path, rsa_key, NULL));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_KEY_FILE);
  char *after = read_all(path, &after_len);
  // The file is the first key still, untouched.
  CHECK(before != NULL && after != NULL && before_len == after_len &&
        memcmp(before, after, before_len) == 0);
  EVP_PKEY *read_back = ca_key_read_file(path, NULL);
  CHECK(read_back != NULL && EVP_PKEY_cmp(read_back, ec_key) == 1);
  EVP_PKEY_free(read_back);
  free(before);
  free(after);
  // Not through a dangling symbolic link either (O_EXCL).
  const char *link_path = path_of("link.key");
  const char *target = path_of("target-does-not-exist");
  unlink(link_path);
  unlink(target);
  CHECK(symlink(target, link_path) == 0);
  CHECK(!ca_key_write_file(link_path, ec_key, NULL));
  CHECK(access(target, F_OK) != 0);
  unlink(link_path);
  // A directory that does not exist.
  CHECK(!ca_key_write_file(path_of("no/such/dir.key"), ec_key, NULL));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_KEY_FILE);
}

TEST(permissions_are_enforced) {
  const char *path = path_of("perm.key");
  unlink(path);
  CHECK(ca_key_write_file(path, ec_key, NULL));
  static const struct {
    mode_t mode;
    int ok;
  } kModes[] = {
      {0600, 1}, {0400, 1}, {0700, 1}, {0644, 0}, {0640, 0},
      {0604, 0}, {0660, 0}, {0620, 0}, {0602, 0}, {0601, 0},
      {0610, 0}, {0666, 0}, {0777, 0},
  };
  for (size_t i = 0; i < sizeof(kModes) / sizeof(kModes[0]); i++) {
    CHECK(chmod(path, kModes[i].mode) == 0);
    ca_err_clear();
    EVP_PKEY *key = ca_key_read_file(path, NULL);
    const int want = kModes[i].ok;
    if ((key != NULL) != want) {
      fprintf(stderr, "  mode %03o: %s\n", (unsigned)kModes[i].mode,
              key != NULL ? "accepted" : ca_err_get()->message);
    }
    CHECK_EQ_INT(key != NULL, want);
    if (!want) {
      CHECK_EQ_INT(ca_err_get()->code, CA_ERR_KEY_FILE);
    }
    EVP_PKEY_free(key);
  }
  // The refusal says why and how to fix it.
  CHECK(chmod(path, 0644) == 0);
  CHECK(ca_key_read_file(path, NULL) == NULL);
  CHECK(strstr(ca_err_get()->message, "644") != NULL);
  // The message starts with the path and is cut at CA_ERR_MESSAGE_LEN: the
  // advice at its end survives only with a path of reasonable length.
  if (strlen(path) < 100) {
    CHECK(strstr(ca_err_get()->message, "chmod 600") != NULL);
  }
  CHECK(chmod(path, 0600) == 0);
  EVP_PKEY *key = ca_key_read_file(path, NULL);
  CHECK(key != NULL);
  EVP_PKEY_free(key);
}

// write_bio_file writes what a BoringSSL PEM writer left in |bio| to |path|
// with |mode|.
static int write_bio_file(const char *path, BIO *bio, mode_t mode) {
  const uint8_t *data;
  size_t len;
  return BIO_mem_contents(bio, &data, &len) && write_raw(path, data, len, mode);
}

static int read_code(const char *path) {
  ca_err_clear();
  EVP_PKEY *key = ca_key_read_file(path, NULL);
  if (key != NULL) {
    EVP_PKEY_free(key);
    return CA_OK;
  }
  return ca_err_get()->code;
}

TEST(read_refusals) {
  // Nothing there; a directory; an empty file.
  CHECK_EQ_INT(read_code(path_of("missing.key")), CA_ERR_KEY_FILE);
  const char *sub = path_of("subdir");
  rmdir(sub);
  CHECK(mkdir(sub, 0700) == 0);
  CHECK_EQ_INT(read_code(sub), CA_ERR_KEY_FILE);
  rmdir(sub);
  const char *path = path_of("bad.key");
  CHECK(write_raw(path, "", 0, 0600));
  CHECK_EQ_INT(read_code(path), CA_ERR_KEY_FILE);
  // Larger than any key file.
  char *big = malloc(70 * 1024);
  memset(big, 'A', 70 * 1024);
  CHECK(write_raw(path, big, 70 * 1024, 0600));
  CHECK_EQ_INT(read_code(path), CA_ERR_KEY_FILE);
  free(big);
  // Not PEM; PEM that is no key; a PRIVATE KEY block of garbage.
  CHECK(write_raw(path, "hello\n", 6, 0600));
  CHECK_EQ_INT(read_code(path), CA_ERR_KEY_FILE);
  static const char kCert[] =
      "-----BEGIN CERTIFICATE-----\nMAA=\n"
      "-----END CERTIFICATE-----\n";
  CHECK(write_raw(path, kCert, sizeof(kCert) - 1, 0600));
  CHECK_EQ_INT(read_code(path), CA_ERR_KEY_FILE);
  static const char kGarbage[] =
      "-----BEGIN PRIVATE KEY-----\nAQIDBA==\n"
      "-----END PRIVATE KEY-----\n";
  CHECK(write_raw(path, kGarbage, sizeof(kGarbage) - 1, 0600));
  CHECK_EQ_INT(read_code(path), CA_ERR_KEY_FILE);
  // A SEC1 "EC PRIVATE KEY" file (openssl ecparam -genkey) is not PKCS#8.
  BIO *bio = BIO_new(BIO_s_mem());
  CHECK(PEM_write_bio_ECPrivateKey(bio, EVP_PKEY_get0_EC_KEY(ec_key), NULL,
                                   NULL, 0, NULL, NULL));
  CHECK(write_bio_file(path, bio, 0600));
  CHECK_EQ_INT(read_code(path), CA_ERR_KEY_FILE);
  BIO_free(bio);
  // An encrypted PKCS#8 file.
  bio = BIO_new(BIO_s_mem());
  CHECK(PEM_write_bio_PKCS8PrivateKey(bio, ec_key, EVP_aes_128_cbc(),
                                      (char *)"secret", 6, NULL, NULL));
  CHECK(write_bio_file(path, bio, 0600));
  CHECK_EQ_INT(read_code(path), CA_ERR_KEY_FILE);
  BIO_free(bio);
  // A public key.
  bio = BIO_new(BIO_s_mem());
  CHECK(PEM_write_bio_PUBKEY(bio, ec_key));
  CHECK(write_bio_file(path, bio, 0600));
  CHECK_EQ_INT(read_code(path), CA_ERR_KEY_FILE);
  BIO_free(bio);
  // A PKCS#8 key followed by extra bytes inside the block.
  CBB der;
  CHECK(CBB_init(&der, 256) && EVP_marshal_private_key(&der, ec_key) &&
        CBB_add_u8(&der, 0));
  bio = BIO_new(BIO_s_mem());
  CHECK(PEM_write_bio(bio, "PRIVATE KEY", "", CBB_data(&der),
                      (long)CBB_len(&der)) > 0);
  CHECK(write_bio_file(path, bio, 0600));
  CHECK_EQ_INT(read_code(path), CA_ERR_KEY_FILE);
  BIO_free(bio);
  CBB_cleanup(&der);
  unlink(path);
}

TEST(reads_keys_other_tools_wrote) {
  // BoringSSL's unencrypted PKCS#8 writer, with explanatory text before the
  // block as openssl pkcs12 writes ("Bag Attributes ...").
  EVP_PKEY *keys[2] = {ec_key, rsa_key};
  for (int i = 0; i < 2; i++) {
    BIO *bio = BIO_new(BIO_s_mem());
    CHECK(BIO_puts(bio, "Bag Attributes\n    localKeyID: 01\n") > 0);
    CHECK(
        PEM_write_bio_PKCS8PrivateKey(bio, keys[i], NULL, NULL, 0, NULL, NULL));
    const char *path = path_of("other.key");
    CHECK(write_bio_file(path, bio, 0400));
    EVP_PKEY *key = ca_key_read_file(path, NULL);
    CHECK(key != NULL && EVP_PKEY_cmp(key, keys[i]) == 1);
    EVP_PKEY_free(key);
    BIO_free(bio);
    unlink(path);
  }
}

// ca_key_parse_pem (pkictl csr --key): the three PEM forms openssl writes,
// after other blocks and text, and the refusals.
TEST(parse_pem_forms) {
  EVP_PKEY *keys[2] = {ec_key, rsa_key};
  for (int i = 0; i < 2; i++) {
    for (int form = 0; form < 2; form++) {
      BIO *bio = BIO_new(BIO_s_mem());
      CHECK(BIO_puts(bio,
                     "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n"
                     "-----END EC PARAMETERS-----\nsome words\n") > 0);
      int ok;
      if (form == 0) {
        ok = PEM_write_bio_PKCS8PrivateKey(bio, keys[i], NULL, NULL, 0, NULL,
                                           NULL);
      } else if (i == 0) {
        ok = PEM_write_bio_ECPrivateKey(bio, EVP_PKEY_get0_EC_KEY(keys[i]),
                                        NULL, NULL, 0, NULL, NULL);
      } else {
        ok = PEM_write_bio_RSAPrivateKey(bio, EVP_PKEY_get0_RSA(keys[i]), NULL,
                                         NULL, 0, NULL, NULL);
      }
      CHECK(ok);
      const uint8_t *data;
      size_t len;
      CHECK(BIO_mem_contents(bio, &data, &len));
      EVP_PKEY *key = ca_key_parse_pem(data, len);
      CHECK(key != NULL && EVP_PKEY_cmp(key, keys[i]) == 1);
      EVP_PKEY_free(key);
      BIO_free(bio);
    }
  }
  // Encrypted PKCS#8, no key, a damaged key: KEY_FILE.
  BIO *bio = BIO_new(BIO_s_mem());
  CHECK(PEM_write_bio_PKCS8PrivateKey(bio, ec_key, EVP_aes_256_cbc(), NULL, 0,
                                      NULL, (void *)"secret"));
  const uint8_t *data;
  size_t len;
  CHECK(BIO_mem_contents(bio, &data, &len));
  CHECK(ca_key_parse_pem(data, len) == NULL);
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_KEY_FILE);
  CHECK(strstr(ca_err_get()->message, "encrypted") != NULL);
  BIO_free(bio);
  static const char kNone[] = "no key here\n";
  CHECK(ca_key_parse_pem((const uint8_t *)kNone, sizeof(kNone) - 1) == NULL);
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_KEY_FILE);
  static const char kDamaged[] =
      "-----BEGIN EC PRIVATE KEY-----\nMAA=\n-----END EC PRIVATE KEY-----\n";
  CHECK(ca_key_parse_pem((const uint8_t *)kDamaged, sizeof(kDamaged) - 1) ==
        NULL);
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_KEY_FILE);
}

TEST(matches) {
  uint8_t *spki = NULL;
  int len = i2d_PUBKEY(ec_key, &spki);
  CBS cbs;
  CBS_init(&cbs, spki, (size_t)len);
  CHECK_EQ_INT(ca_key_matches(ec_key, &cbs), 1);
  CHECK_EQ_INT(ca_key_matches(rsa_key, &cbs), 0);
  ca_key_spec spec;
  CHECK(ca_key_spec_parse(&spec, "EC-P256"));
  EVP_PKEY *other = ca_key_generate(&spec);
  CHECK_EQ_INT(ca_key_matches(other, &cbs), 0);
  EVP_PKEY_free(other);
  OPENSSL_free(spki);
  spki = NULL;
  len = i2d_PUBKEY(rsa_key, &spki);
  CBS_init(&cbs, spki, (size_t)len);
  CHECK_EQ_INT(ca_key_matches(rsa_key, &cbs), 1);
  CHECK_EQ_INT(ca_key_matches(ec_key, &cbs), 0);
  // Not a key at all.
  CBS_init(&cbs, spki, (size_t)len / 2);
  CHECK_EQ_INT(ca_key_matches(rsa_key, &cbs), 0);
  CBS_init(&cbs, (const uint8_t *)"\x30\x00", 2);
  CHECK_EQ_INT(ca_key_matches(rsa_key, &cbs), 0);
  OPENSSL_free(spki);
}

// The encrypted key files of pkid --key-passphrase-file / PKI_KEY_PASSPHRASE.

static int read_code_with(const char *path, const char *passphrase) {
  ca_err_clear();
  EVP_PKEY *key = ca_key_read_file(path, passphrase);
  if (key != NULL) {
    EVP_PKEY_free(key);
    return CA_OK;
  }
  return ca_err_get()->code;
}

TEST(encrypted_round_trip) {
  EVP_PKEY *keys[2] = {ec_key, rsa_key};
  for (int i = 0; i < 2; i++) {
    const char *path = path_of("enc.key");
    unlink(path);
    CHECK(ca_key_write_file(path, keys[i], "correct horse"));
    struct stat st;
    CHECK(stat(path, &st) == 0);
    CHECK_EQ_INT(st.st_mode & 0777, 0600);
    size_t len;
    char *text = read_all(path, &len);
    CHECK(text != NULL);
    CHECK(strncmp(text, "-----BEGIN ENCRYPTED PRIVATE KEY-----\n", 38) == 0);
    free(text);
    EVP_PKEY *key = ca_key_read_file(path, "correct horse");
    CHECK(key != NULL && EVP_PKEY_cmp(key, keys[i]) == 1);
    EVP_PKEY_free(key);
    // BoringSSL's own reader agrees.
    BIO *bio = BIO_new_file(path, "r");
    CHECK(bio != NULL);
    key = PEM_read_bio_PrivateKey(bio, NULL, NULL, (void *)"correct horse");
    CHECK(key != NULL && EVP_PKEY_cmp(key, keys[i]) == 1);
    EVP_PKEY_free(key);
    BIO_free(bio);
    // Wrong passphrase, no passphrase.
    CHECK_EQ_INT(read_code_with(path, "correct horsf"), CA_ERR_KEY_FILE);
    CHECK(strstr(ca_err_get()->message, "wrong passphrase") != NULL);
    CHECK_EQ_INT(read_code_with(path, NULL), CA_ERR_KEY_FILE);
    CHECK(strstr(ca_err_get()->message, "passphrase") != NULL);
    // The mode check applies to encrypted files too.
    CHECK(chmod(path, 0640) == 0);
    CHECK_EQ_INT(read_code_with(path, "correct horse"), CA_ERR_KEY_FILE);
    CHECK(strstr(ca_err_get()->message, "640") != NULL);
    unlink(path);
  }
  // An empty passphrase encrypts nothing: refused, no file left.
  const char *path = path_of("enc.key");
  unlink(path);
  ca_err_clear();
  CHECK(!ca_key_write_file(path, ec_key, ""));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_CONFIG);
  CHECK(access(path, F_OK) != 0);
}

TEST(unencrypted_read_with_passphrase) {
  const char *path = path_of("plain.key");
  unlink(path);
  CHECK(ca_key_write_file(path, ec_key, NULL));
  EVP_PKEY *key = ca_key_read_file(path, "any passphrase");
  CHECK(key != NULL && EVP_PKEY_cmp(key, ec_key) == 1);
  EVP_PKEY_free(key);
  unlink(path);
}

// run_openssl runs |cmd| and returns its first output line in |out|.
static int run_openssl(const char *cmd, char *out, size_t out_len) {
  FILE *p = popen(cmd, "r");
  if (p == NULL) {
    return 0;
  }
  size_t n = fread(out, 1, out_len - 1, p);
  out[n] = '\0';
  return pclose(p) == 0;
}

TEST(openssl_reads_and_writes_encrypted) {
  const char *path = path_of("enc.key");
  unlink(path);
  CHECK(ca_key_write_file(path, rsa_key, "s3cret"));
  // openssl pkey decrypts it to the same public key.
  char cmd[9000], out[4096];
  snprintf(cmd, sizeof(cmd),
           "openssl pkey -in '%s' -passin pass:s3cret -pubout 2>&1", path);
  CHECK(run_openssl(cmd, out, sizeof(out)));
  BIO *bio = BIO_new(BIO_s_mem());
  CHECK(PEM_write_bio_PUBKEY(bio, rsa_key));
  const uint8_t *pub;
  size_t pub_len;
  CHECK(BIO_mem_contents(bio, &pub, &pub_len));
  CHECK(strlen(out) == pub_len && memcmp(out, pub, pub_len) == 0);
  BIO_free(bio);
  // PBES2 with PBKDF2 and AES-256-CBC, at the documented count.
  snprintf(cmd, sizeof(cmd), "openssl asn1parse -in '%s' 2>&1", path);
  CHECK(run_openssl(cmd, out, sizeof(out)));
  CHECK(strstr(out, "PBES2") != NULL && strstr(out, "PBKDF2") != NULL);
  CHECK(strstr(out, "aes-256-cbc") != NULL);
  CHECK(strstr(out, ":13D620") != NULL);  // 1300000
  // A key openssl encrypted (the README's way to encrypt existing keys).
  const char *plain = path_of("plain.key");
  unlink(plain);
  unlink(path);
  CHECK(ca_key_write_file(plain, ec_key, NULL));
  snprintf(cmd, sizeof(cmd),
           "umask 077 && openssl pkcs8 -topk8 -v2 aes-256-cbc -iter 1000 "
           "-in '%s' -out '%s' -passout pass:s3cret 2>&1",
           plain, path);
  CHECK(run_openssl(cmd, out, sizeof(out)));
  EVP_PKEY *key = ca_key_read_file(path, "s3cret");
  CHECK(key != NULL && EVP_PKEY_cmp(key, ec_key) == 1);
  EVP_PKEY_free(key);
  CHECK_EQ_INT(read_code_with(path, "S3cret"), CA_ERR_KEY_FILE);
  unlink(plain);
  unlink(path);
}

// add_oid adds an OBJECT IDENTIFIER of the content |oid| to |cbb|.
static int add_oid(CBB *cbb, const uint8_t *oid, size_t len) {
  CBB child;
  return CBB_add_asn1(cbb, &child, CBS_ASN1_OBJECT) &&
         CBB_add_bytes(&child, oid, len) && CBB_flush(cbb);
}

// write_epki writes an EncryptedPrivateKeyInfo of PBES2 with the PBKDF2
// count |iterations| and junk ciphertext.
static int write_epki(const char *path, uint64_t iterations, int pbes2) {
  static const uint8_t kPBES2[] = {0x2a, 0x86, 0x48, 0x86, 0xf7,
                                   0x0d, 0x01, 0x05, 0x0d};
  static const uint8_t kPBES1[] = {0x2a, 0x86, 0x48, 0x86, 0xf7,
                                   0x0d, 0x01, 0x0c, 0x01, 0x03};
  static const uint8_t kPBKDF2[] = {0x2a, 0x86, 0x48, 0x86, 0xf7,
                                    0x0d, 0x01, 0x05, 0x0c};
  static const uint8_t kAES256CBC[] = {0x60, 0x86, 0x48, 0x01, 0x65,
                                       0x03, 0x04, 0x01, 0x2a};
  uint8_t junk[32] = {1, 2, 3};
  CBB cbb, epki, alg, params, kdf, kdf_params, enc;
  uint8_t *der = NULL;
  size_t der_len;
  int ok = CBB_init(&cbb, 256) &&
           CBB_add_asn1(&cbb, &epki, CBS_ASN1_SEQUENCE) &&
           CBB_add_asn1(&epki, &alg, CBS_ASN1_SEQUENCE) &&
           add_oid(&alg, pbes2 ? kPBES2 : kPBES1,
                   pbes2 ? sizeof(kPBES2) : sizeof(kPBES1)) &&
           CBB_add_asn1(&alg, &params, CBS_ASN1_SEQUENCE) &&
           CBB_add_asn1(&params, &kdf, CBS_ASN1_SEQUENCE) &&
           add_oid(&kdf, kPBKDF2, sizeof(kPBKDF2)) &&
           CBB_add_asn1(&kdf, &kdf_params, CBS_ASN1_SEQUENCE) &&
           CBB_add_asn1_octet_string(&kdf_params, junk, 8) &&
           CBB_add_asn1_uint64(&kdf_params, iterations) &&
           CBB_add_asn1(&params, &enc, CBS_ASN1_SEQUENCE) &&
           add_oid(&enc, kAES256CBC, sizeof(kAES256CBC)) &&
           CBB_add_asn1_octet_string(&enc, junk, 16) &&
           CBB_add_asn1_octet_string(&epki, junk, sizeof(junk)) &&
           CBB_finish(&cbb, &der, &der_len);
  if (!ok) {
    CBB_cleanup(&cbb);
    return 0;
  }
  CBB pem;
  ok = CBB_init(&pem, 1024) &&
       ca_pem_add(&pem, "ENCRYPTED PRIVATE KEY", der, der_len) &&
       write_raw(path, CBB_data(&pem), CBB_len(&pem), 0600);
  CBB_cleanup(&pem);
  OPENSSL_free(der);
  return ok;
}

TEST(iteration_bound) {
  const char *path = path_of("iter.key");
  // Beyond the bound: refused before any PBKDF2 work, whatever the
  // passphrase.
  CHECK(write_epki(path, CA_LIMIT_KEY_PBKDF2_ITERATIONS_MAX + 1, 1));
  CHECK_EQ_INT(read_code_with(path, "x"), CA_ERR_KEY_FILE);
  CHECK(strstr(ca_err_get()->message, "iteration count") != NULL);
  CHECK(write_epki(path, UINT64_MAX, 1));
  CHECK_EQ_INT(read_code_with(path, "x"), CA_ERR_KEY_FILE);
  CHECK(strstr(ca_err_get()->message, "iteration count") != NULL);
  CHECK(write_epki(path, 0, 1));
  CHECK_EQ_INT(read_code_with(path, "x"), CA_ERR_KEY_FILE);
  CHECK(strstr(ca_err_get()->message, "iteration count") != NULL);
  // Within it: the count is accepted and the junk fails to decrypt.
  CHECK(write_epki(path, 1000, 1));
  CHECK_EQ_INT(read_code_with(path, "x"), CA_ERR_KEY_FILE);
  CHECK(strstr(ca_err_get()->message, "wrong passphrase") != NULL);
  // PBES1 schemes are not read.
  CHECK(write_epki(path, 1000, 0));
  CHECK_EQ_INT(read_code_with(path, "x"), CA_ERR_KEY_FILE);
  CHECK(strstr(ca_err_get()->message, "PBES2") != NULL);
  unlink(path);
}

TEST(passphrase_file) {
  const char *path = path_of("pass.txt");
  char *pass = NULL;
  CHECK(write_raw(path, "first line\r\nsecond\n", 19, 0600));
  CHECK(ca_key_passphrase_read_file(path, &pass));
  CHECK(strcmp(pass, "first line") == 0);
  ca_key_passphrase_free(pass);
  pass = NULL;
  CHECK(write_raw(path, "no newline", 10, 0400));
  CHECK(ca_key_passphrase_read_file(path, &pass));
  CHECK(strcmp(pass, "no newline") == 0);
  ca_key_passphrase_free(pass);
  pass = NULL;
  // Readable by group or others: refused.
  CHECK(write_raw(path, "secret\n", 7, 0644));
  ca_err_clear();
  CHECK(!ca_key_passphrase_read_file(path, &pass));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_CONFIG);
  CHECK(strstr(ca_err_get()->message, "644") != NULL);
  CHECK(write_raw(path, "secret\n", 7, 0640));
  CHECK(!ca_key_passphrase_read_file(path, &pass));
  // Empty: refused.
  CHECK(write_raw(path, "\nsecond\n", 8, 0600));
  ca_err_clear();
  CHECK(!ca_key_passphrase_read_file(path, &pass));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_CONFIG);
  CHECK(strstr(ca_err_get()->message, "empty") != NULL);
  CHECK(write_raw(path, "", 0, 0600));
  CHECK(!ca_key_passphrase_read_file(path, &pass));
  // Too long: refused.
  static char big[CA_LIMIT_KEY_PASSPHRASE_BYTES + 10];
  memset(big, 'a', sizeof(big));
  CHECK(write_raw(path, big, sizeof(big), 0600));
  ca_err_clear();
  CHECK(!ca_key_passphrase_read_file(path, &pass));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_CONFIG);
  CHECK(write_raw(path, big, CA_LIMIT_KEY_PASSPHRASE_BYTES, 0600));
  CHECK(ca_key_passphrase_read_file(path, &pass));
  CHECK_EQ_INT(strlen(pass), CA_LIMIT_KEY_PASSPHRASE_BYTES);
  ca_key_passphrase_free(pass);
  // Missing.
  unlink(path);
  CHECK(!ca_key_passphrase_read_file(path, &pass));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_CONFIG);
}

// count_temporary counts the files of |dir| named like the temporary files
// of ca_key_write_file (NAME.tmp-XXXXXX).
static int count_temporary(void) {
  DIR *d = opendir(dir);
  if (d == NULL) {
    return -1;
  }
  int n = 0;
  for (struct dirent *e; (e = readdir(d)) != NULL;) {
    n += strstr(e->d_name, ".tmp-") != NULL;
  }
  closedir(d);
  return n;
}

// A key is written under a temporary name and linked into place: neither
// success nor any refusal leaves the temporary name behind.
TEST(leaves_no_temporary_file) {
  const char *path = path_of("linked.key");
  unlink(path);
  CHECK(ca_key_write_file(path, rsa_key, NULL));
  struct stat st;
  CHECK(stat(path, &st) == 0 && st.st_nlink == 1 &&
        (st.st_mode & 0777) == 0600);
  CHECK(!ca_key_write_file(path, ec_key, NULL));  // exists already
  CHECK(!ca_key_write_file(path_of("no/such/dir.key"), ec_key, NULL));
  CHECK_EQ_INT(count_temporary(), 0);
  EVP_PKEY *read_back = ca_key_read_file(path, NULL);
  CHECK(read_back != NULL && EVP_PKEY_cmp(read_back, rsa_key) == 1);
  EVP_PKEY_free(read_back);
}

int main(void) {
  const char *tmp = getenv("TEST_TMPDIR");
  snprintf(dir, sizeof(dir), "%s/key_test.XXXXXX",
           tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
  if (mkdtemp(dir) == NULL) {
    perror("mkdtemp");
    return 1;
  }
  ca_key_spec spec;
  if (!ca_key_spec_parse(&spec, "RSA-2048") ||
      (rsa_key = ca_key_generate(&spec)) == NULL ||
      !ca_key_spec_parse(&spec, "EC-P256") ||
      (ec_key = ca_key_generate(&spec)) == NULL) {
    fprintf(stderr, "cannot make keys\n");
    return 1;
  }
  RUN(spec_parse);
  RUN(generate);
  RUN(write_and_read_back);
  RUN(never_overwrites);
  RUN(permissions_are_enforced);
  RUN(read_refusals);
  RUN(reads_keys_other_tools_wrote);
  RUN(matches);
  RUN(encrypted_round_trip);
  RUN(unencrypted_read_with_passphrase);
  RUN(openssl_reads_and_writes_encrypted);
  RUN(parse_pem_forms);
  RUN(iteration_bound);
  RUN(passphrase_file);
  RUN(leaves_no_temporary_file);
  // Leave nothing behind.
  static const char *const kFiles[] = {"ec.key",   "rsa.key",  "umask.key",
                                       "once.key", "perm.key", "bad.key"};
  for (size_t i = 0; i < sizeof(kFiles) / sizeof(kFiles[0]); i++) {
    unlink(path_of(kFiles[i]));
  }
  rmdir(dir);
  EVP_PKEY_free(rsa_key);
  EVP_PKEY_free(ec_key);
  return test_summary();
}
