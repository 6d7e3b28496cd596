// The issuer key pool: private copies of the CA keys, one set per signing
// thread.
//
// Why: BoringSSL's RSA private operations take the key's lock (for the
// blinding cache and the frozen private key) on every signature; signing
// threads that share one RSA key serialise there. A copy per thread has its
// own lock, so no lock is shared on the hot path (ARCHITECTURE.md, "The path of
// one batch"). EC keys need no lock, but are copied alike for simplicity.
#ifndef PKI_CA_ISSUER_KEYS_H
#define PKI_CA_ISSUER_KEYS_H

#include <openssl/base.h>

#include "ca/error.h"
#include "ca/issue/authority.h"

typedef struct ca_issuer_keys {
  // keys[i] is a private copy of authority->issuers[i].key (NULL where the
  // issuer has no key loaded).
  EVP_PKEY *keys[CA_AUTHORITY_MAX_ISSUERS];
} ca_issuer_keys;

// ca_issuer_keys_init copies every CA key of |authority| into |out|. The
// copies are made by serialising and parsing the key, so they share nothing
// with the original. It returns 0 with CA_ERR_INTERNAL; |out| then holds
// nothing to free.
int ca_issuer_keys_init(ca_issuer_keys *out,
                        const ca_authority *authority) CA_MUST_CHECK;

// ca_issuer_keys_cleanup frees the copies (cleansing them). It accepts a
// zeroed ca_issuer_keys.
void ca_issuer_keys_cleanup(ca_issuer_keys *keys);

// ca_issuer_keys_get returns the copy of |issuer|'s key (borrowed), or the
// issuer's own key when |keys| is NULL.
EVP_PKEY *ca_issuer_keys_get(const ca_issuer_keys *keys,
                             const ca_authority *authority,
                             const ca_issuer *issuer);

#endif  // PKI_CA_ISSUER_KEYS_H
