#include "ca/revocation/responder.h"

#include <openssl/digest.h>
#include <openssl/evp.h>
#include <openssl/mem.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ca/store/store_ocsp.h"
#include "ca/x509/ocsp_request.h"
#include "ca/x509/ocsp_response.h"
#include "ca/x509/serial.h"
#include "ca/x509/signer.h"

// --- The cache ---

#define CACHE_BUCKETS 65536
// A CertID is at most a few dozen bytes more than its hashes and serial.
#define CACHE_KEY_MAX 160

typedef struct cache_entry {
  struct cache_entry *next;
  uint8_t key[CACHE_KEY_MAX];  // the CertID element
  size_t key_len;
  size_t issuer;  // index in the authority
  char serial[CA_SERIAL_HEX_LEN];
  uint8_t *der;
  size_t der_len;
  int64_t produced_at;
  int64_t refresh_at;  // re-sign from then on
  int64_t next_update;
  char etag[20];
  // The status the response states, also what live answers (with a nonce)
  // take instead of asking the database again.
  ca_ocsp_cert_status status;
  int64_t revoked_at;
  int reason;
} cache_entry;

typedef struct cache_table {
  cache_entry *buckets[CACHE_BUCKETS];
  size_t count;
} cache_table;

// bucket_of returns the bucket of the entries of certificate |serial| (its
// lower-case hex, as serial_key writes it), whatever the CertID's hash
// algorithm: a revocation drops them by looking in one bucket, not by a
// pass over every entry of the cache (which a stream of revocations made
// most of pkid's work). FNV-1a: serials are random, so a simple function
// spreads them well.
static uint32_t bucket_of(const char *serial) {
  uint32_t h = 2166136261u;
  for (const char *p = serial; *p != '\0'; p++) {
    h = (h ^ (uint8_t)*p) * 16777619u;
  }
  return h % CACHE_BUCKETS;
}

// serial_key writes the serial of |id| as the cache and the store name it:
// lower-case hex, "" for a serial no certificate can have.
static void serial_key(const ca_ocsp_cert_id *id, char out[CA_SERIAL_HEX_LEN]) {
  ca_serial serial;
  out[0] = '\0';
  if (!ca_serial_from_integer(&id->serial, &serial)) {
    ca_err_clear();
    return;
  }
  ca_serial_to_hex(&serial, out);
}

static void entry_free(cache_entry *e) {
  OPENSSL_free(e->der);
  free(e);
}

static void table_clear(cache_table *t) {
  for (size_t b = 0; b < CACHE_BUCKETS; b++) {
    for (cache_entry *e = t->buckets[b], *next; e != NULL; e = next) {
      next = e->next;
      entry_free(e);
    }
    t->buckets[b] = NULL;
  }
  t->count = 0;
}

// table_drop removes the entries of CA |issuer|: those of certificate
// |serial| (one bucket), or all of them when |serial| is NULL.
static void table_drop(cache_table *t, size_t issuer, const char *serial) {
  const size_t first = serial != NULL ? bucket_of(serial) : 0;
  const size_t end = serial != NULL ? first + 1 : CACHE_BUCKETS;
  for (size_t b = first; b < end; b++) {
    cache_entry **link = &t->buckets[b];
    while (*link != NULL) {
      cache_entry *e = *link;
      const int match = e->issuer == issuer &&
                        (serial == NULL || strcmp(e->serial, serial) == 0);
      if (match) {
        *link = e->next;
        entry_free(e);
        t->count--;
      } else {
        link = &e->next;
      }
    }
  }
}

// table_remove unlinks and frees the entry of CertID |key| (of certificate
// |serial|), if any.
static void table_remove(cache_table *t, const uint8_t *key, size_t len,
                         const char *serial) {
  for (cache_entry **link = &t->buckets[bucket_of(serial)]; *link != NULL;
       link = &(*link)->next) {
    cache_entry *e = *link;
    if (e->key_len == len && memcmp(e->key, key, len) == 0) {
      *link = e->next;
      entry_free(e);
      t->count--;
      return;
    }
  }
}

static cache_entry *table_find(cache_table *t, const uint8_t *key, size_t len,
                               const char *serial) {
  for (cache_entry *e = t->buckets[bucket_of(serial)]; e != NULL; e = e->next) {
    if (e->key_len == len && memcmp(e->key, key, len) == 0) {
      return e;
    }
  }
  return NULL;
}

// --- The responder ---

// What identifies a CA in CertIDs.
typedef struct issuer_hashes {
  uint8_t name_sha1[SHA_DIGEST_LENGTH];
  uint8_t key_sha1[SHA_DIGEST_LENGTH];
  uint8_t name_sha256[SHA256_DIGEST_LENGTH];
  uint8_t key_sha256[SHA256_DIGEST_LENGTH];
} issuer_hashes;

typedef struct delegate {
  EVP_PKEY *key;
  uint8_t *cert;
  size_t cert_len;
  uint8_t key_hash[CA_KEY_ID_LEN];
} delegate;

struct ca_responder {
  const ca_authority *authority;
  ca_store *store;
  ca_responder_config config;
  issuer_hashes hashes[CA_AUTHORITY_MAX_ISSUERS];
  pthread_rwlock_t lock;  // the tables and the delegates
  cache_table known;      // good and revoked answers
  cache_table unknown;    // unknown answers
  delegate delegates[CA_AUTHORITY_MAX_ISSUERS];
  // Bumped, under the write lock, by everything that drops entries of the
  // table. An answer is cached only if its table dropped nothing since
  // before its status was read: otherwise a revocation committed (and
  // forgotten) while the answer was being made would hide behind a cached
  // `good`. Two counters, so that steady issuance (which drops `unknown`
  // answers) does not keep `good` ones from being cached.
  atomic_uint_fast64_t known_generation;
  atomic_uint_fast64_t unknown_generation;
  atomic_int listening;  // notifications are heard: the cache can be trusted
  atomic_uint_fast64_t hits, misses, live, shared;
  // Answers signed here and not yet in the shared store, taken by
  // ca_responder_take_signed; at most kPendingMax (the rest are signed
  // again by whoever asks first).
  pthread_mutex_t pending_mu;
  ca_ocsp_stored *pending;
  size_t pending_n, pending_cap;
};

static const size_t kPendingMax = 4096;

void ca_responder_config_init(ca_responder_config *config) {
  config->validity_s = CA_OCSP_DEFAULT_VALIDITY_S;
  config->cache_entries = 100000;
}

// spki_key_bits returns the subjectPublicKey BIT STRING value of an SPKI.
static int spki_key_bits(const CBS *spki, CBS *out) {
  CBS in = *spki, seq, alg;
  uint8_t unused;
  return CBS_get_asn1(&in, &seq, CBS_ASN1_SEQUENCE) &&
         CBS_get_asn1(&seq, &alg, CBS_ASN1_SEQUENCE) &&
         CBS_get_asn1(&seq, out, CBS_ASN1_BITSTRING) &&
         CBS_get_u8(out, &unused) && unused == 0;
}

int ca_responder_new(const ca_authority *authority, ca_store *store,
                     const ca_responder_config *config, ca_responder **out) {
  ca_responder *r = calloc(1, sizeof(*r));
  CA_ENSURE_ALLOC(r);
  r->authority = authority;
  r->store = store;
  r->config = *config;
  CA_ENSURE(config->validity_s >= CA_OCSP_MIN_VALIDITY_S &&
                config->validity_s <= CA_OCSP_MAX_VALIDITY_S,
            CA_ERR_CONFIG, "OCSP validity must be 8 hours to 10 days");
  CA_ENSURE(pthread_rwlock_init(&r->lock, NULL) == 0, CA_ERR_INTERNAL,
            "cannot create the responder's lock");
  CA_ENSURE(pthread_mutex_init(&r->pending_mu, NULL) == 0, CA_ERR_INTERNAL,
            "cannot create the responder's lock");
  // RFC 6960 4.1.1: issuerNameHash is the hash of the issuer's DN (DER),
  // issuerKeyHash the hash of the value of its subjectPublicKey BIT STRING
  // (without tag, length and unused-bits octet).
  for (size_t i = 0; i < authority->count; i++) {
    const ca_issuer *ca = &authority->issuers[i];
    issuer_hashes *h = &r->hashes[i];
    CBS key;
    CA_ENSURE(spki_key_bits(&ca->cert.spki, &key), CA_ERR_INTERNAL,
              "CA %s: unreadable key", ca->name);
    SHA1(CBS_data(&ca->cert.subject), CBS_len(&ca->cert.subject), h->name_sha1);
    SHA1(CBS_data(&key), CBS_len(&key), h->key_sha1);
    SHA256(CBS_data(&ca->cert.subject), CBS_len(&ca->cert.subject),
           h->name_sha256);
    SHA256(CBS_data(&key), CBS_len(&key), h->key_sha256);
  }
  *out = r;
  return 1;
err:
  free(r);
  return 0;
}

void ca_responder_free(ca_responder *r) {
  if (r == NULL) {
    return;
  }
  table_clear(&r->known);
  table_clear(&r->unknown);
  for (size_t i = 0; i < r->pending_n; i++) {
    ca_ocsp_stored_clear(&r->pending[i]);
  }
  free(r->pending);
  pthread_mutex_destroy(&r->pending_mu);
  for (size_t i = 0; i < CA_AUTHORITY_MAX_ISSUERS; i++) {
    EVP_PKEY_free(r->delegates[i].key);
    OPENSSL_free(r->delegates[i].cert);
  }
  pthread_rwlock_destroy(&r->lock);
  free(r);
}

int ca_responder_set_delegate(ca_responder *r, const ca_issuer *issuer,
                              EVP_PKEY *key, const uint8_t *cert,
                              size_t cert_len) {
  const size_t i = (size_t)(issuer - r->authority->issuers);
  uint8_t *copy = NULL;
  delegate d;
  memset(&d, 0, sizeof(d));
  CA_ENSURE(i < r->authority->count, CA_ERR_INTERNAL, "not one of our CAs");
  if (key != NULL) {
    ca_x509 x;
    copy = OPENSSL_memdup(cert, cert_len);
    CA_ENSURE_ALLOC(copy);
    CA_GUARD(ca_x509_parse(&x, copy, cert_len));
    CA_GUARD(ca_spki_key_id(&x.spki, d.key_hash));
    d.key = key;
    d.cert = copy;
    d.cert_len = cert_len;
    copy = NULL;
  }
  pthread_rwlock_wrlock(&r->lock);
  delegate old = r->delegates[i];
  r->delegates[i] = d;
  atomic_fetch_add(&r->known_generation, 1);
  atomic_fetch_add(&r->unknown_generation, 1);
  table_drop(&r->known, i, NULL);
  table_drop(&r->unknown, i, NULL);
  pthread_rwlock_unlock(&r->lock);
  EVP_PKEY_free(old.key);
  OPENSSL_free(old.cert);
  return 1;
err:
  OPENSSL_free(copy);
  EVP_PKEY_free(key);
  return 0;
}

// match_issuer returns the index of the CA a CertID names, or -1.
static int match_issuer(const ca_responder *r, const ca_ocsp_cert_id *id) {
  for (size_t i = 0; i < r->authority->count; i++) {
    const issuer_hashes *h = &r->hashes[i];
    if (id->hash == CA_OCSP_HASH_SHA1 &&
        CBS_mem_equal(&id->name_hash, h->name_sha1, sizeof(h->name_sha1)) &&
        CBS_mem_equal(&id->key_hash, h->key_sha1, sizeof(h->key_sha1))) {
      return (int)i;
    }
    if (id->hash == CA_OCSP_HASH_SHA256 &&
        CBS_mem_equal(&id->name_hash, h->name_sha256, sizeof(h->name_sha256)) &&
        CBS_mem_equal(&id->key_hash, h->key_sha256, sizeof(h->key_sha256))) {
      return (int)i;
    }
  }
  return -1;
}

// A stored answer to look for with the status: the CertID's answer by
// |signer|, produced after |produced_after|.
typedef struct stored_query {
  uint8_t signer[CA_OCSP_SIGNER_LEN];
  int64_t produced_after;
  ca_ocsp_stored answer;  // filled when |found|
  int found;
} stored_query;

// read_state reads the certificate's state, and the stored answer |q|
// asks for when |q| is not NULL.
static int read_state(ca_responder *r, int64_t issuer_id,
                      const ca_ocsp_cert_id *id, const char *serial_hex,
                      stored_query *q, ca_cert_state *state, int *found) {
  if (q == NULL || CBS_len(&id->element) > CA_OCSP_CERT_ID_MAX) {
    return ca_store_certificate_state(r->store, issuer_id, serial_hex, state,
                                      found);
  }
  return ca_store_ocsp_lookup(r->store, issuer_id, serial_hex,
                              CBS_data(&id->element), CBS_len(&id->element),
                              q->signer, q->produced_after, state, found,
                              &q->answer, &q->found);
}

// status_of fills |single| for the certificate |id| of CA |issuer|, and
// |q|, when not NULL, with a stored answer that states it. It returns 0
// when the database cannot be read.
static int status_of(ca_responder *r, size_t issuer, const ca_ocsp_cert_id *id,
                     ca_ocsp_single *single, char serial_hex[CA_SERIAL_HEX_LEN],
                     stored_query *q) {
  single->status = CA_OCSP_UNKNOWN;
  serial_key(id, serial_hex);
  // A serial no certificate can have was never issued here.
  if (serial_hex[0] == '\0') {
    return 1;
  }
  const ca_issuer *ca = &r->authority->issuers[issuer];
  // The CAs pki made are issued by its roots but live in the issuers table.
  for (size_t i = 0; i < r->authority->count; i++) {
    const ca_issuer *child = &r->authority->issuers[i];
    if (child->parent == ca && strcmp(child->serial, serial_hex) == 0) {
      single->status = CA_OCSP_GOOD;
      return 1;
    }
  }
  ca_cert_state state;
  int found;
  if (!read_state(r, ca->id, id, serial_hex, q, &state, &found)) {
    return 0;
  }
  if (found) {
    single->status = state.revoked ? CA_OCSP_REVOKED : CA_OCSP_GOOD;
    single->revoked_at = state.revoked_at;
    single->reason = state.reason;
  }
  return 1;
}

static void error_answer(ca_ocsp_status status, ca_ocsp_answer *out) {
  out->der = OPENSSL_malloc(5);
  if (out->der != NULL) {
    ca_ocsp_error_response(status, out->der);
    out->der_len = 5;
  }
}

static void make_etag(const uint8_t *der, size_t len, char out[20]) {
  uint8_t digest[SHA256_DIGEST_LENGTH];
  SHA256(der, len, digest);
  snprintf(out, 20, "\"%02x%02x%02x%02x%02x%02x%02x%02x\"", digest[0],
           digest[1], digest[2], digest[3], digest[4], digest[5], digest[6],
           digest[7]);
}

// fresh_entry returns the entry of CertID |id| (of certificate |serial|,
// serial_key's) that need not be re-signed yet, or NULL. The caller holds
// the lock.
static const cache_entry *fresh_entry(ca_responder *r,
                                      const ca_ocsp_cert_id *id,
                                      const char *serial, int64_t now) {
  const size_t len = CBS_len(&id->element);
  if (len > CACHE_KEY_MAX) {
    return NULL;
  }
  const cache_entry *e =
      table_find(&r->known, CBS_data(&id->element), len, serial);
  if (e == NULL) {
    e = table_find(&r->unknown, CBS_data(&id->element), len, serial);
  }
  return e != NULL && now < e->refresh_at ? e : NULL;
}

// cached answers from the cache, or returns 0.
static int cached(ca_responder *r, const ca_ocsp_cert_id *id, int64_t now,
                  ca_ocsp_answer *out) {
  int hit = 0;
  char serial[CA_SERIAL_HEX_LEN];
  serial_key(id, serial);  // before the lock: the writers wait on it
  pthread_rwlock_rdlock(&r->lock);
  const cache_entry *e = fresh_entry(r, id, serial, now);
  if (e != NULL && (out->der = OPENSSL_memdup(e->der, e->der_len)) != NULL) {
    out->der_len = e->der_len;
    out->cacheable = 1;
    out->produced_at = e->produced_at;
    out->next_update = e->next_update;
    memcpy(out->etag, e->etag, sizeof(out->etag));
    hit = 1;
  }
  pthread_rwlock_unlock(&r->lock);
  return hit;
}

// cached_status fills the status of |single| from the cache, or returns 0.
static int cached_status(ca_responder *r, const ca_ocsp_cert_id *id,
                         int64_t now, ca_ocsp_single *single) {
  char serial[CA_SERIAL_HEX_LEN];
  serial_key(id, serial);
  pthread_rwlock_rdlock(&r->lock);
  const cache_entry *e = fresh_entry(r, id, serial, now);
  if (e != NULL) {
    single->status = e->status;
    single->revoked_at = e->revoked_at;
    single->reason = e->reason;
  }
  pthread_rwlock_unlock(&r->lock);
  return e != NULL;
}

// cache_generation is what remember must find unchanged; it is read before
// the status is.
typedef struct cache_generation {
  uint64_t known, unknown;
} cache_generation;

// remember caches |a|, unless its table dropped anything since |generation|
// was read.
static void remember(ca_responder *r, const cache_generation *generation,
                     const ca_ocsp_cert_id *id, size_t issuer,
                     const char *serial_hex, const ca_ocsp_single *single,
                     const ca_ocsp_answer *a) {
  const ca_ocsp_cert_status status = single->status;
  const size_t len = CBS_len(&id->element);
  if (len > CACHE_KEY_MAX) {
    return;
  }
  cache_entry *e = calloc(1, sizeof(*e));
  if (e == NULL || (e->der = OPENSSL_memdup(a->der, a->der_len)) == NULL) {
    free(e);
    return;
  }
  memcpy(e->key, CBS_data(&id->element), len);
  e->key_len = len;
  e->issuer = issuer;
  snprintf(e->serial, sizeof(e->serial), "%s", serial_hex);
  e->der_len = a->der_len;
  e->produced_at = a->produced_at;
  e->next_update = a->next_update;
  // Re-signed once half the validity has passed: a client caching it
  // until nextUpdate always gets a fresh enough answer.
  e->refresh_at = a->produced_at + r->config.validity_s / 2;
  memcpy(e->etag, a->etag, sizeof(e->etag));
  e->status = single->status;
  e->revoked_at = single->revoked_at;
  e->reason = single->reason;
  cache_table *t = status == CA_OCSP_UNKNOWN ? &r->unknown : &r->known;
  const size_t limit = status == CA_OCSP_UNKNOWN
                           ? r->config.cache_entries / 8 + 1
                           : r->config.cache_entries;
  pthread_rwlock_wrlock(&r->lock);
  const uint64_t now_generation = status == CA_OCSP_UNKNOWN
                                      ? atomic_load(&r->unknown_generation)
                                      : atomic_load(&r->known_generation);
  if (now_generation !=
      (status == CA_OCSP_UNKNOWN ? generation->unknown : generation->known)) {
    pthread_rwlock_unlock(&r->lock);
    entry_free(e);
    return;
  }
  // Replace an older entry for the same CertID (a refresh); start over when
  // full (simple, and refilling costs one signature per certificate asked
  // for).
  table_remove(&r->known, e->key, len, e->serial);
  table_remove(&r->unknown, e->key, len, e->serial);
  if (t->count >= limit) {
    table_clear(t);
  }
  const uint32_t b = bucket_of(e->serial);
  e->next = t->buckets[b];
  t->buckets[b] = e;
  t->count++;
  pthread_rwlock_unlock(&r->lock);
}

// sign_answer builds and signs the response of |n| singles for CA |issuer|,
// and writes the signer's ResponderID key hash into |signer_out|.
static int sign_answer(ca_responder *r, size_t issuer,
                       const ca_ocsp_single *singles, size_t n,
                       const CBS *nonce, int64_t now, ca_ocsp_answer *out,
                       uint8_t signer_out[CA_OCSP_SIGNER_LEN]) {
  const ca_issuer *ca = &r->authority->issuers[issuer];
  ca_ocsp_signer signer;
  memset(&signer, 0, sizeof(signer));
  EVP_PKEY *delegate_key = NULL;
  uint8_t *delegate_cert = NULL;
  int ok = 0;
  // Take references under the lock and sign without it: a rotation then
  // never waits for a signature, nor frees a key in use.
  pthread_rwlock_rdlock(&r->lock);
  const delegate *d = &r->delegates[issuer];
  if (d->key != NULL && EVP_PKEY_up_ref(d->key)) {
    delegate_key = d->key;
    delegate_cert = OPENSSL_memdup(d->cert, d->cert_len);
    signer.cert_len = d->cert_len;
    memcpy(signer.key_hash, d->key_hash, CA_KEY_ID_LEN);
  }
  pthread_rwlock_unlock(&r->lock);
  if (delegate_key != NULL) {
    ca_key_info info;
    ok = delegate_cert != NULL && ca_key_info_from_pkey(delegate_key, &info);
    signer.key = delegate_key;
    signer.key_type = info.type;
    signer.digest = ca_signature_digest(&info, NULL);
    signer.cert = delegate_cert;
  } else {
    // ResponderID byKey: "SHA-1 hash of the responder's public key"
    // (RFC 6960 4.2.1): here the CA's own.
    CBS spki_key;
    ok = ca->key != NULL && spki_key_bits(&ca->cert.spki, &spki_key);
    if (ok) {
      SHA1(CBS_data(&spki_key), CBS_len(&spki_key), signer.key_hash);
    }
    signer.key = ca->key;
    signer.key_type = ca->key_info.type;
    signer.digest = ca_signature_digest(&ca->key_info, NULL);
  }
  ok = ok && ca_ocsp_response_build(&signer, singles, n, nonce, now, &out->der,
                                    &out->der_len);
  EVP_PKEY_free(delegate_key);
  OPENSSL_free(delegate_cert);
  if (ok) {
    out->produced_at = now;
    out->next_update = singles[0].next_update;
    make_etag(out->der, out->der_len, out->etag);
    memcpy(signer_out, signer.key_hash, CA_OCSP_SIGNER_LEN);
  }
  return ok;
}

// current_signer writes the ResponderID key hash CA |issuer| signs with now.
static void current_signer(ca_responder *r, size_t issuer,
                           uint8_t out[CA_OCSP_SIGNER_LEN]) {
  pthread_rwlock_rdlock(&r->lock);
  const delegate *d = &r->delegates[issuer];
  memcpy(out, d->key != NULL ? d->key_hash : r->hashes[issuer].key_sha1,
         CA_OCSP_SIGNER_LEN);
  pthread_rwlock_unlock(&r->lock);
}

// offer queues an answer just signed for the shared store. Only answers of
// certificates pki issued are worth it: an `unknown` has no row to go with.
static void offer(ca_responder *r, size_t issuer, const char *serial_hex,
                  const ca_ocsp_cert_id *id, const ca_ocsp_single *single,
                  const ca_ocsp_answer *a,
                  const uint8_t signer[CA_OCSP_SIGNER_LEN]) {
  if (single->status == CA_OCSP_UNKNOWN || serial_hex[0] == '\0' ||
      CBS_len(&id->element) > CA_OCSP_CERT_ID_MAX) {
    return;
  }
  pthread_mutex_lock(&r->pending_mu);
  // Grown as answers come: a quiet second allocates little, a busy one at
  // most kPendingMax entries.
  if (r->pending_n == r->pending_cap && r->pending_cap < kPendingMax) {
    const size_t cap = r->pending_cap == 0 ? 16 : 2 * r->pending_cap;
    ca_ocsp_stored *grown =
        realloc(r->pending,
                (cap < kPendingMax ? cap : kPendingMax) * sizeof(*r->pending));
    if (grown != NULL) {
      r->pending = grown;
      r->pending_cap = cap < kPendingMax ? cap : kPendingMax;
    }
  }
  ca_ocsp_stored *s =
      r->pending_n < r->pending_cap ? &r->pending[r->pending_n] : NULL;
  if (s != NULL) {
    memset(s, 0, sizeof(*s));
  }
  if (s != NULL && (s->der = OPENSSL_memdup(a->der, a->der_len)) != NULL) {
    s->issuer_id = r->authority->issuers[issuer].id;
    snprintf(s->serial, sizeof(s->serial), "%s", serial_hex);
    memcpy(s->cert_id, CBS_data(&id->element), CBS_len(&id->element));
    s->cert_id_len = CBS_len(&id->element);
    memcpy(s->signer, signer, CA_OCSP_SIGNER_LEN);
    s->revoked = single->status == CA_OCSP_REVOKED;
    s->revoked_at = single->revoked_at;
    s->reason = single->reason;
    s->produced_at = a->produced_at;
    s->next_update = a->next_update;
    s->der_len = a->der_len;
    r->pending_n++;
  }
  pthread_mutex_unlock(&r->pending_mu);
}

// answer_stored makes |out| of the stored answer |q|, taking its bytes.
static void answer_stored(stored_query *q, ca_ocsp_answer *out) {
  out->der = q->answer.der;
  out->der_len = q->answer.der_len;
  q->answer.der = NULL;
  out->cacheable = 1;
  out->produced_at = q->answer.produced_at;
  out->next_update = q->answer.next_update;
  make_etag(out->der, out->der_len, out->etag);
}

int ca_responder_answer(ca_responder *r, const uint8_t *req, size_t req_len,
                        ca_ocsp_answer *out) {
  ca_ocsp_request request;
  memset(out, 0, sizeof(*out));
  const int64_t now = (int64_t)time(NULL);
  if (!ca_ocsp_request_parse(&request, req, req_len)) {
    ca_err_clear();
    error_answer(CA_OCSP_MALFORMED_REQUEST, out);
    return out->der != NULL;
  }
  // Every CertID must name the same one of pki's CAs.
  int issuer = -1;
  for (size_t i = 0; i < request.count; i++) {
    const int match = match_issuer(r, &request.ids[i]);
    if (match < 0 || (issuer >= 0 && match != issuer)) {
      error_answer(CA_OCSP_UNAUTHORIZED, out);
      return out->der != NULL;
    }
    issuer = match;
  }
  const int cacheable = request.count == 1 && !request.has_nonce;
  const int listening = atomic_load(&r->listening);
  if (cacheable && listening && cached(r, &request.ids[0], now, out)) {
    atomic_fetch_add(&r->hits, 1);
    return 1;
  }
  atomic_fetch_add(cacheable ? &r->misses : &r->live, 1);
  const cache_generation generation = {atomic_load(&r->known_generation),
                                       atomic_load(&r->unknown_generation)};
  ca_ocsp_single singles[CA_LIMIT_OCSP_CERT_IDS];
  char serials[CA_LIMIT_OCSP_CERT_IDS][CA_SERIAL_HEX_LEN];
  // A cacheable answer may have been signed already, here before a restart
  // or by another node: it is read with the status.
  stored_query q;
  memset(&q, 0, sizeof(q));
  if (cacheable) {
    current_signer(r, (size_t)issuer, q.signer);
    q.produced_after = now - r->config.validity_s / 2;
  }
  for (size_t i = 0; i < request.count; i++) {
    memset(&singles[i], 0, sizeof(singles[i]));
    singles[i].cert_id = request.ids[i].element;
    singles[i].this_update = now;
    singles[i].next_update = now + r->config.validity_s;
    // A live answer (nonce, several CertIDs) is signed now, but may take
    // its status from a cached answer, as current as the database since
    // revocations prune the cache. A cacheable answer reads the database:
    // caching it needs the serial.
    if (!cacheable && listening &&
        cached_status(r, &request.ids[i], now, &singles[i])) {
      continue;
    }
    if (!status_of(r, (size_t)issuer, &request.ids[i], &singles[i], serials[i],
                   cacheable ? &q : NULL)) {
      ca_err_clear();
      ca_ocsp_stored_clear(&q.answer);
      // The database cannot be read, so no node can revoke: a pre-signed
      // answer still stands (only reached here when deaf). Otherwise the
      // client should try again rather than get an answer pki cannot stand
      // behind.
      if (cacheable && cached(r, &request.ids[0], now, out)) {
        atomic_fetch_add(&r->hits, 1);
        return 1;
      }
      error_answer(CA_OCSP_TRY_LATER, out);
      return out->der != NULL;
    }
  }
  if (q.found) {
    answer_stored(&q, out);
    atomic_fetch_add(&r->shared, 1);
    remember(r, &generation, &request.ids[0], (size_t)issuer, serials[0],
             &singles[0], out);
    return 1;
  }
  uint8_t signer[CA_OCSP_SIGNER_LEN];
  if (!sign_answer(r, (size_t)issuer, singles, request.count,
                   request.has_nonce ? &request.nonce : NULL, now, out,
                   signer)) {
    ca_err_clear();
    error_answer(CA_OCSP_INTERNAL_ERROR, out);
    return out->der != NULL;
  }
  out->cacheable = cacheable;
  if (cacheable) {
    remember(r, &generation, &request.ids[0], (size_t)issuer, serials[0],
             &singles[0], out);
    offer(r, (size_t)issuer, serials[0], &request.ids[0], &singles[0], out,
          signer);
  }
  return 1;
}

size_t ca_responder_take_signed(ca_responder *r, ca_ocsp_stored **out) {
  pthread_mutex_lock(&r->pending_mu);
  *out = r->pending;
  const size_t n = r->pending_n;
  r->pending = NULL;
  r->pending_n = 0;
  r->pending_cap = 0;
  pthread_mutex_unlock(&r->pending_mu);
  return n;
}

void ca_responder_signed_free(ca_ocsp_stored *answers, size_t n) {
  for (size_t i = 0; answers != NULL && i < n; i++) {
    ca_ocsp_stored_clear(&answers[i]);
  }
  free(answers);
}

// The CA whose stored answers are being renewed.
typedef struct renewal {
  ca_responder *r;
  size_t issuer;
} renewal;

static int renew_answer(void *arg, ca_ocsp_stored *a, int64_t now) {
  const renewal *w = arg;
  ca_responder *r = w->r;
  ca_ocsp_single single;
  ca_ocsp_answer signed_now;
  uint8_t signer[CA_OCSP_SIGNER_LEN];
  if (a->issuer_id != r->authority->issuers[w->issuer].id) {
    return 0;
  }
  memset(&single, 0, sizeof(single));
  memset(&signed_now, 0, sizeof(signed_now));
  CBS_init(&single.cert_id, a->cert_id, a->cert_id_len);
  single.status = a->revoked ? CA_OCSP_REVOKED : CA_OCSP_GOOD;
  single.revoked_at = a->revoked_at;
  single.reason = a->reason;
  single.this_update = now;
  single.next_update = now + r->config.validity_s;
  if (!sign_answer(r, w->issuer, &single, 1, NULL, now, &signed_now, signer)) {
    return 0;
  }
  // The delegate changed since the round began: the row is another
  // signer's now, and left alone.
  if (memcmp(signer, a->signer, CA_OCSP_SIGNER_LEN) != 0) {
    OPENSSL_free(signed_now.der);
    return 0;
  }
  ca_ocsp_stored_clear(a);
  a->der = signed_now.der;
  a->der_len = signed_now.der_len;
  a->produced_at = signed_now.produced_at;
  a->next_update = signed_now.next_update;
  return 1;
}

int ca_responder_renew(ca_responder *r, int64_t now, size_t max,
                       size_t *out_renewed) {
  *out_renewed = 0;
  // Renewed at 40% of the validity, before readers stop taking an answer
  // at half of it.
  const int64_t before = now - r->config.validity_s * 2 / 5;
  for (size_t i = 0; i < r->authority->count; i++) {
    const ca_issuer *ca = &r->authority->issuers[i];
    uint8_t signer[CA_OCSP_SIGNER_LEN];
    size_t renewed;
    pthread_rwlock_rdlock(&r->lock);
    const int can_sign = ca->key != NULL || r->delegates[i].key != NULL;
    pthread_rwlock_unlock(&r->lock);
    if (!can_sign) {
      continue;
    }
    current_signer(r, i, signer);
    renewal w = {r, i};
    CA_GUARD_RETURN(ca_store_ocsp_renew(r->store, signer, before, now, max,
                                        renew_answer, &w, &renewed));
    *out_renewed += renewed;
  }
  return 1;
}

static int issuer_index(const ca_responder *r, int64_t issuer_id, size_t *out) {
  for (size_t i = 0; i < r->authority->count; i++) {
    if (r->authority->issuers[i].id == issuer_id) {
      *out = i;
      return 1;
    }
  }
  return 0;
}

void ca_responder_forget(ca_responder *r, int64_t issuer_id,
                         const char *serial_hex) {
  size_t i;
  if (!issuer_index(r, issuer_id, &i)) {
    return;
  }
  pthread_rwlock_wrlock(&r->lock);
  atomic_fetch_add(&r->known_generation, 1);
  atomic_fetch_add(&r->unknown_generation, 1);
  table_drop(&r->known, i, serial_hex);
  table_drop(&r->unknown, i, serial_hex);
  pthread_rwlock_unlock(&r->lock);
}

void ca_responder_set_listening(ca_responder *r, int listening) {
  if (listening) {
    ca_responder_forget_all(r);
  }
  atomic_store(&r->listening, listening != 0);
}

void ca_responder_forget_unknown(ca_responder *r) {
  pthread_rwlock_wrlock(&r->lock);
  atomic_fetch_add(&r->unknown_generation, 1);
  // Every commit of issued certificates lands here: an empty table is not
  // walked (65,536 buckets, under the write lock the OCSP readers wait on).
  if (r->unknown.count > 0) {
    table_clear(&r->unknown);
  }
  pthread_rwlock_unlock(&r->lock);
}

void ca_responder_forget_all(ca_responder *r) {
  pthread_rwlock_wrlock(&r->lock);
  atomic_fetch_add(&r->known_generation, 1);
  atomic_fetch_add(&r->unknown_generation, 1);
  table_clear(&r->known);
  table_clear(&r->unknown);
  pthread_rwlock_unlock(&r->lock);
}

void ca_responder_get_stats(ca_responder *r, ca_responder_stats *out) {
  out->hits = atomic_load(&r->hits);
  out->misses = atomic_load(&r->misses);
  out->live = atomic_load(&r->live);
  out->shared = atomic_load(&r->shared);
  pthread_rwlock_rdlock(&r->lock);
  out->cached = r->known.count + r->unknown.count;
  pthread_rwlock_unlock(&r->lock);
}
