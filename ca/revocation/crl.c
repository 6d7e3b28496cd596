#include "ca/revocation/crl.h"

#include <openssl/bytestring.h>
#include <openssl/ec.h>
#include <openssl/ec_key.h>
#include <openssl/evp.h>
#include <openssl/mem.h>
#include <openssl/rsa.h>
#include <stdlib.h>
#include <string.h>

#include "ca/oid.h"
#include "ca/x509/asn1_time.h"
#include "ca/x509/crl_dp.h"
#include "ca/x509/signer.h"

// The entries read from the source at a time.
#define BATCH 4096

// The most octets of one encoded entry: SEQUENCE, a 20-octet serial,
// GeneralizedTime, reasonCode.
#define ENTRY_MAX 96

// The identifier octets of the DER elements written by hand (CBS_ASN1_*
// hold BoringSSL's own representation of tags, not octets).
#define DER_SEQUENCE 0x30
#define DER_BIT_STRING 0x03
#define DER_INTEGER 0x02
#define DER_OBJECT 0x06
#define DER_OCTET_STRING 0x04
#define DER_ENUMERATED 0x0a

// ECDSA draws before giving up on the fixed signature length (each misses
// with a probability of about 3/4).
#define SIGN_ATTEMPTS 200

// The last time encoded and its DER: the entries of a CRL often share
// their second (a batch revocation), and one comparison is cheaper than a
// calendar conversion.
typedef struct time_cache {
  int64_t t;
  uint8_t der[CA_TIME_DER_MAX];
  size_t len;  // 0: empty
} time_cache;

// encode_entry writes |e| into |out| (ENTRY_MAX octets) by hand: an entry
// is always shorter than 128 octets, so every length is one octet, and a
// CBB per entry (which allocates) cost more than the rest of the entry.
static int encode_entry(const ca_crl_entry *e, time_cache *tc,
                        uint8_t out[ENTRY_MAX], size_t *out_len) {
  if (tc->len == 0 || tc->t != e->revoked_at) {
    tc->len = ca_time_encode(e->revoked_at, tc->der);
    tc->t = e->revoked_at;
    CA_ENSURE_RETURN(tc->len > 0, CA_ERR_INTERNAL,
                     "cannot encode a CRL entry: time %lld out of range",
                     (long long)e->revoked_at);
  }
  CA_ENSURE_RETURN(e->serial.len > 0 && e->serial.len <= CA_SERIAL_MAX_LEN + 1,
                   CA_ERR_INTERNAL, "cannot encode a CRL entry: bad serial");
  uint8_t *p = out + 2;
  *p++ = DER_INTEGER;
  *p++ = (uint8_t)e->serial.len;
  memcpy(p, e->serial.bytes, e->serial.len);
  p += e->serial.len;
  memcpy(p, tc->der, tc->len);
  p += tc->len;
  if (e->reason != CA_REASON_UNSPECIFIED) {
    // crlEntryExtensions SEQUENCE { SEQUENCE { extnID reasonCode,
    // extnValue OCTET STRING { ENUMERATED } } }, non-critical (RFC 5280
    // 5.3.1).
    const uint8_t oid_len = (uint8_t)sizeof(kOidCrlReason);
    *p++ = DER_SEQUENCE;
    *p++ = (uint8_t)(9 + oid_len);
    *p++ = DER_SEQUENCE;
    *p++ = (uint8_t)(7 + oid_len);
    *p++ = DER_OBJECT;
    *p++ = oid_len;
    memcpy(p, kOidCrlReason, oid_len);
    p += oid_len;
    *p++ = DER_OCTET_STRING;
    *p++ = 3;
    *p++ = DER_ENUMERATED;
    *p++ = 1;
    *p++ = (uint8_t)e->reason;
  }
  out[0] = DER_SEQUENCE;
  out[1] = (uint8_t)(p - out - 2);
  *out_len = (size_t)(p - out);
  return 1;
}

// add_idp appends the issuingDistributionPoint extension (RFC 5280 5.2.5):
// critical, with the distributionPoint alone.
static int add_idp(CBB *exts, const char *url) {
  CBB ext, oid, value, idp;
  return CBB_add_asn1(exts, &ext, CBS_ASN1_SEQUENCE) &&
         CBB_add_asn1(&ext, &oid, CBS_ASN1_OBJECT) &&
         CBB_add_bytes(&oid, kOidIssuingDistributionPoint,
                       sizeof(kOidIssuingDistributionPoint)) &&
         CBB_add_asn1_bool(&ext, 1) &&
         CBB_add_asn1(&ext, &value, CBS_ASN1_OCTETSTRING) &&
         CBB_add_asn1(&value, &idp, CBS_ASN1_SEQUENCE) &&
         ca_crl_dp_name_add(&idp, url) && CBB_flush(exts);
}

static int add_crl_extensions(CBB *tbs, const ca_issuer *issuer,
                              const ca_crl_info *info) {
  CBB tag, exts, aki, aki_oid, aki_value, aki_seq, key_id, num, num_oid,
      num_value;
  // crlExtensions [0] EXPLICIT: authorityKeyIdentifier ("MUST include",
  // RFC 5280 5.2.1) and cRLNumber (5.2.3), both non-critical; then a
  // shard's issuingDistributionPoint.
  return CBB_add_asn1(tbs, &tag,
                      CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 0) &&
         CBB_add_asn1(&tag, &exts, CBS_ASN1_SEQUENCE) &&
         CBB_add_asn1(&exts, &aki, CBS_ASN1_SEQUENCE) &&
         CBB_add_asn1(&aki, &aki_oid, CBS_ASN1_OBJECT) &&
         CBB_add_bytes(&aki_oid, kOidAuthorityKeyIdentifier,
                       sizeof(kOidAuthorityKeyIdentifier)) &&
         CBB_add_asn1(&aki, &aki_value, CBS_ASN1_OCTETSTRING) &&
         CBB_add_asn1(&aki_value, &aki_seq, CBS_ASN1_SEQUENCE) &&
         CBB_add_asn1(&aki_seq, &key_id, CBS_ASN1_CONTEXT_SPECIFIC | 0) &&
         CBB_add_bytes(&key_id, issuer->key_id, CA_KEY_ID_LEN) &&
         CBB_flush(&exts) && CBB_add_asn1(&exts, &num, CBS_ASN1_SEQUENCE) &&
         CBB_add_asn1(&num, &num_oid, CBS_ASN1_OBJECT) &&
         CBB_add_bytes(&num_oid, kOidCrlNumber, sizeof(kOidCrlNumber)) &&
         CBB_add_asn1(&num, &num_value, CBS_ASN1_OCTETSTRING) &&
         CBB_add_asn1_uint64(&num_value, info->number) && CBB_flush(&exts) &&
         (info->idp_url == NULL || add_idp(&exts, info->idp_url)) &&
         CBB_flush(tbs);
}

// header_len is the octets of a DER tag and length for |len| octets.
static size_t header_len(size_t len) {
  size_t n = 2;
  if (len >= 128) {
    for (size_t v = len; v > 0; v >>= 8) {
      n++;
    }
  }
  return n;
}

// The bytes on their way to the sink, and the hash of the TBSCertList.
// The hash is fed from the buffer, a buffer's worth at a time, rather
// than per piece emitted: a CRL has a piece per entry.
typedef struct emitter {
  const ca_crl_sink *sink;
  uint8_t *buf;  // CA_CRL_CHUNK
  size_t len;
  size_t total;  // written so far
  EVP_MD_CTX hash;
  int hashing;
  size_t hash_from;  // while hashing: the first octet of buf not hashed yet
} emitter;

// hash_pending hashes what the buffer holds since |hash_from|.
static int hash_pending(emitter *e) {
  if (e->hashing && e->len > e->hash_from) {
    CA_GUARD_CRYPTO_RETURN(EVP_DigestUpdate(&e->hash, e->buf + e->hash_from,
                                            e->len - e->hash_from));
  }
  e->hash_from = e->len;
  return 1;
}

static int set_hashing(emitter *e, int on) {
  CA_GUARD_RETURN(hash_pending(e));
  e->hashing = on;
  return 1;
}

static int flush(emitter *e) {
  if (e->len == 0) {
    return 1;
  }
  CA_GUARD_RETURN(hash_pending(e));
  CA_GUARD_RETURN(e->sink->write(e->sink->arg, e->buf, e->len));
  e->len = 0;
  e->hash_from = 0;
  return 1;
}

static int emit(emitter *e, const uint8_t *data, size_t len) {
  e->total += len;
  while (len > 0) {
    size_t n = CA_CRL_CHUNK - e->len;
    n = n < len ? n : len;
    memcpy(e->buf + e->len, data, n);
    e->len += n;
    data += n;
    len -= n;
    if (e->len == CA_CRL_CHUNK) {
      CA_GUARD_RETURN(flush(e));
    }
  }
  return 1;
}

// room returns where the next |want| octets go in the buffer, flushing it
// first if they would not fit; emitted() then counts what was written.
static int room(emitter *e, size_t want, uint8_t **out) {
  if (CA_CRL_CHUNK - e->len < want) {
    CA_GUARD_RETURN(flush(e));
  }
  *out = e->buf + e->len;
  return 1;
}

static void emitted(emitter *e, size_t len) {
  e->len += len;
  e->total += len;
}

static int emit_header(emitter *e, uint8_t tag, size_t len) {
  uint8_t h[10];
  size_t n = 0;
  h[n++] = tag;
  if (len < 128) {
    h[n++] = (uint8_t)len;
  } else {
    const size_t octets = header_len(len) - 2;
    h[n++] = (uint8_t)(0x80 | octets);
    for (size_t i = octets; i > 0; i--) {
      h[n++] = (uint8_t)(len >> (8 * (i - 1)));
    }
  }
  return emit(e, h, n);
}

// signature_len is the length every signature of |key| is made to have:
// RSA's modulus; for ECDSA the DER of r and s both at their longest.
static size_t signature_len(EVP_PKEY *key) {
  const EC_KEY *ec = EVP_PKEY_get0_EC_KEY(key);
  if (ec == NULL) {
    return EVP_PKEY_size(key);
  }
  const size_t int_len = EC_GROUP_order_bits(EC_KEY_get0_group(ec)) / 8 + 1;
  const size_t int_der = header_len(int_len) + int_len;
  return header_len(2 * int_der) + 2 * int_der;
}

// sign_digest signs |md| with |key| into |sig|, of exactly |want| octets.
static int sign_digest(EVP_PKEY *key, const EVP_MD *digest, const uint8_t *md,
                       size_t md_len, size_t want,
                       uint8_t sig[CA_SIGNATURE_MAX_LEN]) {
  int ret = 0;
  EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(key, NULL);
  CA_GUARD_CRYPTO(ctx != NULL && EVP_PKEY_sign_init(ctx) &&
                  EVP_PKEY_CTX_set_signature_md(ctx, digest));
  if (EVP_PKEY_id(key) == EVP_PKEY_RSA) {
    CA_GUARD_CRYPTO(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING));
  }
  for (int attempt = 0; attempt < SIGN_ATTEMPTS; attempt++) {
    size_t len = CA_SIGNATURE_MAX_LEN;
    CA_GUARD_CRYPTO(EVP_PKEY_sign(ctx, sig, &len, md, md_len));
    if (len == want) {
      ret = 1;
      break;
    }
  }
  CA_ENSURE(ret, CA_ERR_INTERNAL, "no signature of %zu octets", want);
err:
  EVP_PKEY_CTX_free(ctx);
  return ret;
}

// The parts of a CRL around its list of entries, encoded ahead.
typedef struct crl_parts {
  CBB prefix;  // TBSCertList, version to nextUpdate
  CBB suffix;  // TBSCertList's crlExtensions
  CBB algorithm;
} crl_parts;

static int make_parts(const ca_issuer *issuer, const ca_crl_info *info,
                      const EVP_MD *digest, crl_parts *p) {
  CA_GUARD_CRYPTO_RETURN(CBB_init(&p->prefix, 256) &&
                         CBB_init(&p->suffix, 256) &&
                         CBB_init(&p->algorithm, 32));
  // version v2(1): "MUST be present" when extensions are (RFC 5280 5.1.2.1).
  CA_GUARD_CRYPTO_RETURN(CBB_add_asn1_uint64(&p->prefix, 1));
  CA_GUARD_RETURN(
      ca_signature_algorithm_add(&p->prefix, issuer->key_info.type, digest));
  CA_GUARD_CRYPTO_RETURN(CBB_add_bytes(&p->prefix,
                                       CBS_data(&issuer->cert.subject),
                                       CBS_len(&issuer->cert.subject)));
  CA_GUARD_RETURN(ca_time_add(&p->prefix, info->this_update));
  CA_GUARD_RETURN(ca_time_add(&p->prefix, info->next_update));
  CA_ENSURE_RETURN(add_crl_extensions(&p->suffix, issuer, info),
                   CA_ERR_INTERNAL, "cannot encode the CRL extensions");
  CA_GUARD_RETURN(
      ca_signature_algorithm_add(&p->algorithm, issuer->key_info.type, digest));
  return 1;
}

// measure reads every entry of |source| once: their count and the length
// of their encodings.
static int measure(const ca_crl_source *source, ca_crl_entry *batch,
                   size_t *out_n, size_t *out_len) {
  size_t n, len;
  uint8_t der[ENTRY_MAX];
  time_cache tc = {0};
  *out_n = 0;
  *out_len = 0;
  // From the first entry whatever was read before: the CRL writer measures
  // so when a first attempt on the same cursor failed, which may have read
  // it to its end, and a list measured from there would be empty.
  CA_GUARD_RETURN(source->rewind(source->arg));
  for (;;) {
    CA_GUARD_RETURN(source->next(source->arg, batch, BATCH, &n));
    if (n == 0) {
      return 1;
    }
    for (size_t i = 0; i < n; i++) {
      CA_GUARD_RETURN(encode_entry(&batch[i], &tc, der, &len));
      *out_len += len;
    }
    *out_n += n;
  }
}

// emit_entries reads the entries again and writes them, each encoded in
// place in the emitter's buffer; they must be those measured.
static int emit_entries(emitter *e, const ca_crl_source *source,
                        ca_crl_entry *batch, size_t want_n, size_t want_len) {
  size_t n, len, seen = 0, written = 0;
  time_cache tc = {0};
  uint8_t *at;
  CA_GUARD_RETURN(source->rewind(source->arg));
  for (;;) {
    CA_GUARD_RETURN(source->next(source->arg, batch, BATCH, &n));
    if (n == 0) {
      break;
    }
    for (size_t i = 0; i < n; i++) {
      CA_GUARD_RETURN(room(e, ENTRY_MAX, &at));
      CA_GUARD_RETURN(encode_entry(&batch[i], &tc, at, &len));
      emitted(e, len);
      written += len;
    }
    seen += n;
  }
  CA_ENSURE_RETURN(seen == want_n && written == want_len, CA_ERR_INTERNAL,
                   "the CRL's entries changed between two reads");
  return 1;
}

// emit_crl writes the whole CRL: |n| entries of |list_len| octets.
static int emit_crl(emitter *e, EVP_PKEY *key, const EVP_MD *digest,
                    const crl_parts *p, const ca_crl_source *source,
                    ca_crl_entry *batch, size_t n, size_t list_len) {
  const size_t list_total = n > 0 ? header_len(list_len) + list_len : 0;
  const size_t tbs_len = CBB_len(&p->prefix) + list_total + CBB_len(&p->suffix);
  const size_t sig_len = signature_len(key);
  const size_t bits_len = sig_len + 1;
  const size_t crl_len = header_len(tbs_len) + tbs_len +
                         CBB_len(&p->algorithm) + header_len(bits_len) +
                         bits_len;
  const size_t der_len = header_len(crl_len) + crl_len;
  CA_ENSURE_RETURN(sig_len <= CA_SIGNATURE_MAX_LEN, CA_ERR_INTERNAL,
                   "signing key too large");
  CA_GUARD_RETURN(e->sink->begin(e->sink->arg, der_len));
  CA_GUARD_RETURN(emit_header(e, DER_SEQUENCE, crl_len));
  CA_GUARD_RETURN(set_hashing(e, 1));
  CA_GUARD_RETURN(emit_header(e, DER_SEQUENCE, tbs_len));
  CA_GUARD_RETURN(emit(e, CBB_data(&p->prefix), CBB_len(&p->prefix)));
  // "When there are no revoked certificates, the revoked certificates list
  // MUST be absent" (RFC 5280 5.1.2.6).
  if (n > 0) {
    CA_GUARD_RETURN(emit_header(e, DER_SEQUENCE, list_len));
    CA_GUARD_RETURN(emit_entries(e, source, batch, n, list_len));
  }
  CA_GUARD_RETURN(emit(e, CBB_data(&p->suffix), CBB_len(&p->suffix)));
  CA_GUARD_RETURN(set_hashing(e, 0));
  uint8_t md[EVP_MAX_MD_SIZE], sig[CA_SIGNATURE_MAX_LEN];
  unsigned md_len;
  CA_GUARD_CRYPTO_RETURN(EVP_DigestFinal_ex(&e->hash, md, &md_len));
  CA_GUARD_RETURN(sign_digest(key, digest, md, md_len, sig_len, sig));
  CA_GUARD_RETURN(emit(e, CBB_data(&p->algorithm), CBB_len(&p->algorithm)));
  CA_GUARD_RETURN(emit_header(e, DER_BIT_STRING, bits_len));
  static const uint8_t kNoUnusedBits = 0;
  CA_GUARD_RETURN(emit(e, &kNoUnusedBits, 1));
  CA_GUARD_RETURN(emit(e, sig, sig_len));
  CA_GUARD_RETURN(flush(e));
  CA_ENSURE_RETURN(e->total == der_len, CA_ERR_INTERNAL,
                   "the CRL has %zu octets, not the %zu announced", e->total,
                   der_len);
  return 1;
}

int ca_crl_stream(const ca_issuer *issuer, EVP_PKEY *key,
                  const ca_crl_info *info, const ca_crl_source *source,
                  const ca_crl_sink *sink, size_t *out_entries) {
  int ret = 0;
  crl_parts parts;
  CBB_zero(&parts.prefix);
  CBB_zero(&parts.suffix);
  CBB_zero(&parts.algorithm);
  emitter e = {.sink = sink};
  EVP_MD_CTX_init(&e.hash);
  ca_crl_entry *batch = malloc(BATCH * sizeof(*batch));
  e.buf = malloc(CA_CRL_CHUNK);
  CA_ENSURE(batch != NULL && e.buf != NULL, CA_ERR_NO_MEMORY, "out of memory");
  const EVP_MD *digest = ca_signature_digest(&issuer->key_info, NULL);
  CA_GUARD(make_parts(issuer, info, digest, &parts));
  size_t n, list_len;
  if (source->measure != NULL) {
    CA_GUARD(source->measure(source->arg, &n, &list_len));
  } else {
    CA_GUARD(measure(source, batch, &n, &list_len));
  }
  CA_GUARD_CRYPTO(EVP_DigestInit_ex(&e.hash, digest, NULL));
  CA_GUARD(emit_crl(&e, key, digest, &parts, source, batch, n, list_len));
  if (out_entries != NULL) {
    *out_entries = n;
  }
  ret = 1;
err:
  EVP_MD_CTX_cleanup(&e.hash);
  CBB_cleanup(&parts.prefix);
  CBB_cleanup(&parts.suffix);
  CBB_cleanup(&parts.algorithm);
  free(batch);
  free(e.buf);
  return ret;
}

// --- A CRL in memory ---

typedef struct array_source {
  const ca_crl_entry *entries;
  size_t n;
  size_t next;
} array_source;

static int array_next(void *arg, ca_crl_entry *out, size_t cap, size_t *out_n) {
  array_source *a = arg;
  size_t n = a->n - a->next;
  n = n < cap ? n : cap;
  if (n > 0) {
    memcpy(out, a->entries + a->next, n * sizeof(*out));
  }
  a->next += n;
  *out_n = n;
  return 1;
}

static int array_rewind(void *arg) {
  array_source *a = arg;
  a->next = 0;
  return 1;
}

static int buffer_begin(void *arg, size_t der_len) {
  CBB *cbb = arg;
  CA_GUARD_CRYPTO_RETURN(CBB_init(cbb, der_len));
  return 1;
}

static int buffer_write(void *arg, const uint8_t *data, size_t len) {
  CA_GUARD_CRYPTO_RETURN(CBB_add_bytes(arg, data, len));
  return 1;
}

int ca_crl_build(const ca_issuer *issuer, EVP_PKEY *key, uint64_t crl_number,
                 int64_t this_update, int64_t next_update,
                 const ca_crl_entry *entries, size_t n, uint8_t **out_der,
                 size_t *out_len) {
  CBB cbb;
  CBB_zero(&cbb);
  array_source array = {.entries = entries, .n = n};
  const ca_crl_source source = {array_next, array_rewind, &array, NULL};
  const ca_crl_sink sink = {buffer_begin, buffer_write, &cbb};
  const ca_crl_info info = {.number = crl_number,
                            .this_update = this_update,
                            .next_update = next_update};
  if (!ca_crl_stream(issuer, key, &info, &source, &sink, NULL)) {
    CBB_cleanup(&cbb);
    return 0;
  }
  if (!CBB_finish(&cbb, out_der, out_len)) {
    CBB_cleanup(&cbb);
    CA_SET_ERROR(CA_ERR_NO_MEMORY, "out of memory");
    return 0;
  }
  return 1;
}
