// Unit tests of api/json/json_codec.c, the proto3 JSON mapping over
// protobuf-c's descriptors.
//
// Every message of pki.proto, found from the generated header
// (tests/support/pki_descriptors.inc, made by a BUILD rule) and checked against
// the messages pki.proto declares, is filled with a value other than the
// default in every field, written as JSON, read back, and packed: the
// protobuf bytes must be the same. The test protos
// (tests/support/json_types.proto, json_presence.proto) hold the kinds of field
// pki.proto does not use yet (enums, floats, every integer encoding, a oneof,
// fields with presence). Then what the mapping says exactly: names, 64-bit
// integers as strings, base64, defaults left out, and each refusal with its
// code.
#include <math.h>
#include <openssl/mem.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/json/json_codec.h"
#include "ca/limits.h"
#include "proto/pki.pb-c.h"
#include "tests/support/json_presence.pb-c.h"
#include "tests/support/json_types.pb-c.h"
#include "tests/support/test.h"

static const ProtobufCMessageDescriptor *const kPkiMessages[] = {
#include "tests/support/pki_descriptors.inc"
};
static const size_t kPkiMessageCount =
    sizeof(kPkiMessages) / sizeof(kPkiMessages[0]);

// --- Filling every field ---

static void *test_alloc(size_t n) {
  void *p = OPENSSL_malloc(n > 0 ? n : 1);
  if (p == NULL) {
    abort();
  }
  memset(p, 0, n > 0 ? n : 1);
  return p;
}

static ProtobufCMessage *fill_message(const ProtobufCMessageDescriptor *desc,
                                      int depth);

// fill_value writes a value other than the default into |p|; |i| varies
// it between the elements of a repeated field.
static void fill_value(const ProtobufCFieldDescriptor *f, void *p, int i,
                       int depth) {
  switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
      *(int32_t *)p = i == 0 ? INT32_MIN : -7 - i;
      break;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
      *(uint32_t *)p = UINT32_MAX - (uint32_t)i;
      break;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
      // Past 2^53: only a string carries it exactly.
      *(int64_t *)p = i == 0 ? INT64_MIN : -9007199254740993LL - i;
      break;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
      *(uint64_t *)p = UINT64_MAX - (uint64_t)i;
      break;
    case PROTOBUF_C_TYPE_FLOAT:
      *(float *)p = i == 0 ? 0.1f : i == 1 ? -3.4e38f : (float)INFINITY;
      break;
    case PROTOBUF_C_TYPE_DOUBLE:
      *(double *)p = i == 0 ? 0.1 : i == 1 ? -1.7976931348623157e308 : NAN;
      break;
    case PROTOBUF_C_TYPE_BOOL:
      *(protobuf_c_boolean *)p = 1;
      break;
    case PROTOBUF_C_TYPE_ENUM: {
      // The last value the enum names, and past it one it does not.
      const ProtobufCEnumDescriptor *e = f->descriptor;
      *(int *)p = i == 0 ? e->values[e->n_values - 1].value : 1000 + i;
      break;
    }
    case PROTOBUF_C_TYPE_STRING: {
      char text[64];
      snprintf(text, sizeof(text), "\"quoted\" \\ caf\xc3\xa9 \xe2\x9c\x93 %d",
               i);
      char *s = test_alloc(strlen(text) + 1);
      memcpy(s, text, strlen(text) + 1);
      *(char **)p = s;
      break;
    }
    case PROTOBUF_C_TYPE_BYTES: {
      // Every byte value, so that both base64 alphabets' last characters
      // and padding of each length appear.
      ProtobufCBinaryData *b = p;
      b->len = 256 + (size_t)i;
      b->data = test_alloc(b->len);
      for (size_t k = 0; k < b->len; k++) {
        b->data[k] = (uint8_t)(255 - k);
      }
      break;
    }
    case PROTOBUF_C_TYPE_MESSAGE:
      *(ProtobufCMessage **)p = fill_message(f->descriptor, depth + 1);
      break;
  }
}

static ProtobufCMessage *fill_message(const ProtobufCMessageDescriptor *desc,
                                      int depth) {
  ProtobufCMessage *msg = test_alloc(desc->sizeof_message);
  desc->message_init(msg);
  if (depth >= 3) {
    return msg;  // recursive messages end as an empty object
  }
  unsigned oneofs_set[16];
  size_t n_oneofs = 0;
  for (unsigned i = 0; i < desc->n_fields; i++) {
    const ProtobufCFieldDescriptor *f = &desc->fields[i];
    char *base = (char *)msg;
    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
      // The first member of each oneof, at its default where it has one:
      // a set member is written even then.
      int taken = 0;
      for (size_t k = 0; k < n_oneofs; k++) {
        taken |= oneofs_set[k] == f->quantifier_offset;
      }
      if (taken || n_oneofs == 16) {
        continue;
      }
      oneofs_set[n_oneofs++] = f->quantifier_offset;
      *(uint32_t *)(base + f->quantifier_offset) = f->id;
      if (f->type == PROTOBUF_C_TYPE_STRING) {
        *(char **)(base + f->offset) = test_alloc(1);  // ""
      } else {
        fill_value(f, base + f->offset, 0, depth);
      }
      continue;
    }
    if (f->label == PROTOBUF_C_LABEL_REPEATED) {
      const size_t size =
          f->type == PROTOBUF_C_TYPE_BYTES ? sizeof(ProtobufCBinaryData)
          : f->type == PROTOBUF_C_TYPE_STRING ||
                  f->type == PROTOBUF_C_TYPE_MESSAGE
              ? sizeof(void *)
          : f->type == PROTOBUF_C_TYPE_BOOL ? sizeof(protobuf_c_boolean)
          : (f->type == PROTOBUF_C_TYPE_INT64 ||
             f->type == PROTOBUF_C_TYPE_SINT64 ||
             f->type == PROTOBUF_C_TYPE_SFIXED64 ||
             f->type == PROTOBUF_C_TYPE_UINT64 ||
             f->type == PROTOBUF_C_TYPE_FIXED64 ||
             f->type == PROTOBUF_C_TYPE_DOUBLE)
              ? 8
              : 4;
      char *arr = test_alloc(3 * size);
      for (int k = 0; k < 3; k++) {
        fill_value(f, arr + (size_t)k * size, k, depth);
      }
      *(size_t *)(base + f->quantifier_offset) = 3;
      *(char **)(base + f->offset) = arr;
      continue;
    }
    fill_value(f, base + f->offset, 0, depth);
    if (f->label == PROTOBUF_C_LABEL_OPTIONAL &&
        f->type != PROTOBUF_C_TYPE_STRING &&
        f->type != PROTOBUF_C_TYPE_MESSAGE) {
      *(protobuf_c_boolean *)(base + f->quantifier_offset) = 1;
    }
  }
  return msg;
}

static uint8_t *pack(const ProtobufCMessage *msg, size_t *len) {
  *len = protobuf_c_message_get_packed_size(msg);
  uint8_t *buf = test_alloc(*len);
  protobuf_c_message_pack(msg, buf);
  return buf;
}

// round_trip checks that |msg| comes back from JSON with the same protobuf
// bytes, and that its JSON is stable (written again, the same text).
static void round_trip(const ProtobufCMessage *msg) {
  size_t pb_len, json_len, back_len, json2_len;
  uint8_t *pb = pack(msg, &pb_len);
  uint8_t *json = NULL, *json2 = NULL, *back = NULL;
  CHECK(api_json_encode(msg, &json, &json_len));
  if (json == NULL) {
    OPENSSL_free(pb);
    return;
  }
  ProtobufCMessage *decoded = api_json_decode(msg->descriptor, json, json_len);
  if (decoded == NULL) {
    fprintf(stderr, "%s: %s: %s\n", msg->descriptor->name,
            ca_err_code_name(ca_err_get()->code), ca_err_get()->message);
  }
  CHECK(decoded != NULL);
  if (decoded != NULL) {
    back = pack(decoded, &back_len);
    if (!CHECK_EQ_BYTES(back, back_len, pb, pb_len)) {
      fprintf(stderr, "%s: %s\n", msg->descriptor->name, (char *)json);
    }
    CHECK(api_json_encode(decoded, &json2, &json2_len));
    CHECK(json2 != NULL && json2_len == json_len &&
          memcmp(json, json2, json_len) == 0);
  }
  api_json_message_free(decoded);
  OPENSSL_free(pb);
  OPENSSL_free(back);
  OPENSSL_free(json);
  OPENSSL_free(json2);
}

// --- pki.proto's messages ---

// read_file returns the whole of |path| or NULL.
static char *read_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    return NULL;
  }
  char *buf = NULL;
  size_t len = 0, cap = 0;
  for (;;) {
    if (len + 4096 + 1 > cap) {
      cap = (len + 4096 + 1) * 2;
      buf = realloc(buf, cap);
      if (buf == NULL) {
        abort();
      }
    }
    const size_t n = fread(buf + len, 1, 4096, f);
    len += n;
    if (n == 0) {
      break;
    }
  }
  fclose(f);
  buf[len] = '\0';
  return buf;
}

static int listed(const char *full_name) {
  for (size_t i = 0; i < kPkiMessageCount; i++) {
    if (strcmp(kPkiMessages[i]->name, full_name) == 0) {
      return 1;
    }
  }
  return 0;
}

// Every message pki.proto declares (nested ones by their full name) is in
// the list this test iterates, and nothing else is.
TEST(every_message_of_pki_proto_is_listed) {
  char *text = read_file("proto/pki.proto");
  if (text == NULL) {
    char path[1024];
    const char *srcdir = getenv("TEST_SRCDIR");
    snprintf(path, sizeof(path), "%s/pki/proto/pki.proto",
             srcdir != NULL ? srcdir : ".");
    text = read_file(path);
  }
  CHECK(text != NULL);
  if (text == NULL) {
    return;
  }
  // Comments out, then words and braces: "message NAME {" opens a scope
  // named NAME, any other "{" an anonymous one.
  char scopes[16][128];
  int is_message[16];
  int depth = 0;
  size_t declared = 0;
  char prev[128] = "", word[128] = "";
  for (char *p = text; *p != '\0';) {
    if (p[0] == '/' && p[1] == '/') {
      while (*p != '\0' && *p != '\n') {
        p++;
      }
      continue;
    }
    if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_' ||
        (*p >= '0' && *p <= '9') || *p == '.') {
      size_t n = 0;
      snprintf(prev, sizeof(prev), "%s", word);
      while (((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
              *p == '_' || (*p >= '0' && *p <= '9') || *p == '.') &&
             n + 1 < sizeof(word)) {
        word[n++] = *p++;
      }
      word[n] = '\0';
      continue;
    }
    if (*p == '{' && depth < 16) {
      is_message[depth] = strcmp(prev, "message") == 0;
      if (is_message[depth]) {
        char full[512] = "pki.v1";
        for (int k = 0; k < depth; k++) {
          if (is_message[k]) {
            strncat(full, ".", sizeof(full) - strlen(full) - 1);
            strncat(full, scopes[k], sizeof(full) - strlen(full) - 1);
          }
        }
        strncat(full, ".", sizeof(full) - strlen(full) - 1);
        strncat(full, word, sizeof(full) - strlen(full) - 1);
        snprintf(scopes[depth], sizeof(scopes[depth]), "%s", word);
        declared++;
        if (!listed(full)) {
          fprintf(stderr, "message %s of pki.proto is not round-tripped\n",
                  full);
        }
        CHECK(listed(full));
      }
      depth++;
      prev[0] = word[0] = '\0';
    } else if (*p == '}' && depth > 0) {
      depth--;
      prev[0] = word[0] = '\0';
    } else if (*p == ';' || *p == '=') {
      prev[0] = word[0] = '\0';
    }
    p++;
  }
  free(text);
  CHECK(declared > 40);  // pki.proto held 42 when this test was written
  CHECK_EQ_INT(kPkiMessageCount, declared);
}

TEST(every_message_of_pki_proto_round_trips) {
  for (size_t i = 0; i < kPkiMessageCount; i++) {
    ProtobufCMessage *msg = fill_message(kPkiMessages[i], 0);
    round_trip(msg);
    api_json_message_free(msg);
    // And empty: "{}".
    ProtobufCMessage *empty = fill_message(kPkiMessages[i], 3);
    uint8_t *json = NULL;
    size_t len = 0;
    CHECK(api_json_encode(empty, &json, &len));
    CHECK_EQ_STR((const char *)json, "{}");
    OPENSSL_free(json);
    round_trip(empty);
    api_json_message_free(empty);
  }
}

TEST(every_kind_of_field_round_trips) {
  const ProtobufCMessageDescriptor *const kTest[] = {
      &pki__test__all_types__descriptor,
      &pki__test__inner__descriptor,
      &pki__test__presence__descriptor,
  };
  for (size_t i = 0; i < sizeof(kTest) / sizeof(kTest[0]); i++) {
    ProtobufCMessage *msg = fill_message(kTest[i], 0);
    round_trip(msg);
    api_json_message_free(msg);
  }
}

// --- What the mapping says exactly ---

// encode_text returns the JSON of |msg| (OPENSSL_free it).
static char *encode_text(const ProtobufCMessage *msg) {
  uint8_t *json = NULL;
  size_t len = 0;
  CHECK(api_json_encode(msg, &json, &len));
  return (char *)json;
}

TEST(output_follows_the_mapping) {
  Pki__V1__CertificateInfo info = PKI__V1__CERTIFICATE_INFO__INIT;
  info.serial = "0a1b";
  info.not_before = -5;
  info.not_after = INT64_MAX;
  info.self_signed = 1;
  char *text = encode_text(&info.base);
  CHECK_EQ_STR(text,
               "{\"serial\":\"0a1b\",\"notBefore\":\"-5\","
               "\"notAfter\":\"9223372036854775807\",\"selfSigned\":true}");
  OPENSSL_free(text);

  uint8_t der[] = {0xfb, 0xff, 0xbf};
  Pki__V1__IssueRequest req = PKI__V1__ISSUE_REQUEST__INIT;
  req.csr.data = der;
  req.csr.len = sizeof(der);
  text = encode_text(&req.base);
  CHECK_EQ_STR(text, "{\"csr\":\"+/+/\"}");  // standard alphabet
  OPENSSL_free(text);

  Pki__V1__Error err = PKI__V1__ERROR__INIT;
  err.code = "NOT_FOUND";
  err.message = "no such certificate";
  text = encode_text(&err.base);
  CHECK_EQ_STR(text,
               "{\"code\":\"NOT_FOUND\",\"message\":\"no such certificate\"}");
  OPENSSL_free(text);

  // Enums by name, an unnamed number as a number; a oneof member and a
  // present optional field are written at their defaults.
  Pki__Test__AllTypes all = PKI__TEST__ALL_TYPES__INIT;
  all.f_enum = PKI__TEST__COLOR__COLOR_BLUE;
  int colors[] = {1, 7};
  all.r_enum = (Pki__Test__Color *)colors;
  all.n_r_enum = 2;
  all.choice_case = PKI__TEST__ALL_TYPES__CHOICE_C_INT64;
  all.c_int64 = 0;
  all.x509_der_2_name = "n";
  text = encode_text(&all.base);
  CHECK_EQ_STR(text,
               "{\"fEnum\":\"COLOR_BLUE\",\"x509Der2Name\":\"n\","
               "\"rEnum\":[\"COLOR_RED\",7],\"cInt64\":\"0\"}");
  OPENSSL_free(text);
  Pki__Test__Presence pr = PKI__TEST__PRESENCE__INIT;
  pr.has_o_int32 = 1;
  pr.o_int32 = 0;
  pr.o_string = "";
  text = encode_text(&pr.base);
  CHECK_EQ_STR(text, "{\"oInt32\":0,\"oString\":\"\"}");
  OPENSSL_free(text);

  // Bytes that are not UTF-8 in a string become U+FFFD.
  Pki__V1__Error bad = PKI__V1__ERROR__INIT;
  bad.code =
      "A\xff"
      "B";
  text = encode_text(&bad.base);
  CHECK_EQ_STR(text,
               "{\"code\":\"A\xef\xbf\xbd"
               "B\"}");
  OPENSSL_free(text);
}

// decode returns the code of reading |json| as |desc|, and the message in
// |*out| when asked (api_json_message_free it).
static int decode(const ProtobufCMessageDescriptor *desc, const char *json,
                  ProtobufCMessage **out) {
  ca_err_clear();
  ProtobufCMessage *msg =
      api_json_decode(desc, (const uint8_t *)json, strlen(json));
  const int code = msg != NULL ? CA_OK : (int)ca_err_get()->code;
  if (out != NULL) {
    *out = msg;
  } else {
    api_json_message_free(msg);
  }
  return code;
}

#define ALL (&pki__test__all_types__descriptor)

TEST(input_accepts_what_the_mapping_allows) {
  ProtobufCMessage *m = NULL;
  // Both names; 64-bit integers as numbers and strings; integral reals.
  CHECK_EQ_INT(decode(ALL,
                      "{\"fInt64\": 12, \"f_uint64\": \"18446744073709551615\","
                      " \"f_int32\": -2147483648, \"fUint32\": 4294967295,"
                      " \"fSint64\": \"-9223372036854775808\", \"fFixed32\": "
                      "1e2, \"fDouble\": \"-Infinity\", \"fFloat\": \"1.5\","
                      " \"fEnum\": 2, \"rEnum\": [\"COLOR_RED\", 9],"
                      " \"fInner\": {\"name\": \"x\", \"values\": [\"1\", 2]},"
                      " \"fBytes\": \"-_-_\", \"rBytes\": [\"QQ\", \"QUI=\"],"
                      " \"fString\": null, \"fBool\": true, \"cString\": \"\"}",
                      &m),
               CA_OK);
  if (m != NULL) {
    const Pki__Test__AllTypes *a = (const Pki__Test__AllTypes *)m;
    CHECK_EQ_INT(a->f_int64, 12);
    CHECK(a->f_uint64 == UINT64_MAX);
    CHECK_EQ_INT(a->f_int32, INT32_MIN);
    CHECK(a->f_uint32 == UINT32_MAX);
    CHECK(a->f_sint64 == INT64_MIN);
    CHECK_EQ_INT(a->f_fixed32, 100);
    CHECK(isinf(a->f_double) && a->f_double < 0);
    CHECK(a->f_float == 1.5f);
    CHECK_EQ_INT(a->f_enum, 2);
    CHECK_EQ_INT(a->n_r_enum, 2);
    CHECK_EQ_INT(a->r_enum[1], 9);
    CHECK(a->f_inner != NULL && a->f_inner->n_values == 2 &&
          a->f_inner->values[1] == 2);
    static const uint8_t kUrl[] = {0xfb, 0xff, 0xbf};
    CHECK_EQ_BYTES(a->f_bytes.data, a->f_bytes.len, kUrl, sizeof(kUrl));
    CHECK_EQ_BYTES(a->r_bytes[0].data, a->r_bytes[0].len, "A", 1);
    CHECK_EQ_BYTES(a->r_bytes[1].data, a->r_bytes[1].len, "AB", 2);
    CHECK_EQ_STR(a->f_string, "");
    CHECK(a->f_bool);
    CHECK_EQ_INT(a->choice_case, PKI__TEST__ALL_TYPES__CHOICE_C_STRING);
  }
  api_json_message_free(m);
  // Presence: a field given is present, even at its default.
  CHECK_EQ_INT(decode(&pki__test__presence__descriptor,
                      "{\"oInt32\":0,\"o_bool\":false,\"oChild\":{}}", &m),
               CA_OK);
  if (m != NULL) {
    const Pki__Test__Presence *p = (const Pki__Test__Presence *)m;
    CHECK(p->has_o_int32 && p->has_o_bool && !p->has_o_double);
    CHECK(p->o_child != NULL && p->o_string == NULL);
  }
  api_json_message_free(m);
  CHECK_EQ_INT(decode(ALL, "{}", NULL), CA_OK);
  CHECK_EQ_INT(decode(ALL, " \n{ }\t", NULL), CA_OK);
}

TEST(input_is_refused_with_a_stable_code) {
  static const struct {
    const char *json;
    int code;
  } kCases[] = {
      // Not JSON, or JSON pki does not read.
      {"", CA_ERR_JSON_MALFORMED},
      {"{", CA_ERR_JSON_MALFORMED},
      {"[]", CA_ERR_JSON_MALFORMED},
      {"\"x\"", CA_ERR_JSON_MALFORMED},
      {"{} {}", CA_ERR_JSON_MALFORMED},
      {"{\"fInt32\":1,\"fInt32\":2}", CA_ERR_JSON_MALFORMED},
      {"{\"fString\":\"a\\u0000b\"}", CA_ERR_JSON_MALFORMED},
      {"{\"fString\":\"\xc3\"}", CA_ERR_JSON_MALFORMED},
      {"{\"fString\":\"\xed\xa0\x80\"}", CA_ERR_JSON_MALFORMED},
      {"{\"fString\":\"\\ud800\"}", CA_ERR_JSON_MALFORMED},
      {"{\"fInt32\":01}", CA_ERR_JSON_MALFORMED},
      {"{\"fInt32\":1,}", CA_ERR_JSON_MALFORMED},
      {"{'fInt32':1}", CA_ERR_JSON_MALFORMED},
      // A field given under both names is a duplicate too.
      {"{\"fInt32\":1,\"f_int32\":2}", CA_ERR_JSON_FIELD_INVALID},
      // Names the message does not have.
      {"{\"fint32\":1}", CA_ERR_JSON_UNKNOWN_FIELD},
      {"{\"FInt32\":1}", CA_ERR_JSON_UNKNOWN_FIELD},
      {"{\"fInner\":{\"nom\":\"x\"}}", CA_ERR_JSON_UNKNOWN_FIELD},
      // Values of the wrong type or out of range.
      {"{\"fInt32\":2147483648}", CA_ERR_JSON_FIELD_INVALID},
      {"{\"fInt32\":\"-2147483649\"}", CA_ERR_JSON_FIELD_INVALID},
      {"{\"fUint32\":-1}", CA_ERR_JSON_FIELD_INVALID},
      {"{\"fUint64\":\"18446744073709551616\"}", CA_ERR_JSON_FIELD_INVALID},
      {"{\"fUint64\":\"-1\"}", CA_ERR_JSON_FIELD_INVALID},
      {"{\"fInt64\":9223372036854775808}", CA_ERR_JSON_FIELD_INVALID},
      {"{\"fInt64\":1.5}", CA_ERR_JSON_FIELD_INVALID},
      {"{\"fInt64\":1e300}", CA_ERR_JSON_FIELD_INVALID},
      {"{\"fInt64\":\"1.0\"}", CA_ERR_JSON_FIELD_INVALID},
      {"{\"fInt64\":\" 1\"}", CA_ERR_JSON_FIELD_INVALID},
      {"{\"fInt64\":\"+1\"}", CA_ERR_JSON_FIELD_INVALID},
      {"{\"fInt64\":true}", CA_ERR_JSON_FIELD_INVALID},
      {"{\"fFloat\":1e39}", CA_ERR_JSON_FIELD_INVALID},
      {"{\"fDouble\":1e999}", CA_ERR_JSON_FIELD_INVALID},
      {"{\"fDouble\":\"nan\"}", CA_ERR_JSON_FIELD_INVALID},
      {"{\"fBool\":1}", CA_ERR_JSON_FIELD_INVALID},
      {"{\"fBool\":\"true\"}", CA_ERR_JSON_FIELD_INVALID},
      {"{\"fString\":5}", CA_ERR_JSON_FIELD_INVALID},
      {"{\"fBytes\":\"QQ=\"}", CA_ERR_JSON_FIELD_INVALID},
      {"{\"fBytes\":\"Q\"}", CA_ERR_JSON_FIELD_INVALID},
      {"{\"fBytes\":\"QQ==QQ==\"}", CA_ERR_JSON_FIELD_INVALID},
      {"{\"fBytes\":\"Q Q=\"}", CA_ERR_JSON_FIELD_INVALID},
      {"{\"fBytes\":[1]}", CA_ERR_JSON_FIELD_INVALID},
      {"{\"fEnum\":\"COLOR_GREEN\"}", CA_ERR_JSON_FIELD_INVALID},
      {"{\"fEnum\":1.0}", CA_ERR_JSON_FIELD_INVALID},
      {"{\"fInner\":[]}", CA_ERR_JSON_FIELD_INVALID},
      {"{\"rInt32\":1}", CA_ERR_JSON_FIELD_INVALID},
      {"{\"rInt32\":[1,null]}", CA_ERR_JSON_FIELD_INVALID},
      {"{\"rInner\":[{},{\"values\":[\"x\"]}]}", CA_ERR_JSON_FIELD_INVALID},
      {"{\"cString\":\"a\",\"cInt64\":1}", CA_ERR_JSON_FIELD_INVALID},
  };
  for (size_t i = 0; i < sizeof(kCases) / sizeof(kCases[0]); i++) {
    const int code = decode(ALL, kCases[i].json, NULL);
    if (code != kCases[i].code) {
      fprintf(stderr, "case %zu %s: got %s (%s)\n", i, kCases[i].json,
              ca_err_code_name((ca_err_code)code), ca_err_get()->message);
    }
    CHECK_EQ_INT(code, kCases[i].code);
  }
}

TEST(refusals_name_the_field) {
  CHECK_EQ_INT(
      decode(&pki__v1__batch_issue_request__descriptor,
             "{\"items\":[{\"csr\":\"QQ==\"},{\"validityDays\":\"x\"}]}", NULL),
      CA_ERR_JSON_FIELD_INVALID);
  CHECK(strstr(ca_err_get()->message, "items[1].validityDays") != NULL);
  CHECK_EQ_INT(
      decode(&pki__v1__issue_request__descriptor, "{\"validity_day\":1}", NULL),
      CA_ERR_JSON_UNKNOWN_FIELD);
  CHECK(strstr(ca_err_get()->message, "pki.v1.IssueRequest") != NULL);
  CHECK(strstr(ca_err_get()->message, "validity_day") != NULL);
}

TEST(limits_hold) {
  // CA_LIMIT_JSON_DEPTH levels are read, one more is refused before
  // jansson sees the text.
  char deep[512] = "";
  for (int i = 0; i < CA_LIMIT_JSON_DEPTH - 1; i++) {
    strcat(deep, "{\"child\":");
  }
  strcat(deep, "{");
  for (int i = 0; i < CA_LIMIT_JSON_DEPTH; i++) {
    strcat(deep, "}");
  }
  CHECK_EQ_INT(decode(&pki__test__inner__descriptor, deep, NULL), CA_OK);
  char deeper[600] = "{\"child\":";
  strcat(deeper, deep);
  strcat(deeper, "}");
  CHECK_EQ_INT(decode(&pki__test__inner__descriptor, deeper, NULL),
               CA_ERR_JSON_LIMIT_EXCEEDED);
  // Brackets inside strings do not count.
  CHECK_EQ_INT(decode(ALL,
                      "{\"fString\":\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
                      "[[[[[[[[[[[[[[[[\\\"[\"}",
                      NULL),
               CA_OK);
  // Values: a long array of zeros is refused before it is built.
  const size_t n = (size_t)CA_LIMIT_JSON_VALUES + 1;
  char *many = malloc(2 * n + 32);
  CHECK(many != NULL);
  if (many != NULL) {
    size_t len = (size_t)sprintf(many, "{\"rInt32\":[");
    for (size_t i = 0; i < n; i++) {
      many[len++] = '0';
      many[len++] = ',';
    }
    memcpy(many + len - 1, "]}", 3);
    CHECK_EQ_INT(decode(ALL, many, NULL), CA_ERR_JSON_LIMIT_EXCEEDED);
    free(many);
  }
}

TEST(to_protobuf_packs_what_it_read) {
  const char kJson[] =
      "{\"profile\":\"server\",\"csr\":\"MAA=\",\"validityDays\":30}";
  uint8_t *pb = NULL;
  size_t len = 0;
  CHECK(api_json_to_protobuf(&pki__v1__issue_request__descriptor,
                             (const uint8_t *)kJson, strlen(kJson), &pb, &len));
  Pki__V1__IssueRequest *req = pki__v1__issue_request__unpack(NULL, len, pb);
  CHECK(req != NULL);
  if (req != NULL) {
    CHECK_EQ_STR(req->profile, "server");
    CHECK_EQ_INT(req->csr.len, 2);
    CHECK_EQ_INT(req->validity_days, 30);
  }
  pki__v1__issue_request__free_unpacked(req, NULL);
  OPENSSL_free(pb);
}

TEST(json_names) {
  char name[64];
  api_json_field_name("validity_days", name, sizeof(name));
  CHECK_EQ_STR(name, "validityDays");
  api_json_field_name("x509_der_2_name", name, sizeof(name));
  CHECK_EQ_STR(name, "x509Der2Name");
  api_json_field_name("csr", name, sizeof(name));
  CHECK_EQ_STR(name, "csr");
  api_json_field_name("a_b", name, 2);
  CHECK_EQ_STR(name, "a");
}

int main(void) {
  RUN(every_message_of_pki_proto_is_listed);
  RUN(every_message_of_pki_proto_round_trips);
  RUN(every_kind_of_field_round_trips);
  RUN(output_follows_the_mapping);
  RUN(input_accepts_what_the_mapping_allows);
  RUN(input_is_refused_with_a_stable_code);
  RUN(refusals_name_the_field);
  RUN(limits_hold);
  RUN(to_protobuf_packs_what_it_read);
  RUN(json_names);
  return test_summary();
}
