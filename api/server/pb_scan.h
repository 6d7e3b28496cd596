// A bounded look at protobuf wire format before protobuf-c unpacks it.
//
// protobuf-c allocates every element of a repeated field as it decodes: a
// body of many empty items would make it allocate far more than the body's
// size. Counting the items first lets a request over the limit be refused
// before any allocation sized by what the client sent.
#ifndef PKI_API_PB_SCAN_H
#define PKI_API_PB_SCAN_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

#include "ca/error.h"

// api_pb_count_field counts the top-level occurrences of |field| in the
// message |buf|. It returns 0 with CA_ERR_REQUEST_MALFORMED when |buf| is
// not well-formed wire format (bad varint, length past the end, group
// wire types), or CA_ERR_BATCH_TOO_LARGE as soon as the count exceeds |max|.
int api_pb_count_field(const uint8_t *buf, size_t len, uint32_t field,
                       size_t max, size_t *out_count) CA_MUST_CHECK;

// How deep api_pb_check_strings follows sub-messages; pki's messages nest
// three deep at most.
#define API_PB_MAX_DEPTH 16

// api_pb_check_strings walks the message |buf| of type |desc|, and the
// sub-messages its descriptor names, and returns 0 with
// CA_ERR_REQUEST_MALFORMED when a string field holds a NUL byte (the
// message names the field): protobuf-c hands strings to C NUL-terminated,
// so "a@example.com\0b" would reach pki as "a@example.com". Fields its
// descriptor does not know are skipped (protobuf-c keeps them as bytes).
// It also returns CA_ERR_REQUEST_MALFORMED for wire format that is not
// well formed or nests deeper than API_PB_MAX_DEPTH. Called on every
// protobuf body the API takes, with the descriptor of the message it
// unpacks.
int api_pb_check_strings(const ProtobufCMessageDescriptor *desc,
                         const uint8_t *buf, size_t len) CA_MUST_CHECK;

#endif  // PKI_API_PB_SCAN_H
