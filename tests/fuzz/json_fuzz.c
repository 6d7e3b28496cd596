// Fuzz target: JSON request bodies, the way api/server/http.c reads them
// (api/json/json_codec.h). The first byte picks the message: the test
// messages of tests/support/json_types.proto and json_presence.proto
// (every kind of field), then every message of pki.proto. The rest is the
// body.
//
// Properties besides no crash and no leak: a refusal carries a JSON_* code
// (never INTERNAL or NO_MEMORY); what is read is written back, read again
// and packed to the same protobuf bytes, and written again to the same
// text (round-trip stable). The same bytes are also read as protobuf wire
// format, when protobuf-c takes them: any message it unpacks can be
// written as JSON, and that JSON read back (unless it nests past
// CA_LIMIT_JSON_DEPTH, which protobuf does not bound).
#include <openssl/mem.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/json/json_codec.h"
#include "proto/pki.pb-c.h"
#include "tests/fuzz/fuzz.h"
#include "tests/support/json_presence.pb-c.h"
#include "tests/support/json_types.pb-c.h"

static const ProtobufCMessageDescriptor *const kMessages[] = {
    &pki__test__all_types__descriptor,
    &pki__test__presence__descriptor,
    &pki__test__inner__descriptor,
#include "tests/support/pki_descriptors.inc"
};

static uint8_t *pack(const ProtobufCMessage *msg, size_t *len) {
  *len = protobuf_c_message_get_packed_size(msg);
  uint8_t *buf = malloc(*len > 0 ? *len : 1);
  FUZZ_ASSERT(buf != NULL);
  FUZZ_ASSERT(protobuf_c_message_pack(msg, buf) == *len);
  return buf;
}

static int is_json_refusal(ca_err_code code) {
  return code == CA_ERR_JSON_MALFORMED || code == CA_ERR_JSON_LIMIT_EXCEEDED ||
         code == CA_ERR_JSON_UNKNOWN_FIELD || code == CA_ERR_JSON_FIELD_INVALID;
}

// from_json reads |data| as JSON and checks the round trip.
static void from_json(const ProtobufCMessageDescriptor *desc,
                      const uint8_t *data, size_t size) {
  ca_err_clear();
  ProtobufCMessage *m = api_json_decode(desc, data, size);
  if (m == NULL) {
    FUZZ_ASSERT_REFUSED();
    FUZZ_ASSERT(is_json_refusal(ca_err_get()->code));
    return;
  }
  uint8_t *json = NULL, *json2 = NULL;
  size_t json_len = 0, json2_len = 0, pb_len = 0, pb2_len = 0;
  FUZZ_ASSERT(api_json_encode(m, &json, &json_len));
  ProtobufCMessage *m2 = api_json_decode(desc, json, json_len);
  FUZZ_ASSERT(m2 != NULL);
  uint8_t *pb = pack(m, &pb_len);
  uint8_t *pb2 = pack(m2, &pb2_len);
  FUZZ_ASSERT(pb_len == pb2_len && memcmp(pb, pb2, pb_len) == 0);
  FUZZ_ASSERT(api_json_encode(m2, &json2, &json2_len));
  FUZZ_ASSERT(json_len == json2_len && memcmp(json, json2, json_len) == 0);
  // api_json_to_protobuf packs the same bytes.
  uint8_t *direct = NULL;
  size_t direct_len = 0;
  FUZZ_ASSERT(api_json_to_protobuf(desc, data, size, &direct, &direct_len));
  FUZZ_ASSERT(direct_len == pb_len && memcmp(direct, pb, pb_len) == 0);
  OPENSSL_free(direct);
  free(pb);
  free(pb2);
  OPENSSL_free(json);
  OPENSSL_free(json2);
  api_json_message_free(m);
  api_json_message_free(m2);
}

// from_protobuf writes whatever protobuf-c unpacks from |data| as JSON.
static void from_protobuf(const ProtobufCMessageDescriptor *desc,
                          const uint8_t *data, size_t size) {
  ProtobufCMessage *m = protobuf_c_message_unpack(desc, NULL, size, data);
  if (m == NULL) {
    return;
  }
  uint8_t *json = NULL;
  size_t json_len = 0;
  ca_err_clear();
  FUZZ_ASSERT(api_json_encode(m, &json, &json_len));
  ca_err_clear();
  ProtobufCMessage *back = api_json_decode(desc, json, json_len);
  FUZZ_ASSERT(back != NULL || ca_err_get()->code == CA_ERR_JSON_LIMIT_EXCEEDED);
  api_json_message_free(back);
  OPENSSL_free(json);
  protobuf_c_message_free_unpacked(m, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0) {
    return 0;
  }
  const size_t n = sizeof(kMessages) / sizeof(kMessages[0]);
  const ProtobufCMessageDescriptor *desc = kMessages[data[0] % n];
  from_json(desc, data + 1, size - 1);
  from_protobuf(desc, data + 1, size - 1);
  return 0;
}
