// PEM (RFC 7468) reading and writing, bounded.
#ifndef PKI_CA_PEM_H
#define PKI_CA_PEM_H

#include <openssl/bytestring.h>
#include <stddef.h>
#include <stdint.h>

#include "ca/error.h"

// ca_pem_next reads the next PEM block from |in| (which it advances past the
// block) and decodes its body. Text before a block is skipped, as RFC 7468
// section 2 allows. On success it sets |*out_label| to a view of the label
// inside |in|'s buffer, and |*out_der|, |*out_der_len| to a newly allocated
// buffer the caller frees with OPENSSL_free. A decoded body larger than
// |max_der_len| is refused. It returns 0 with CA_ERR_NOT_FOUND when |in| holds
// no further block, CA_ERR_PEM_MALFORMED when a block is broken (missing end
// line, encapsulated headers, bad base64), or CA_ERR_OBJECT_TOO_LARGE.
int ca_pem_next(CBS *in, CBS *out_label, uint8_t **out_der, size_t *out_der_len,
                size_t max_der_len) CA_MUST_CHECK;

// ca_pem_label_is returns 1 when |label| equals the NUL-terminated |want|.
int ca_pem_label_is(const CBS *label, const char *want);

// ca_pem_add appends |der| as a PEM block labelled |label|, with 64-column
// lines and a final newline. It returns 0 with CA_ERR_NO_MEMORY on failure.
int ca_pem_add(CBB *out, const char *label, const uint8_t *der,
               size_t der_len) CA_MUST_CHECK;

// ca_pem_looks_like returns 1 when |in| starts, after optional whitespace,
// with "-----BEGIN ". It is a format sniff, not validation.
int ca_pem_looks_like(const uint8_t *in, size_t in_len);

#endif  // PKI_CA_PEM_H
