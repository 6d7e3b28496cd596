#include "tests/support/ocsp_client.h"

#include <openssl/bytestring.h>
#include <openssl/digest.h>
#include <openssl/evp.h>
#include <openssl/mem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

// id-sha1 and id-sha256, and id-pkix-ocsp-nonce / -basic (RFC 6960).
static const uint8_t kSha1[] = {0x2b, 0x0e, 0x03, 0x02, 0x1a};
static const uint8_t kSha256[] = {0x60, 0x86, 0x48, 0x01, 0x65,
                                  0x03, 0x04, 0x02, 0x01};
static const uint8_t kNonce[] = {0x2b, 0x06, 0x01, 0x05, 0x05,
                                 0x07, 0x30, 0x01, 0x02};
static const uint8_t kBasic[] = {0x2b, 0x06, 0x01, 0x05, 0x05,
                                 0x07, 0x30, 0x01, 0x01};

int test_ocsp_key_hash(X509 *cert, uint8_t out[20]) {
  const ASN1_BIT_STRING *bits = X509_get0_pubkey_bitstr(cert);
  if (bits == NULL) {
    return 0;
  }
  SHA1(ASN1_STRING_get0_data(bits), (size_t)ASN1_STRING_length(bits), out);
  return 1;
}

static int hex_to_bytes(const char *hex, uint8_t *out, size_t max,
                        size_t *out_len) {
  const size_t n = strlen(hex);
  if (n == 0 || n % 2 != 0 || n / 2 > max) {
    return 0;
  }
  for (size_t i = 0; i < n / 2; i++) {
    unsigned v;
    if (sscanf(hex + 2 * i, "%2x", &v) != 1) {
      return 0;
    }
    out[i] = (uint8_t)v;
  }
  *out_len = n / 2;
  return 1;
}

// add_cert_id writes a CertID of |issuer| and |serial_hex|.
static int add_cert_id(CBB *list, X509 *issuer, const char *serial_hex,
                       int sha256) {
  uint8_t *name = NULL;
  const int name_len = i2d_X509_NAME(X509_get_subject_name(issuer), &name);
  const ASN1_BIT_STRING *bits = X509_get0_pubkey_bitstr(issuer);
  uint8_t name_hash[SHA256_DIGEST_LENGTH], key_hash[SHA256_DIGEST_LENGTH];
  uint8_t serial[64];
  size_t serial_len, hash_len = sha256 ? SHA256_DIGEST_LENGTH : 20;
  int ok = name_len > 0 && bits != NULL &&
           hex_to_bytes(serial_hex, serial, sizeof(serial), &serial_len);
  if (ok && sha256) {
    SHA256(name, (size_t)name_len, name_hash);
    SHA256(ASN1_STRING_get0_data(bits), (size_t)ASN1_STRING_length(bits),
           key_hash);
  } else if (ok) {
    SHA1(name, (size_t)name_len, name_hash);
    SHA1(ASN1_STRING_get0_data(bits), (size_t)ASN1_STRING_length(bits),
         key_hash);
  }
  OPENSSL_free(name);
  CBB request, cert_id, alg, oid, octets, integer;
  ok = ok && CBB_add_asn1(list, &request, CBS_ASN1_SEQUENCE) &&
       CBB_add_asn1(&request, &cert_id, CBS_ASN1_SEQUENCE) &&
       CBB_add_asn1(&cert_id, &alg, CBS_ASN1_SEQUENCE) &&
       CBB_add_asn1(&alg, &oid, CBS_ASN1_OBJECT) &&
       CBB_add_bytes(&oid, sha256 ? kSha256 : kSha1,
                     sha256 ? sizeof(kSha256) : sizeof(kSha1)) &&
       CBB_add_asn1(&alg, &octets, CBS_ASN1_NULL) && CBB_flush(&cert_id) &&
       CBB_add_asn1(&cert_id, &octets, CBS_ASN1_OCTETSTRING) &&
       CBB_add_bytes(&octets, name_hash, hash_len) &&
       CBB_add_asn1(&cert_id, &octets, CBS_ASN1_OCTETSTRING) &&
       CBB_add_bytes(&octets, key_hash, hash_len) &&
       CBB_add_asn1(&cert_id, &integer, CBS_ASN1_INTEGER);
  // A positive INTEGER: a leading zero when the top bit is set.
  ok = ok && ((serial[0] & 0x80) == 0 || CBB_add_u8(&integer, 0)) &&
       CBB_add_bytes(&integer, serial, serial_len) && CBB_flush(list);
  return ok;
}

uint8_t *test_ocsp_request(X509 *issuer, const char *const *serials_hex,
                           size_t n, int sha256, const uint8_t *nonce,
                           size_t nonce_len, size_t *out_len) {
  CBB cbb, req, tbs, list;
  uint8_t *der = NULL;
  if (!CBB_init(&cbb, 512) || !CBB_add_asn1(&cbb, &req, CBS_ASN1_SEQUENCE) ||
      !CBB_add_asn1(&req, &tbs, CBS_ASN1_SEQUENCE) ||
      !CBB_add_asn1(&tbs, &list, CBS_ASN1_SEQUENCE)) {
    goto err;
  }
  for (size_t i = 0; i < n; i++) {
    if (!add_cert_id(&list, issuer, serials_hex[i], sha256)) {
      goto err;
    }
  }
  if (!CBB_flush(&tbs)) {
    goto err;
  }
  if (nonce != NULL) {
    CBB exts, seq, ext, oid, value, inner;
    if (!CBB_add_asn1(&tbs, &exts,
                      CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 2) ||
        !CBB_add_asn1(&exts, &seq, CBS_ASN1_SEQUENCE) ||
        !CBB_add_asn1(&seq, &ext, CBS_ASN1_SEQUENCE) ||
        !CBB_add_asn1(&ext, &oid, CBS_ASN1_OBJECT) ||
        !CBB_add_bytes(&oid, kNonce, sizeof(kNonce)) ||
        !CBB_add_asn1(&ext, &value, CBS_ASN1_OCTETSTRING) ||
        !CBB_add_asn1(&value, &inner, CBS_ASN1_OCTETSTRING) ||
        !CBB_add_bytes(&inner, nonce, nonce_len)) {
      goto err;
    }
  }
  if (!CBB_finish(&cbb, &der, out_len)) {
    goto err;
  }
  return der;
err:
  CBB_cleanup(&cbb);
  return NULL;
}

// --- Reading responses ---

static int parse_time(CBS *in, int64_t *out) {
  CBS t;
  if (!CBS_get_asn1(in, &t, CBS_ASN1_GENERALIZEDTIME) || CBS_len(&t) != 15 ||
      CBS_data(&t)[14] != 'Z') {
    return 0;
  }
  char text[16];
  memcpy(text, CBS_data(&t), 15);
  text[15] = '\0';
  struct tm tm;
  memset(&tm, 0, sizeof(tm));
  if (sscanf(text, "%4d%2d%2d%2d%2d%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
             &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6) {
    return 0;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  *out = (int64_t)timegm(&tm);
  return 1;
}

static void serial_hex(const CBS *integer, char *out, size_t len) {
  CBS v = *integer;
  while (CBS_len(&v) > 1 && CBS_data(&v)[0] == 0) {
    CBS_skip(&v, 1);
  }
  out[0] = '\0';
  for (size_t i = 0; i < CBS_len(&v) && 2 * i + 3 <= len; i++) {
    snprintf(out + 2 * i, 3, "%02x", CBS_data(&v)[i]);
  }
}

static int parse_single(CBS *responses, test_ocsp_single *s) {
  CBS single, cert_id, alg, hash, integer;
  if (!CBS_get_asn1(responses, &single, CBS_ASN1_SEQUENCE) ||
      !CBS_get_asn1(&single, &cert_id, CBS_ASN1_SEQUENCE) ||
      !CBS_get_asn1(&cert_id, &alg, CBS_ASN1_SEQUENCE) ||
      !CBS_get_asn1(&cert_id, &hash, CBS_ASN1_OCTETSTRING) ||
      !CBS_get_asn1(&cert_id, &hash, CBS_ASN1_OCTETSTRING) ||
      !CBS_get_asn1(&cert_id, &integer, CBS_ASN1_INTEGER)) {
    return 0;
  }
  serial_hex(&integer, s->serial, sizeof(s->serial));
  s->reason = -1;
  s->next_update = 0;
  CBS status;
  unsigned tag;
  if (!CBS_get_any_asn1(&single, &status, &tag)) {
    return 0;
  }
  if (tag == (CBS_ASN1_CONTEXT_SPECIFIC | 0) && CBS_len(&status) == 0) {
    s->status = TEST_OCSP_GOOD;
  } else if (tag == (CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 1)) {
    s->status = TEST_OCSP_REVOKED;
    if (!parse_time(&status, &s->revoked_at)) {
      return 0;
    }
    if (CBS_len(&status) > 0) {
      CBS reason, value;
      if (!CBS_get_asn1(&status, &reason,
                        CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 0) ||
          !CBS_get_asn1(&reason, &value, CBS_ASN1_ENUMERATED) ||
          CBS_len(&value) != 1) {
        return 0;
      }
      s->reason = CBS_data(&value)[0];
    }
  } else if (tag == (CBS_ASN1_CONTEXT_SPECIFIC | 2) && CBS_len(&status) == 0) {
    s->status = TEST_OCSP_UNKNOWN;
  } else {
    return 0;
  }
  if (!parse_time(&single, &s->this_update)) {
    return 0;
  }
  if (CBS_peek_asn1_tag(&single,
                        CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 0)) {
    CBS next;
    if (!CBS_get_asn1(&single, &next,
                      CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 0) ||
        !parse_time(&next, &s->next_update)) {
      return 0;
    }
  }
  return 1;
}

static int parse_extensions(CBS *exts, test_ocsp_response *out) {
  CBS seq;
  if (!CBS_get_asn1(exts, &seq, CBS_ASN1_SEQUENCE)) {
    return 0;
  }
  while (CBS_len(&seq) > 0) {
    CBS ext, oid, value;
    if (!CBS_get_asn1(&seq, &ext, CBS_ASN1_SEQUENCE) ||
        !CBS_get_asn1(&ext, &oid, CBS_ASN1_OBJECT)) {
      return 0;
    }
    if (CBS_peek_asn1_tag(&ext, CBS_ASN1_BOOLEAN)) {
      CBS critical;
      if (!CBS_get_asn1(&ext, &critical, CBS_ASN1_BOOLEAN)) {
        return 0;
      }
    }
    if (!CBS_get_asn1(&ext, &value, CBS_ASN1_OCTETSTRING)) {
      return 0;
    }
    if (CBS_mem_equal(&oid, kNonce, sizeof(kNonce))) {
      CBS inner;
      if (!CBS_get_asn1(&value, &inner, CBS_ASN1_OCTETSTRING) ||
          CBS_len(&inner) > sizeof(out->nonce)) {
        return 0;
      }
      out->has_nonce = 1;
      out->nonce_len = CBS_len(&inner);
      memcpy(out->nonce, CBS_data(&inner), CBS_len(&inner));
    }
  }
  return 1;
}

// digest_of maps a signature AlgorithmIdentifier to its digest.
static const EVP_MD *digest_of(CBS *alg) {
  static const uint8_t kRsa[] = {0x2a, 0x86, 0x48, 0x86,
                                 0xf7, 0x0d, 0x01, 0x01};  // 1.2.840.113549.1.1
  static const uint8_t kEcdsa[] = {0x2a, 0x86, 0x48, 0xce,
                                   0x3d, 0x04, 0x03};  // 1.2.840.10045.4.3
  CBS oid;
  if (!CBS_get_asn1(alg, &oid, CBS_ASN1_OBJECT) || CBS_len(&oid) < 1) {
    return NULL;
  }
  const uint8_t last = CBS_data(&oid)[CBS_len(&oid) - 1];
  CBS prefix;
  CBS_init(&prefix, CBS_data(&oid), CBS_len(&oid) - 1);
  if (CBS_mem_equal(&prefix, kRsa, sizeof(kRsa))) {
    return last == 11 ? EVP_sha256() : last == 12 ? EVP_sha384() : NULL;
  }
  if (CBS_mem_equal(&prefix, kEcdsa, sizeof(kEcdsa))) {
    return last == 2 ? EVP_sha256() : last == 3 ? EVP_sha384() : NULL;
  }
  return NULL;
}

static int verify(EVP_PKEY *key, const EVP_MD *md, const CBS *tbs,
                  const CBS *sig) {
  EVP_MD_CTX ctx;
  EVP_MD_CTX_init(&ctx);
  CBS bits = *sig;
  uint8_t unused;
  const int ok = key != NULL && md != NULL && CBS_get_u8(&bits, &unused) &&
                 unused == 0 &&
                 EVP_DigestVerifyInit(&ctx, NULL, md, NULL, key) &&
                 EVP_DigestVerify(&ctx, CBS_data(&bits), CBS_len(&bits),
                                  CBS_data(tbs), CBS_len(tbs));
  EVP_MD_CTX_cleanup(&ctx);
  return ok;
}

static int parse_basic(CBS *basic_der, EVP_PKEY *ca_key,
                       test_ocsp_response *out) {
  CBS basic, tbs_element, tbs, alg, sig, responder, responses;
  if (!CBS_get_asn1(basic_der, &basic, CBS_ASN1_SEQUENCE) ||
      !CBS_get_asn1_element(&basic, &tbs_element, CBS_ASN1_SEQUENCE) ||
      !CBS_get_asn1(&basic, &alg, CBS_ASN1_SEQUENCE) ||
      !CBS_get_asn1(&basic, &sig, CBS_ASN1_BITSTRING)) {
    return 0;
  }
  if (CBS_peek_asn1_tag(&basic,
                        CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 0)) {
    CBS certs, list, cert;
    if (!CBS_get_asn1(&basic, &certs,
                      CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 0) ||
        !CBS_get_asn1(&certs, &list, CBS_ASN1_SEQUENCE) ||
        !CBS_get_asn1_element(&list, &cert, CBS_ASN1_SEQUENCE)) {
      return 0;
    }
    const uint8_t *p = CBS_data(&cert);
    out->signer = d2i_X509(NULL, &p, (long)CBS_len(&cert));
    if (out->signer == NULL) {
      return 0;
    }
  }
  if (CBS_len(&basic) != 0) {
    return 0;
  }
  tbs = tbs_element;
  if (!CBS_get_asn1(&tbs, &tbs, CBS_ASN1_SEQUENCE)) {
    return 0;
  }
  // version [0] DEFAULT v1 is absent in DER.
  if (!CBS_get_any_asn1(&tbs, &responder, NULL)) {
    return 0;
  }
  CBS key_hash;
  if (CBS_get_asn1(&responder, &key_hash, CBS_ASN1_OCTETSTRING) &&
      CBS_len(&key_hash) == 20) {
    out->by_key = 1;
    memcpy(out->key_hash, CBS_data(&key_hash), 20);
  }
  if (!parse_time(&tbs, &out->produced_at) ||
      !CBS_get_asn1(&tbs, &responses, CBS_ASN1_SEQUENCE)) {
    return 0;
  }
  while (CBS_len(&responses) > 0) {
    if (out->count == TEST_OCSP_MAX_SINGLES ||
        !parse_single(&responses, &out->singles[out->count])) {
      return 0;
    }
    out->count++;
  }
  if (CBS_len(&tbs) > 0) {
    CBS exts;
    if (!CBS_get_asn1(&tbs, &exts,
                      CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 1) ||
        !parse_extensions(&exts, out) || CBS_len(&tbs) != 0) {
      return 0;
    }
  }
  EVP_PKEY *key = out->signer != NULL ? X509_get_pubkey(out->signer) : NULL;
  out->signature_ok =
      verify(key != NULL ? key : ca_key, digest_of(&alg), &tbs_element, &sig);
  EVP_PKEY_free(key);
  return 1;
}

int test_ocsp_parse(const uint8_t *der, size_t len, EVP_PKEY *ca_key,
                    test_ocsp_response *out) {
  memset(out, 0, sizeof(*out));
  out->response_status = -1;
  CBS in, resp, status;
  CBS_init(&in, der, len);
  if (!CBS_get_asn1(&in, &resp, CBS_ASN1_SEQUENCE) || CBS_len(&in) != 0 ||
      !CBS_get_asn1(&resp, &status, CBS_ASN1_ENUMERATED) ||
      CBS_len(&status) != 1) {
    return 0;
  }
  out->response_status = CBS_data(&status)[0];
  if (CBS_len(&resp) == 0) {
    return out->response_status != 0;
  }
  CBS bytes, seq, oid, octets;
  return CBS_get_asn1(&resp, &bytes,
                      CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 0) &&
         CBS_len(&resp) == 0 && CBS_get_asn1(&bytes, &seq, CBS_ASN1_SEQUENCE) &&
         CBS_get_asn1(&seq, &oid, CBS_ASN1_OBJECT) &&
         CBS_mem_equal(&oid, kBasic, sizeof(kBasic)) &&
         CBS_get_asn1(&seq, &octets, CBS_ASN1_OCTETSTRING) &&
         parse_basic(&octets, ca_key, out) && CBS_len(&octets) == 0;
}

void test_ocsp_response_cleanup(test_ocsp_response *r) {
  X509_free(r->signer);
  r->signer = NULL;
}
