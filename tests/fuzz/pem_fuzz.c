// Fuzz target: PEM (RFC 7468) reading, as for uploaded certificates and
// chains and for PEM requests: every block of the input in turn, and the
// whole input as a request (ca_csr_decode_max: BOM, text around the block,
// two requests).
//
// The first byte also picks the size limit: at or above 0x80 a small one
// ((byte - 0x7f) * 32 bytes), so that blocks near the limit are common;
// below, the CSR limit the service uses. The byte stays part of the input
// (text before a block is skipped).
//
// Each block read is written back with ca_pem_add and read again with a limit
// of exactly its size: what the writer makes, the reader must take, with the
// same label and bytes, however close to the limit; and encoded under the
// label CERTIFICATE (the table-driven encoder), its body is the same.
#include <openssl/bytestring.h>
#include <openssl/evp.h>
#include <openssl/mem.h>
#include <string.h>

#include "ca/limits.h"
#include "ca/x509/csr.h"
#include "ca/x509/der.h"
#include "ca/x509/key.h"
#include "ca/x509/pem.h"
#include "tests/fuzz/fuzz.h"

static void check_round_trip(const CBS *label, const uint8_t *der,
                             size_t der_len) {
  // Labels are at most 64 printable characters (ca_pem_next checks).
  char name[65];
  FUZZ_ASSERT(CBS_len(label) < sizeof(name));
  memcpy(name, CBS_data(label), CBS_len(label));
  name[CBS_len(label)] = '\0';

  CBB cbb;
  uint8_t *pem;
  size_t pem_len;
  FUZZ_ASSERT(CBB_init(&cbb, der_len * 2 + 128));
  FUZZ_ASSERT(ca_pem_add(&cbb, name, der, der_len));
  FUZZ_ASSERT(CBB_finish(&cbb, &pem, &pem_len));
  FUZZ_ASSERT(ca_pem_looks_like(pem, pem_len));

  CBS in, label2;
  uint8_t *der2;
  size_t der2_len;
  CBS_init(&in, pem, pem_len);
  FUZZ_ASSERT(ca_pem_next(&in, &label2, &der2, &der2_len, der_len));
  FUZZ_ASSERT(CBS_mem_equal(&label2, (const uint8_t *)name, strlen(name)));
  FUZZ_ASSERT(der2_len == der_len && memcmp(der2, der, der_len) == 0);
  // Only the final newline is left.
  FUZZ_ASSERT(CBS_len(&in) == 1 && CBS_data(&in)[0] == '\n');
  OPENSSL_free(der2);

  // A certificate's body is encoded by the table, any other label's by
  // BoringSSL: the same body either way.
  uint8_t *cert_pem;
  size_t cert_pem_len;
  static const char kCert[] = "CERTIFICATE";
  FUZZ_ASSERT(CBB_init(&cbb, der_len * 2 + 128));
  FUZZ_ASSERT(ca_pem_add(&cbb, kCert, der, der_len));
  FUZZ_ASSERT(CBB_finish(&cbb, &cert_pem, &cert_pem_len));
  const size_t head = sizeof("-----BEGIN -----\n") - 1;
  const size_t tail = sizeof("-----END -----\n") - 1;
  const size_t body = pem_len - head - tail - 2 * strlen(name);
  FUZZ_ASSERT(cert_pem_len == body + head + tail + 2 * (sizeof(kCert) - 1));
  FUZZ_ASSERT(memcmp(pem + head + strlen(name),
                     cert_pem + head + sizeof(kCert) - 1, body) == 0);
  OPENSSL_free(cert_pem);
  OPENSSL_free(pem);
}

// check_csr_decode reads the input as a client's request is read (a BOM,
// text around the block, two requests refused): any outcome but a known
// code, or a DER request larger than the limit, is a bug. What it returns
// is walked by the strict DER check, which must not crash on it.
static void check_csr_decode(const uint8_t *data, size_t size, size_t max) {
  const uint8_t *der;
  size_t der_len;
  uint8_t *owned = NULL;
  if (!ca_csr_decode_max(data, size, max, &der, &der_len, &owned)) {
    const ca_err_code code = ca_err_get()->code;
    FUZZ_ASSERT(code == CA_ERR_CSR_MALFORMED || code == CA_ERR_PEM_MALFORMED ||
                code == CA_ERR_CSR_TOO_LARGE || code == CA_ERR_CSR_MULTIPLE);
    FUZZ_ASSERT(owned == NULL);
    return;
  }
  FUZZ_ASSERT(der_len <= max);
  CBS cbs;
  CBS_init(&cbs, der, der_len);
  (void)ca_der_check(&cbs);
  OPENSSL_free(owned);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  (void)ca_pem_looks_like(data, size);
  size_t max_der_len = CA_LIMIT_CSR_BYTES;
  if (size > 0 && data[0] >= 0x80) {
    max_der_len = (size_t)(data[0] - 0x7f) * 32;
  }
  check_csr_decode(data, size, max_der_len);
  // The key reader of pkictl csr --key reads PEM the same way.
  EVP_PKEY *key = ca_key_parse_pem(data, size);
  FUZZ_ASSERT(key != NULL || ca_err_get()->code == CA_ERR_KEY_FILE);
  EVP_PKEY_free(key);
  CBS in;
  CBS_init(&in, data, size);
  for (;;) {
    CBS label;
    uint8_t *der;
    size_t der_len;
    const size_t before = CBS_len(&in);
    if (!ca_pem_next(&in, &label, &der, &der_len, max_der_len)) {
      const ca_err_code code = ca_err_get()->code;
      FUZZ_ASSERT(code == CA_ERR_NOT_FOUND || code == CA_ERR_PEM_MALFORMED ||
                  code == CA_ERR_OBJECT_TOO_LARGE);
      break;
    }
    // Each block read moves the input on, or a caller's loop never ends.
    FUZZ_ASSERT(CBS_len(&in) < before);
    FUZZ_ASSERT(der_len <= max_der_len);
    (void)ca_pem_label_is(&label, "CERTIFICATE");
    // An empty body is refused when read, so it has nothing to round-trip.
    if (der_len > 0) {
      check_round_trip(&label, der, der_len);
    }
    OPENSSL_free(der);
  }
  return 0;
}
