// Unit tests of ca/key.c: key specs, key generation, and the key files of
// DESIGN.md invariant 7 (PKCS#8 PEM, mode 0600 whatever the umask, never
// overwritten, refused when group or others may read them). Files written
// by pki are read back with BoringSSL's PEM reader, and files written by
// BoringSSL are read with pki's.
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

#include "ca/key.h"
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
    CHECK(ca_key_spec_parse(kGood[i].text, &spec));
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
    const int ok = ca_key_spec_parse(kBad[i], &spec);
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
  CHECK(!ca_key_spec_parse(long_text, &spec));
  CHECK(strlen(ca_err_get()->message) < CA_ERR_MESSAGE_LEN);
  // A small buffer for the name is truncated, not overrun.
  ca_key_spec rsa = {.type = CA_KEY_RSA, .rsa_bits = 4096};
  char tiny[5];
  ca_key_spec_name(&rsa, tiny, sizeof(tiny));
  CHECK_EQ_STR(tiny, "RSA-");
}

TEST(generate) {
  ca_key_spec spec;
  CHECK(ca_key_spec_parse("EC-P384", &spec));
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
    CHECK(ca_key_write_file(path, keys[i]));
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
    EVP_PKEY *ours = ca_key_read_file(path);
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
  CHECK(ca_key_write_file(path, ec_key));
  struct stat st;
  CHECK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0600);
  umask(old_umask);
}

TEST(never_overwrites) {
  const char *path = path_of("once.key");
  unlink(path);
  CHECK(ca_key_write_file(path, ec_key));
  size_t before_len = 0, after_len = 0;
  char *before = read_all(path, &before_len);
  ca_err_clear();
  CHECK(!ca_key_write_file(path, rsa_key));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_KEY_FILE);
  char *after = read_all(path, &after_len);
  // The file is the first key still, untouched.
  CHECK(before != NULL && after != NULL && before_len == after_len &&
        memcmp(before, after, before_len) == 0);
  EVP_PKEY *read_back = ca_key_read_file(path);
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
  CHECK(!ca_key_write_file(link_path, ec_key));
  CHECK(access(target, F_OK) != 0);
  unlink(link_path);
  // A directory that does not exist.
  CHECK(!ca_key_write_file(path_of("no/such/dir.key"), ec_key));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_KEY_FILE);
}

TEST(permissions_are_enforced) {
  const char *path = path_of("perm.key");
  unlink(path);
  CHECK(ca_key_write_file(path, ec_key));
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
    EVP_PKEY *key = ca_key_read_file(path);
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
  CHECK(ca_key_read_file(path) == NULL);
  CHECK(strstr(ca_err_get()->message, "644") != NULL);
  // The message starts with the path and is cut at CA_ERR_MESSAGE_LEN: the
  // advice at its end survives only with a path of reasonable length.
  if (strlen(path) < 100) {
    CHECK(strstr(ca_err_get()->message, "chmod 600") != NULL);
  }
  CHECK(chmod(path, 0600) == 0);
  EVP_PKEY *key = ca_key_read_file(path);
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
  EVP_PKEY *key = ca_key_read_file(path);
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
    EVP_PKEY *key = ca_key_read_file(path);
    CHECK(key != NULL && EVP_PKEY_cmp(key, keys[i]) == 1);
    EVP_PKEY_free(key);
    BIO_free(bio);
    unlink(path);
  }
}

TEST(matches) {
  uint8_t *spki = NULL;
  int len = i2d_PUBKEY(ec_key, &spki);
  CBS cbs;
  CBS_init(&cbs, spki, (size_t)len);
  CHECK_EQ_INT(ca_key_matches(ec_key, &cbs), 1);
  CHECK_EQ_INT(ca_key_matches(rsa_key, &cbs), 0);
  ca_key_spec spec;
  CHECK(ca_key_spec_parse("EC-P256", &spec));
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

int main(void) {
  const char *tmp = getenv("TEST_TMPDIR");
  snprintf(dir, sizeof(dir), "%s/key_test.XXXXXX",
           tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
  if (mkdtemp(dir) == NULL) {
    perror("mkdtemp");
    return 1;
  }
  ca_key_spec spec;
  if (!ca_key_spec_parse("RSA-2048", &spec) ||
      (rsa_key = ca_key_generate(&spec)) == NULL ||
      !ca_key_spec_parse("EC-P256", &spec) ||
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
