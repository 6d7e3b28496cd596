// Unit tests of api/server/pb_scan.c: protobuf wire format written by hand
// (every wire type, multi-byte keys and varints, truncations, group and
// reserved wire types) and bodies packed by protobuf-c's generated code for
// pki.v1.BatchIssueRequest, counted as the batch handler counts them; NUL
// bytes in string fields, at the top and in sub-messages, found before
// protobuf-c would cut the strings at them.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/server/pb_scan.h"
#include "proto/pki.pb-c.h"
#include "tests/support/test.h"

// count returns the code and, on success, the count in |*out|.
static int count(const char *buf, size_t len, uint32_t field, size_t max,
                 size_t *out) {
  ca_err_clear();
  *out = 12345;
  return api_pb_count_field((const uint8_t *)buf, len, field, max, out)
             ? CA_OK
             : ca_err_get()->code;
}

#define COUNT(bytes, field, max, out) \
  count(bytes, sizeof(bytes) - 1, field, max, out)

TEST(counts_top_level_occurrences) {
  size_t n;
  CHECK_EQ_INT(count("", 0, 1, 10, &n), CA_OK);
  CHECK_EQ_INT(n, 0);
  // Field 1, length-delimited, three times: empty, "A", empty.
  static const char kThree[] =
      "\x0a\x00\x0a\x01"
      "A"
      "\x0a\x00";
  CHECK_EQ_INT(COUNT(kThree, 1, 10, &n), CA_OK);
  CHECK_EQ_INT(n, 3);
  CHECK_EQ_INT(COUNT(kThree, 2, 10, &n), CA_OK);
  CHECK_EQ_INT(n, 0);
  // Every wire type, interleaved: varint (field 2, 150 = 96 01), 64-bit
  // (field 3), length-delimited (field 1), 32-bit (field 4), field 1 again.
  static const char kMixed[] =
      "\x10\x96\x01"
      "\x19\x01\x02\x03\x04\x05\x06\x07\x08"
      "\x0a\x02"
      "hi"
      "\x25\x01\x02\x03\x04"
      "\x0a\x00";
  static const struct {
    uint32_t field;
    size_t want;
  } kFields[] = {{1, 2}, {2, 1}, {3, 1}, {4, 1}, {5, 0}, {0, 0}};
  for (size_t i = 0; i < sizeof(kFields) / sizeof(kFields[0]); i++) {
    CHECK_EQ_INT(COUNT(kMixed, kFields[i].field, 10, &n), CA_OK);
    CHECK_EQ_INT(n, kFields[i].want);
  }
  // The contents of a length-delimited field are not looked into: field 5
  // holds bytes that would read as two field-1 entries.
  static const char kNested[] = "\x2a\x04\x0a\x00\x0a\x00";
  CHECK_EQ_INT(COUNT(kNested, 1, 10, &n), CA_OK);
  CHECK_EQ_INT(n, 0);
  CHECK_EQ_INT(COUNT(kNested, 5, 10, &n), CA_OK);
  CHECK_EQ_INT(n, 1);
  // Keys of several octets: field 16 (82 01), field 2^29-1, the largest.
  static const char kBig[] =
      "\x82\x01\x00"
      "\xfa\xff\xff\xff\x0f\x00";
  CHECK_EQ_INT(COUNT(kBig, 16, 10, &n), CA_OK);
  CHECK_EQ_INT(n, 1);
  CHECK_EQ_INT(COUNT(kBig, (1u << 29) - 1, 10, &n), CA_OK);
  CHECK_EQ_INT(n, 1);
  // Any wire type counts as an occurrence of the field.
  static const char kVarintField2[] = "\x10\x01\x10\x02";
  CHECK_EQ_INT(COUNT(kVarintField2, 2, 10, &n), CA_OK);
  CHECK_EQ_INT(n, 2);
}

TEST(limit_is_applied_as_soon_as_exceeded) {
  size_t n;
  static const char kThree[] = "\x12\x00\x12\x00\x12\x00";
  CHECK_EQ_INT(COUNT(kThree, 2, 3, &n), CA_OK);
  CHECK_EQ_INT(n, 3);
  CHECK_EQ_INT(COUNT(kThree, 2, 2, &n), CA_ERR_BATCH_TOO_LARGE);
  CHECK_EQ_INT(COUNT(kThree, 2, 0, &n), CA_ERR_BATCH_TOO_LARGE);
  // Other fields do not count against it.
  CHECK_EQ_INT(COUNT(kThree, 1, 0, &n), CA_OK);
  CHECK_EQ_INT(n, 0);
  // Refused on the limit before the broken tail is reached.
  static const char kThenJunk[] = "\x12\x00\x12\x00\x12\x00\x0b";
  CHECK_EQ_INT(COUNT(kThenJunk, 2, 2, &n), CA_ERR_BATCH_TOO_LARGE);
  CHECK_EQ_INT(COUNT(kThenJunk, 2, 3, &n), CA_ERR_REQUEST_MALFORMED);
  // The count is not written on failure.
  CHECK_EQ_INT(n, 12345);
}

TEST(malformed_wire_format) {
  static const struct {
    const char *bytes;
    size_t len;
  } kBad[] = {
      {"\x80", 1},      // key varint cut short
      {"\x0a", 1},      // no length
      {"\x0a\x80", 2},  // length varint cut short
      {"\x0a\x05"
       "abc",
       5},                                      // length past the end
      {"\x0a\x01", 2},                          // length past the end by one
      {"\x08", 1},                              // no varint value
      {"\x08\xff\xff", 3},                      // varint value cut short
      {"\x09\x00\x00\x00\x00\x00\x00\x00", 8},  // 64-bit, 7 octets
      {"\x0d\x00\x00\x00", 4},                  // 32-bit, 3 octets
      {"\x0b", 1},                              // start group (wire type 3)
      {"\x0c", 1},                              // end group (wire type 4)
      {"\x0b\x0c", 2},                          // a whole empty group
      {"\x0e", 1},                              // wire type 6
      {"\x0f\x00", 2},                          // wire type 7
      // An 11-octet varint: more than 64 bits.
      {"\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 12},
      // A length near 2^64 must not wrap around the bounds check.
      {"\x0a\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 11},
      {"\x0a\xfe\xff\xff\xff\xff\xff\xff\xff\xff\x01"
       "x",
       12},
      // Valid entry, then garbage.
      {"\x0a\x00\x0a", 3},
  };
  for (size_t i = 0; i < sizeof(kBad) / sizeof(kBad[0]); i++) {
    size_t n;
    const int code = count(kBad[i].bytes, kBad[i].len, 1, 1000, &n);
    if (code != CA_ERR_REQUEST_MALFORMED) {
      fprintf(stderr, "  case %zu: %s\n", i,
              ca_err_code_name((ca_err_code)code));
    }
    CHECK_EQ_INT(code, CA_ERR_REQUEST_MALFORMED);
  }
  // A 10-octet varint is the longest allowed, and fine.
  size_t n;
  static const char kTen[] =
      "\x10\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01\x0a\x00";
  CHECK_EQ_INT(COUNT(kTen, 1, 10, &n), CA_OK);
  CHECK_EQ_INT(n, 1);
  // Exact lengths at the end of the buffer.
  static const char kExact64[] = "\x09\x00\x00\x00\x00\x00\x00\x00\x00";
  CHECK_EQ_INT(COUNT(kExact64, 1, 10, &n), CA_OK);
  CHECK_EQ_INT(n, 1);
  static const char kExact32[] = "\x0d\x00\x00\x00\x00";
  CHECK_EQ_INT(COUNT(kExact32, 1, 10, &n), CA_OK);
  static const char kExactLen[] =
      "\x0a\x03"
      "abc";
  CHECK_EQ_INT(COUNT(kExactLen, 1, 10, &n), CA_OK);
}

// pack_batch packs a BatchIssueRequest of |items| requests with
// protobuf-c; the caller frees the buffer.
static uint8_t *pack_batch(size_t items, const char *profile, size_t *len) {
  Pki__V1__BatchIssueRequest batch = PKI__V1__BATCH_ISSUE_REQUEST__INIT;
  Pki__V1__IssueRequest *reqs = calloc(items ? items : 1, sizeof(*reqs));
  Pki__V1__IssueRequest **ptrs = calloc(items ? items : 1, sizeof(*ptrs));
  static uint8_t csr[] = {0x30, 0x03, 0x02, 0x01, 0x00};
  for (size_t i = 0; i < items; i++) {
    Pki__V1__IssueRequest init = PKI__V1__ISSUE_REQUEST__INIT;
    reqs[i] = init;
    if (i % 3 == 1) {
      reqs[i].profile = (char *)"tomcat";
      reqs[i].csr.data = csr;
      reqs[i].csr.len = sizeof(csr);
      reqs[i].validity_days = (uint32_t)i;
    }
    ptrs[i] = &reqs[i];
  }
  batch.n_items = items;
  batch.items = ptrs;
  if (profile != NULL) {
    batch.profile = (char *)profile;
  }
  *len = pki__v1__batch_issue_request__get_packed_size(&batch);
  uint8_t *buf = malloc(*len ? *len : 1);
  pki__v1__batch_issue_request__pack(&batch, buf);
  free(reqs);
  free(ptrs);
  return buf;
}

TEST(counts_what_protobuf_c_packs) {
  static const size_t kSizes[] = {0, 1, 2, 3, 17, 128, 1000, 10000};
  for (size_t s = 0; s < sizeof(kSizes) / sizeof(kSizes[0]); s++) {
    size_t len = 0, n = 0;
    uint8_t *buf = pack_batch(kSizes[s], s % 2 ? "CallManager" : NULL, &len);
    // BatchIssueRequest.items is field 2, as the batch handler counts it.
    CHECK_EQ_INT(count((const char *)buf, len, 2, 10000, &n), CA_OK);
    CHECK_EQ_INT(n, kSizes[s]);
    CHECK_EQ_INT(count((const char *)buf, len, 1, 10000, &n), CA_OK);
    CHECK_EQ_INT(n, s % 2 ? 1 : 0);  // the batch profile, when set
    if (kSizes[s] > 0) {
      CHECK_EQ_INT(count((const char *)buf, len, 2, kSizes[s] - 1, &n),
                   CA_ERR_BATCH_TOO_LARGE);
      // Every truncation inside the body is malformed or short of items;
      // never more items than were packed, never a read past |len|.
      for (size_t cut = 0; cut < len && cut < 200; cut++) {
        const int code = count((const char *)buf, cut, 2, 10000, &n);
        CHECK(code == CA_ERR_REQUEST_MALFORMED ||
              (code == CA_OK && n <= kSizes[s]));
      }
    }
    // protobuf-c unpacks the same count.
    Pki__V1__BatchIssueRequest *back =
        pki__v1__batch_issue_request__unpack(NULL, len, buf);
    CHECK(back != NULL && back->n_items == kSizes[s]);
    pki__v1__batch_issue_request__free_unpacked(back, NULL);
    free(buf);
  }
}

// strings returns the code of api_pb_check_strings on |len| bytes.
static int strings(const ProtobufCMessageDescriptor *desc, const char *buf,
                   size_t len) {
  ca_err_clear();
  return api_pb_check_strings(desc, (const uint8_t *)buf, len)
             ? CA_OK
             : ca_err_get()->code;
}

#define STRINGS(desc, bytes) strings(desc, bytes, sizeof(bytes) - 1)

TEST(nul_bytes_in_string_fields) {
  const ProtobufCMessageDescriptor *monitor =
      &pki__v1__monitor_config__descriptor;
  // MonitorConfig.emails (4): "a@example.com", then "a@example.com\0b",
  // which protobuf-c would hand over as "a@example.com".
  static const char kClean[] =
      "\x08\x01\x22\x0d"
      "a@example.com";
  CHECK_EQ_INT(STRINGS(monitor, kClean), CA_OK);
  static const char kNul[] =
      "\x08\x01\x22\x0f"
      "a@example.com\0b";
  CHECK_EQ_INT(STRINGS(monitor, kNul), CA_ERR_REQUEST_MALFORMED);
  CHECK(strstr(ca_err_get()->message, "emails") != NULL);
  CHECK(strstr(ca_err_get()->message, "pki.v1.MonitorConfig") != NULL);
  // At the start, alone, in another string field (smtp_from, 8).
  CHECK_EQ_INT(STRINGS(monitor, "\x22\x01\x00"), CA_ERR_REQUEST_MALFORMED);
  CHECK_EQ_INT(STRINGS(monitor, "\x42\x03p\0q"), CA_ERR_REQUEST_MALFORMED);
  // An empty string, numbers holding zero octets, and a field the
  // descriptor does not know (protobuf-c keeps its bytes as bytes).
  CHECK_EQ_INT(STRINGS(monitor, "\x22\x00\x10\x00\x48\x80\x00"), CA_OK);
  CHECK_EQ_INT(STRINGS(monitor,
                       "\xfa\x01\x03"
                       "a\0b"),
               CA_OK);
  // A bytes field may hold NUL bytes: IssueRequest.csr (2), but not its
  // profile (1).
  const ProtobufCMessageDescriptor *issue = &pki__v1__issue_request__descriptor;
  CHECK_EQ_INT(STRINGS(issue, "\x12\x03\x30\x01\x00"), CA_OK);
  CHECK_EQ_INT(STRINGS(issue, "\x0a\x0btomcat\0junk"),
               CA_ERR_REQUEST_MALFORMED);
  // In a sub-message: BatchIssueRequest.items (2) -> IssueRequest.profile,
  // and GenerateKeyRequest.subject (2) -> Subject.common_name (1).
  const ProtobufCMessageDescriptor *batch =
      &pki__v1__batch_issue_request__descriptor;
  CHECK_EQ_INT(STRINGS(batch, "\x12\x08\x0a\x06tomcat"), CA_OK);
  CHECK_EQ_INT(STRINGS(batch, "\x12\x08\x0a\x06tom\0at"),
               CA_ERR_REQUEST_MALFORMED);
  CHECK(strstr(ca_err_get()->message, "pki.v1.IssueRequest") != NULL);
  const ProtobufCMessageDescriptor *generate =
      &pki__v1__generate_key_request__descriptor;
  CHECK_EQ_INT(STRINGS(generate, "\x12\x06\x0a\x04host"), CA_OK);
  CHECK_EQ_INT(STRINGS(generate, "\x12\x06\x0a\x04h\0st"),
               CA_ERR_REQUEST_MALFORMED);
  // Repeated strings: the second of GenerateKeyRequest.sans (3).
  CHECK_EQ_INT(STRINGS(generate,
                       "\x1a\x01"
                       "a"
                       "\x1a\x02"
                       "b\0"),
               CA_ERR_REQUEST_MALFORMED);
  // Malformed wire format is refused, not read past its end.
  CHECK_EQ_INT(STRINGS(monitor,
                       "\x22\x05"
                       "abc"),
               CA_ERR_REQUEST_MALFORMED);
  CHECK_EQ_INT(STRINGS(monitor, "\x23"), CA_ERR_REQUEST_MALFORMED);
  CHECK_EQ_INT(STRINGS(batch, "\x12\x02\x0a\x05"), CA_ERR_REQUEST_MALFORMED);
  CHECK_EQ_INT(strings(monitor, NULL, 0), CA_OK);
}

// A message type that contains itself (pki's messages do not): field 1 a
// Self, field 2 a string. Made by hand, as protobuf-c's generated code
// would make it, for the depth bound.
static const ProtobufCMessageDescriptor kSelf;
static const ProtobufCFieldDescriptor kSelfFields[2] = {
    {"child", 1, PROTOBUF_C_LABEL_OPTIONAL, PROTOBUF_C_TYPE_MESSAGE, 0, 0,
     &kSelf, NULL, 0, 0, NULL, NULL},
    {"text", 2, PROTOBUF_C_LABEL_OPTIONAL, PROTOBUF_C_TYPE_STRING, 0, 0, NULL,
     NULL, 0, 0, NULL, NULL},
};
static const ProtobufCIntRange kSelfRanges[2] = {{1, 0}, {0, 2}};
static const ProtobufCMessageDescriptor kSelf = {
    PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC,
    "test.Self",
    "Self",
    "Self",
    "test",
    0,
    2,
    kSelfFields,
    NULL,
    1,
    kSelfRanges,
    NULL,
    NULL,
    NULL,
    NULL};

// nest writes |depth| Selfs, each the child of the one before, the
// innermost holding text "a" followed by |tail| (a NUL or not); returns
// the length.
static size_t nest(uint8_t *buf, size_t depth, char tail) {
  // Inside out: the innermost is field 2, "a" + tail.
  uint8_t inner[4] = {0x12, 0x02, 'a', (uint8_t)tail};
  size_t len = sizeof(inner);
  memcpy(buf + 256, inner, len);
  uint8_t *start = buf + 256;
  for (size_t i = 0; i < depth; i++) {
    // Each wrapper adds a key and a one-byte length (len stays < 128).
    start -= 2;
    start[0] = 0x0a;
    start[1] = (uint8_t)len;
    len += 2;
  }
  memmove(buf, start, len);
  return len;
}

TEST(nesting_is_bounded) {
  uint8_t buf[512];
  size_t len = nest(buf, API_PB_MAX_DEPTH, 'b');
  CHECK_EQ_INT(strings(&kSelf, (const char *)buf, len), CA_OK);
  len = nest(buf, API_PB_MAX_DEPTH, '\0');
  CHECK_EQ_INT(strings(&kSelf, (const char *)buf, len),
               CA_ERR_REQUEST_MALFORMED);
  CHECK(strstr(ca_err_get()->message, "field text of test.Self") != NULL);
  len = nest(buf, API_PB_MAX_DEPTH + 1, 'b');
  CHECK_EQ_INT(strings(&kSelf, (const char *)buf, len),
               CA_ERR_REQUEST_MALFORMED);
  CHECK(strstr(ca_err_get()->message, "nested") != NULL);
}

// pack_monitor packs a MonitorConfig with |emails| through protobuf-c.
static uint8_t *pack_monitor(char **emails, size_t n, size_t *len) {
  Pki__V1__MonitorConfig c = PKI__V1__MONITOR_CONFIG__INIT;
  c.enabled = 1;
  c.start_days = 30;
  c.frequency = (char *)"1d";
  c.emails = emails;
  c.n_emails = n;
  c.smtp_from = (char *)"pki@example.com";
  *len = pki__v1__monitor_config__get_packed_size(&c);
  uint8_t *buf = malloc(*len ? *len : 1);
  if (buf != NULL) {
    pki__v1__monitor_config__pack(&c, buf);
  }
  return buf;
}

TEST(what_protobuf_c_packs_passes) {
  // protobuf-c packs a C string by strlen: it can never write a NUL byte
  // into a string field, so what it packs always passes.
  char *emails[] = {(char *)"a@example.com", (char *)"", (char *)"b@x.org"};
  size_t len;
  uint8_t *buf = pack_monitor(emails, 3, &len);
  CHECK(buf != NULL);
  CHECK_EQ_INT(
      strings(&pki__v1__monitor_config__descriptor, (const char *)buf, len),
      CA_OK);
  free(buf);
  size_t batch_len;
  uint8_t *batch = pack_batch(50, "tomcat", &batch_len);
  CHECK_EQ_INT(strings(&pki__v1__batch_issue_request__descriptor,
                       (const char *)batch, batch_len),
               CA_OK);
  free(batch);
}

int main(void) {
  RUN(counts_top_level_occurrences);
  RUN(limit_is_applied_as_soon_as_exceeded);
  RUN(malformed_wire_format);
  RUN(counts_what_protobuf_c_packs);
  RUN(nul_bytes_in_string_fields);
  RUN(nesting_is_bounded);
  RUN(what_protobuf_c_packs_passes);
  return test_summary();
}
