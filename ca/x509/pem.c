#include "ca/x509/pem.h"

#include <openssl/base64.h>
#include <openssl/mem.h>
#include <string.h>

static const char kBegin[] = "-----BEGIN ";
static const char kEnd[] = "-----END ";
static const char kDashes[] = "-----";

// find returns the offset of |needle| in |hay| or -1.
static long find(const CBS *hay, const char *needle) {
  const size_t n = strlen(needle);
  const uint8_t *p = CBS_data(hay);
  const size_t len = CBS_len(hay);
  if (len < n) {
    return -1;
  }
  for (size_t i = 0; i + n <= len; i++) {
    if (p[i] == (uint8_t)needle[0] && memcmp(p + i, needle, n) == 0) {
      return (long)i;
    }
  }
  return -1;
}

int ca_pem_label_is(const CBS *label, const char *want) {
  return CBS_mem_equal(label, (const uint8_t *)want, strlen(want));
}

static int is_space(uint8_t c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int ca_pem_looks_like(const uint8_t *in, size_t in_len) {
  size_t i = 0;
  while (i < in_len && is_space(in[i])) {
    i++;
  }
  const size_t n = sizeof(kBegin) - 1;
  return in_len - i >= n && memcmp(in + i, kBegin, n) == 0;
}

int ca_pem_next(CBS *in, CBS *out_label, uint8_t **out_der, size_t *out_der_len,
                size_t max_der_len) {
  int ret = 0;
  uint8_t *clean = NULL;
  uint8_t *der = NULL;

  long begin = find(in, kBegin);
  CA_ENSURE(begin >= 0, CA_ERR_NOT_FOUND, "no PEM block");
  CA_GUARD_CRYPTO(CBS_skip(in, (size_t)begin + sizeof(kBegin) - 1));

  // "-----BEGIN " label "-----" EOL
  long label_end = find(in, kDashes);
  CA_ENSURE(label_end > 0 && label_end <= 64, CA_ERR_PEM_MALFORMED,
            "PEM: bad BEGIN line");
  CBS label;
  CA_GUARD_CRYPTO(CBS_get_bytes(in, &label, (size_t)label_end));
  CA_GUARD_CRYPTO(CBS_skip(in, sizeof(kDashes) - 1));
  for (size_t i = 0; i < CBS_len(&label); i++) {
    const uint8_t c = CBS_data(&label)[i];
    CA_ENSURE(c >= 0x20 && c <= 0x7e, CA_ERR_PEM_MALFORMED, "PEM: bad label");
  }

  long end = find(in, kEnd);
  CA_ENSURE(end >= 0, CA_ERR_PEM_MALFORMED, "PEM: no END line");
  CBS body;
  CA_GUARD_CRYPTO(CBS_get_bytes(in, &body, (size_t)end));
  CA_GUARD_CRYPTO(CBS_skip(in, sizeof(kEnd) - 1));
  // RFC 7468: the END label must equal the BEGIN label.
  CA_ENSURE(CBS_len(in) >= CBS_len(&label) + sizeof(kDashes) - 1 &&
                memcmp(CBS_data(in), CBS_data(&label), CBS_len(&label)) == 0,
            CA_ERR_PEM_MALFORMED, "PEM: END label differs from BEGIN");
  CA_GUARD_CRYPTO(CBS_skip(in, CBS_len(&label)));
  CA_ENSURE(CBS_len(in) >= sizeof(kDashes) - 1 &&
                memcmp(CBS_data(in), kDashes, sizeof(kDashes) - 1) == 0,
            CA_ERR_PEM_MALFORMED, "PEM: bad END line");
  CA_GUARD_CRYPTO(CBS_skip(in, sizeof(kDashes) - 1));

  // Gather the base64 characters; whitespace may separate them anywhere.
  // Encapsulated headers (RFC 1421 "Proc-Type:"), which mark encrypted
  // legacy PEM, contain ':' and fail the base64 decoding below.
  // |clean| is no larger than the body, which the caller already holds.
  const size_t body_len = CBS_len(&body);
  clean = OPENSSL_malloc(body_len + 1);
  CA_ENSURE_ALLOC(clean);
  size_t clean_len = 0;
  for (size_t i = 0; i < body_len; i++) {
    const uint8_t c = CBS_data(&body)[i];
    if (!is_space(c)) {
      clean[clean_len++] = c;
    }
  }
  // The early size check counts base64 characters only: line breaks (one or
  // two per 64 characters) would otherwise refuse a body that decodes to
  // less than |max_der_len|.
  CA_ENSURE(clean_len / 4 * 3 <= max_der_len + 3, CA_ERR_OBJECT_TOO_LARGE,
            "PEM body larger than %zu bytes", max_der_len);
  size_t max_out;
  CA_ENSURE(clean_len > 0 && EVP_DecodedLength(&max_out, clean_len),
            CA_ERR_PEM_MALFORMED, "PEM: empty or truncated body");
  der = OPENSSL_malloc(max_out);
  CA_ENSURE_ALLOC(der);
  size_t der_len;
  CA_ENSURE(EVP_DecodeBase64(der, &der_len, max_out, clean, clean_len),
            CA_ERR_PEM_MALFORMED, "PEM: bad base64");
  CA_ENSURE(der_len <= max_der_len, CA_ERR_OBJECT_TOO_LARGE,
            "PEM body larger than %zu bytes", max_der_len);

  *out_label = label;
  *out_der = der;
  *out_der_len = der_len;
  der = NULL;  // the caller's now
  ret = 1;
err:
  OPENSSL_free(clean);
  OPENSSL_free(der);
  return ret;
}

// is_public_label says whether a block labelled |label| holds only public
// data, whose encoding may take the table-driven path below. Every other
// label (a private key above all) is encoded by BoringSSL's EVP_EncodeBlock,
// which reads no table at a secret-dependent index.
static int is_public_label(const char *label) {
  static const char *const kPublic[] = {
      "CERTIFICATE", "X509 CRL", "CERTIFICATE REQUEST", "PUBLIC KEY", "PKCS7"};
  for (size_t i = 0; i < sizeof(kPublic) / sizeof(kPublic[0]); i++) {
    if (strcmp(label, kPublic[i]) == 0) {
      return 1;
    }
  }
  return 0;
}

// encode_public writes the base64 of |in| (|len| bytes, at most 48) to
// |out|, padded as EVP_EncodeBlock does, and returns the characters
// written. A table lookup per character: EVP_EncodeBlock's constant-time
// arithmetic cost 3.7 us for a 720-byte certificate, an eighth of
// `pkictl batch`'s CPU per file, and a certificate is no secret.
static size_t encode_public(uint8_t *out, const uint8_t *in, size_t len) {
  static const char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t o = 0, i = 0;
  for (; i + 3 <= len; i += 3) {
    const uint32_t v =
        (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
    out[o++] = (uint8_t)kAlphabet[v >> 18];
    out[o++] = (uint8_t)kAlphabet[(v >> 12) & 63];
    out[o++] = (uint8_t)kAlphabet[(v >> 6) & 63];
    out[o++] = (uint8_t)kAlphabet[v & 63];
  }
  if (i < len) {
    const uint32_t v =
        (uint32_t)in[i] << 16 | (i + 1 < len ? (uint32_t)in[i + 1] << 8 : 0);
    out[o++] = (uint8_t)kAlphabet[v >> 18];
    out[o++] = (uint8_t)kAlphabet[(v >> 12) & 63];
    out[o++] = i + 1 < len ? (uint8_t)kAlphabet[(v >> 6) & 63] : '=';
    out[o++] = '=';
  }
  return o;
}

int ca_pem_add(CBB *out, const char *label, const uint8_t *der,
               size_t der_len) {
  size_t b64_len;
  CA_ENSURE_RETURN(EVP_EncodedLength(&b64_len, der_len), CA_ERR_NO_MEMORY,
                   "PEM: body too large");
  const int public = is_public_label(label);
  CA_GUARD_CRYPTO_RETURN(
      CBB_add_bytes(out, (const uint8_t *)kBegin, sizeof(kBegin) - 1));
  CA_GUARD_CRYPTO_RETURN(
      CBB_add_bytes(out, (const uint8_t *)label, strlen(label)));
  CA_GUARD_CRYPTO_RETURN(CBB_add_bytes(out, (const uint8_t *)"-----\n", 6));
  // 48 input bytes make one 64-column line.
  for (size_t off = 0; off < der_len; off += 48) {
    const size_t chunk = der_len - off < 48 ? der_len - off : 48;
    uint8_t *line;
    CA_GUARD_CRYPTO_RETURN(CBB_reserve(out, &line, 65 + 1));
    const size_t n = public ? encode_public(line, der + off, chunk)
                            : EVP_EncodeBlock(line, der + off, chunk);
    line[n] = '\n';
    CA_GUARD_CRYPTO_RETURN(CBB_did_write(out, n + 1));
  }
  CA_GUARD_CRYPTO_RETURN(
      CBB_add_bytes(out, (const uint8_t *)kEnd, sizeof(kEnd) - 1));
  CA_GUARD_CRYPTO_RETURN(
      CBB_add_bytes(out, (const uint8_t *)label, strlen(label)));
  CA_GUARD_CRYPTO_RETURN(CBB_add_bytes(out, (const uint8_t *)"-----\n", 6));
  return 1;
}
