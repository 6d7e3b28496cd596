#include "api/server/pb_scan.h"

static int read_varint(const uint8_t *buf, size_t len, size_t *pos,
                       uint64_t *out) {
  uint64_t v = 0;
  for (unsigned shift = 0; shift < 64; shift += 7) {
    if (*pos >= len) {
      return 0;
    }
    const uint8_t b = buf[(*pos)++];
    v |= (uint64_t)(b & 0x7f) << shift;
    if ((b & 0x80) == 0) {
      *out = v;
      return 1;
    }
  }
  return 0;
}

int api_pb_count_field(const uint8_t *buf, size_t len, uint32_t field,
                       size_t max, size_t *out_count) {
  size_t pos = 0, count = 0;
  while (pos < len) {
    uint64_t key, value;
    CA_ENSURE(read_varint(buf, len, &pos, &key), CA_ERR_REQUEST_MALFORMED,
              "protobuf: bad field key");
    const uint64_t number = key >> 3;
    switch (key & 7) {
      case 0:  // varint
        CA_ENSURE(read_varint(buf, len, &pos, &value), CA_ERR_REQUEST_MALFORMED,
                  "protobuf: bad varint");
        break;
      case 1:  // 64-bit
        CA_ENSURE(len - pos >= 8, CA_ERR_REQUEST_MALFORMED,
                  "protobuf: truncated");
        pos += 8;
        break;
      case 2:  // length-delimited
        CA_ENSURE(read_varint(buf, len, &pos, &value) && value <= len - pos,
                  CA_ERR_REQUEST_MALFORMED, "protobuf: bad length");
        pos += (size_t)value;
        break;
      case 5:  // 32-bit
        CA_ENSURE(len - pos >= 4, CA_ERR_REQUEST_MALFORMED,
                  "protobuf: truncated");
        pos += 4;
        break;
      default:
        CA_RAISE(CA_ERR_REQUEST_MALFORMED, "protobuf: unsupported wire type");
    }
    if (number == field) {
      CA_ENSURE(++count <= max, CA_ERR_BATCH_TOO_LARGE,
                "more than %zu items in one request", max);
    }
  }
  *out_count = count;
  return 1;
err:
  return 0;
}
