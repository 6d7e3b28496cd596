// The key-generation pool: key pairs made ahead of time, so that a request
// for a server-generated key (POST /v1/keys:generate) does not wait for an
// RSA key generation, which takes from 50 ms (2048 bits) to seconds (4096).
//
// DESIGN: one background thread, at the lowest CPU priority (nice 19, so
// signing always goes first), keeps up to |target| keys of each kind and
// refills a kind as soon as a key is taken. Takers never wait for it: when
// a kind is empty, the key is generated on the spot. Each key is handed out
// once, removed from the pool under its lock. Keys are private and
// cleansed when freed; the pool never writes them anywhere.
#ifndef PKI_CA_KEYPOOL_H
#define PKI_CA_KEYPOOL_H

#include <openssl/base.h>
#include <stddef.h>
#include <stdint.h>

#include "ca/error.h"
#include "ca/x509/key.h"

// The kinds of key the pool keeps.
typedef enum ca_keypool_kind {
  CA_KEYPOOL_RSA2048,
  CA_KEYPOOL_RSA3072,
  CA_KEYPOOL_RSA4096,
  CA_KEYPOOL_P256,
  CA_KEYPOOL_P384,
  CA_KEYPOOL_KINDS,
} ca_keypool_kind;

// The most keys of one kind the pool may hold.
#define CA_KEYPOOL_MAX 4096

typedef struct ca_keypool_config {
  size_t target[CA_KEYPOOL_KINDS];  // keys kept ready per kind; 0: none
} ca_keypool_config;

// ca_keypool_config_init sets the defaults: 8 RSA-2048, 2 RSA-3072,
// 1 RSA-4096, 32 P-256 and 16 P-384 keys.
void ca_keypool_config_init(ca_keypool_config *config);

// ca_keypool_config_parse reads "RSA-2048=8,EC-P256=32,..." (kinds not named
// keep their value) or "none" (all zero). It returns 0 with
// CA_ERR_PARAMETER_INVALID.
int ca_keypool_config_parse(ca_keypool_config *config,
                            const char *text) CA_MUST_CHECK;

typedef struct ca_keypool ca_keypool;

// ca_keypool_start starts the filling thread. On success the caller stops
// it with ca_keypool_stop.
int ca_keypool_start(const ca_keypool_config *config,
                     ca_keypool **out) CA_MUST_CHECK;

// ca_keypool_take returns a new key of |spec| that nobody else receives:
// from the pool when one is ready (|*out_from_pool| = 1), generated now
// otherwise. The caller owns it (EVP_PKEY_free). It returns NULL with
// CA_ERR_INTERNAL if generation fails. |pool| may be NULL: every key is then
// generated on the spot.
EVP_PKEY *ca_keypool_take(ca_keypool *pool, const ca_key_spec *spec,
                          int *out_from_pool);

typedef struct ca_keypool_stats {
  size_t ready[CA_KEYPOOL_KINDS];
  size_t target[CA_KEYPOOL_KINDS];
  uint64_t from_pool;  // keys handed out ready
  uint64_t on_demand;  // keys generated for a taker who found none
} ca_keypool_stats;

// ca_keypool_get_stats reads the counters (NULL |pool|: all zero).
void ca_keypool_get_stats(ca_keypool *pool, ca_keypool_stats *out);

// ca_keypool_kind_name returns "RSA-2048", "EC-P256", ...
const char *ca_keypool_kind_name(ca_keypool_kind kind);

// ca_keypool_stop stops the thread and frees every key it holds. It
// accepts NULL.
void ca_keypool_stop(ca_keypool *pool);

#endif  // PKI_CA_KEYPOOL_H
