// Private keys: generation, and the key files of pki's CAs (PKCS#8 PEM,
// mode 0600, ARCHITECTURE.md invariant 7).
#ifndef PKI_CA_KEY_H
#define PKI_CA_KEY_H

#include <openssl/base.h>

#include "ca/error.h"
#include "ca/x509/csr.h"

// What kind of key to make.
typedef struct ca_key_spec {
  ca_key_type type;
  unsigned rsa_bits;  // 1024, 2048, 3072 or 4096
  int curve_nid;      // NID_X9_62_prime256v1 or NID_secp384r1
} ca_key_spec;

// ca_key_spec_parse reads "RSA-2048", "RSA-3072", "RSA-4096", "EC-P256" or
// "EC-P384" (also "rsa2048", "p256", ...) into |out|. It returns 0 with
// CA_ERR_PARAMETER_INVALID.
int ca_key_spec_parse(ca_key_spec *out, const char *text) CA_MUST_CHECK;

// ca_key_spec_name writes the canonical name ("RSA-2048", "EC-P256") of
// |spec| into |out| of |out_len| bytes.
void ca_key_spec_name(const ca_key_spec *spec, char *out, size_t out_len);

// ca_key_generate returns a new private key, or NULL with CA_ERR_INTERNAL.
// The caller frees it with EVP_PKEY_free.
EVP_PKEY *ca_key_generate(const ca_key_spec *spec);

// ca_key_write_file writes |key| as a PKCS#8 PEM file at |path|, created
// with mode 0600 and never overwriting an existing file, and syncs it to
// disk. The key is written and synced under a temporary name beside |path|
// (|path|.tmp-XXXXXX, removed on failure) and then linked to |path| and the
// directory synced, so that |path| holds the whole key or does not exist,
// whatever happens half-way (a full disk: ENOSPC in the message). With a
// |passphrase| (NUL-terminated, not empty) the key is encrypted
// (EncryptedPrivateKeyInfo, PBES2: PBKDF2-HMAC-SHA1 of
// CA_LIMIT_KEY_PBKDF2_ITERATIONS and AES-256-CBC, PEM label "ENCRYPTED
// PRIVATE KEY"); with NULL it is written unencrypted ("PRIVATE KEY").
// Intermediate buffers are cleansed. It returns 0 with CA_ERR_KEY_FILE, or
// CA_ERR_CONFIG for an empty passphrase.
int ca_key_write_file(const char *path, const EVP_PKEY *key,
                      const char *passphrase) CA_MUST_CHECK;

// ca_key_read_file reads a PKCS#8 PEM private key from |path|, unencrypted
// ("PRIVATE KEY") or, with |passphrase| not NULL, encrypted with PBES2
// ("ENCRYPTED PRIVATE KEY") and a PBKDF2 count of at most
// CA_LIMIT_KEY_PBKDF2_ITERATIONS_MAX. An unencrypted file is read whatever
// |passphrase| is. A file that group or others may read or write is
// refused: a CA key that may have been exposed must be treated as
// compromised, not used. It returns NULL with CA_ERR_KEY_FILE (an encrypted
// file without a passphrase, a wrong passphrase, a damaged file); the
// caller frees the key with EVP_PKEY_free.
EVP_PKEY *ca_key_read_file(const char *path, const char *passphrase);

// ca_key_parse_pem reads the first private key of the PEM text |text|:
// PKCS#8 ("PRIVATE KEY"), PKCS#1 ("RSA PRIVATE KEY") or SEC 1 ("EC PRIVATE
// KEY"), as openssl and other tools write them; other blocks (EC
// PARAMETERS) are skipped. Encrypted keys are refused. It returns NULL with
// CA_ERR_KEY_FILE; the caller frees the key with EVP_PKEY_free.
EVP_PKEY *ca_key_parse_pem(const uint8_t *text, size_t text_len);

// ca_key_passphrase_read_file reads the first line (without its line end)
// of the file |path|, which group and others must not be able to access,
// as a key passphrase of 1 to CA_LIMIT_KEY_PASSPHRASE_BYTES bytes. On
// success the caller frees |*out| with ca_key_passphrase_free. It returns
// 0 with CA_ERR_CONFIG.
int ca_key_passphrase_read_file(const char *path, char **out) CA_MUST_CHECK;

// ca_key_passphrase_free cleanses and frees a passphrase of
// ca_key_passphrase_read_file (or any OPENSSL_malloc'd string). Accepts
// NULL.
void ca_key_passphrase_free(char *passphrase);

// ca_cbb_cleanse_cleanup overwrites the bytes written to |cbb| (a top-level
// CBB that held key material) and frees it. It accepts a zeroed CBB, which
// CBB_data may not be called on.
void ca_cbb_cleanse_cleanup(CBB *cbb);

// ca_key_matches returns 1 when the private key |key| belongs to the
// SubjectPublicKeyInfo element |spki|.
int ca_key_matches(const EVP_PKEY *key, const CBS *spki);

#endif  // PKI_CA_KEY_H
