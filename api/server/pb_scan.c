#include "api/server/pb_scan.h"

#include <string.h>

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
    CA_ENSURE_RETURN(read_varint(buf, len, &pos, &key),
                     CA_ERR_REQUEST_MALFORMED, "protobuf: bad field key");
    const uint64_t number = key >> 3;
    switch (key & 7) {
      case 0:  // varint
        CA_ENSURE_RETURN(read_varint(buf, len, &pos, &value),
                         CA_ERR_REQUEST_MALFORMED, "protobuf: bad varint");
        break;
      case 1:  // 64-bit
        CA_ENSURE_RETURN(len - pos >= 8, CA_ERR_REQUEST_MALFORMED,
                         "protobuf: truncated");
        pos += 8;
        break;
      case 2:  // length-delimited
        CA_ENSURE_RETURN(
            read_varint(buf, len, &pos, &value) && value <= len - pos,
            CA_ERR_REQUEST_MALFORMED, "protobuf: bad length");
        pos += (size_t)value;
        break;
      case 5:  // 32-bit
        CA_ENSURE_RETURN(len - pos >= 4, CA_ERR_REQUEST_MALFORMED,
                         "protobuf: truncated");
        pos += 4;
        break;
      default:
        CA_SET_ERROR(CA_ERR_REQUEST_MALFORMED,
                     "protobuf: unsupported wire type");
        return 0;
    }
    if (number == field) {
      CA_ENSURE_RETURN(++count <= max, CA_ERR_BATCH_TOO_LARGE,
                       "more than %zu items in one request", max);
    }
  }
  *out_count = count;
  return 1;
}

static int check_strings(const ProtobufCMessageDescriptor *desc,
                         const uint8_t *buf, size_t len, unsigned depth) {
  CA_ENSURE_RETURN(depth <= API_PB_MAX_DEPTH, CA_ERR_REQUEST_MALFORMED,
                   "protobuf: messages nested more than %d deep",
                   API_PB_MAX_DEPTH);
  size_t pos = 0;
  while (pos < len) {
    uint64_t key, value;
    CA_ENSURE_RETURN(read_varint(buf, len, &pos, &key),
                     CA_ERR_REQUEST_MALFORMED, "protobuf: bad field key");
    switch (key & 7) {
      case 0:  // varint
        CA_ENSURE_RETURN(read_varint(buf, len, &pos, &value),
                         CA_ERR_REQUEST_MALFORMED, "protobuf: bad varint");
        break;
      case 1:  // 64-bit
        CA_ENSURE_RETURN(len - pos >= 8, CA_ERR_REQUEST_MALFORMED,
                         "protobuf: truncated");
        pos += 8;
        break;
      case 2: {  // length-delimited: strings, bytes, messages, packed
        CA_ENSURE_RETURN(
            read_varint(buf, len, &pos, &value) && value <= len - pos,
            CA_ERR_REQUEST_MALFORMED, "protobuf: bad length");
        const uint8_t *data = buf + pos;
        pos += (size_t)value;
        const uint64_t number = key >> 3;
        const ProtobufCFieldDescriptor *f =
            number <= UINT32_MAX ? protobuf_c_message_descriptor_get_field(
                                       desc, (unsigned)number)
                                 : NULL;
        if (f == NULL) {
          break;
        }
        if (f->type == PROTOBUF_C_TYPE_STRING) {
          CA_ENSURE_RETURN(
              memchr(data, 0, (size_t)value) == NULL, CA_ERR_REQUEST_MALFORMED,
              "field %s of %s holds a NUL byte", f->name, desc->name);
        } else if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
          CA_GUARD_RETURN(
              check_strings((const ProtobufCMessageDescriptor *)f->descriptor,
                            data, (size_t)value, depth + 1));
        }
        break;
      }
      case 5:  // 32-bit
        CA_ENSURE_RETURN(len - pos >= 4, CA_ERR_REQUEST_MALFORMED,
                         "protobuf: truncated");
        pos += 4;
        break;
      default:
        CA_SET_ERROR(CA_ERR_REQUEST_MALFORMED,
                     "protobuf: unsupported wire type");
        return 0;
    }
  }
  return 1;
}

int api_pb_check_strings(const ProtobufCMessageDescriptor *desc,
                         const uint8_t *buf, size_t len) {
  return check_strings(desc, buf, len, 0);
}
