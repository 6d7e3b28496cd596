// A bounded look at protobuf wire format before protobuf-c unpacks it.
//
// protobuf-c allocates every element of a repeated field as it decodes: a
// body of many empty items would make it allocate far more than the body's
// size. Counting the items first lets a request over the limit be refused
// before any allocation sized by what the client sent.
#ifndef PKI_API_PB_SCAN_H
#define PKI_API_PB_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include "ca/error.h"

// api_pb_count_field counts the top-level occurrences of |field| in the
// message |buf|. It returns 0 with CA_ERR_REQUEST_MALFORMED when |buf| is
// not well-formed wire format (bad varint, length past the end, group
// wire types), or CA_ERR_BATCH_TOO_LARGE as soon as the count exceeds |max|.
int api_pb_count_field(const uint8_t *buf, size_t len, uint32_t field,
                       size_t max, size_t *out_count) CA_MUST_CHECK;

#endif  // PKI_API_PB_SCAN_H
