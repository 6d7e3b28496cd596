// Unit tests of api/server/media.c: Content-Type read as JSON or not (and
// its charset), and Accept deciding the answer's format, with q-values,
// wildcards, spaces, case and malformed elements.
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "api/server/media.h"
#include "tests/support/test.h"

TEST(content_type) {
  CHECK_EQ_INT(api_media_of(NULL), API_MEDIA_NONE);
  CHECK_EQ_INT(api_media_of("application/json"), API_MEDIA_JSON);
  CHECK_EQ_INT(api_media_of("Application/JSON"), API_MEDIA_JSON);
  CHECK_EQ_INT(api_media_of(" application/json ;charset=utf-8"),
               API_MEDIA_JSON);
  CHECK_EQ_INT(api_media_of("application/json; CharSet=\"UTF-8\""),
               API_MEDIA_JSON);
  CHECK_EQ_INT(api_media_of("application/json; foo=bar; charset=utf-8"),
               API_MEDIA_JSON);
  CHECK_EQ_INT(api_media_of("application/json; charset=latin1"),
               API_MEDIA_JSON_BAD);
  CHECK_EQ_INT(api_media_of("application/json; charset="), API_MEDIA_JSON_BAD);
  CHECK_EQ_INT(api_media_of("application/x-protobuf"), API_MEDIA_OTHER);
  CHECK_EQ_INT(api_media_of("application/jsonx"), API_MEDIA_OTHER);
  CHECK_EQ_INT(api_media_of("application/json-seq"), API_MEDIA_OTHER);
  CHECK_EQ_INT(api_media_of("text/json"), API_MEDIA_OTHER);
  CHECK_EQ_INT(api_media_of(""), API_MEDIA_OTHER);
  CHECK_EQ_INT(api_media_of(";;;"), API_MEDIA_OTHER);
}

TEST(accept) {
  static const struct {
    const char *accept;
    api_media request;
    int json;
  } kCases[] = {
      // No preference: the request's format.
      {NULL, API_MEDIA_NONE, 0},
      {NULL, API_MEDIA_OTHER, 0},
      {NULL, API_MEDIA_JSON, 1},
      {NULL, API_MEDIA_JSON_BAD, 1},
      {"", API_MEDIA_JSON, 1},
      {"*/*", API_MEDIA_NONE, 0},
      {"*/*", API_MEDIA_JSON, 1},
      {"application/*", API_MEDIA_JSON, 1},
      {"text/html", API_MEDIA_NONE, 0},
      {"text/html", API_MEDIA_JSON, 1},
      {"application/json, application/x-protobuf", API_MEDIA_NONE, 0},
      {"application/json, application/x-protobuf", API_MEDIA_JSON, 1},
      // Accept wins.
      {"application/json", API_MEDIA_NONE, 1},
      {"application/json", API_MEDIA_OTHER, 1},
      {"APPLICATION/JSON", API_MEDIA_OTHER, 1},
      {"application/json; charset=utf-8", API_MEDIA_OTHER, 1},
      {"application/x-protobuf", API_MEDIA_JSON, 0},
      {"application/protobuf", API_MEDIA_JSON, 0},
      {"text/html, application/json;q=0.9, */*;q=0.8", API_MEDIA_NONE, 1},
      {"application/json;q=0.5, application/x-protobuf", API_MEDIA_JSON, 0},
      {"application/json;q=0.5,application/x-protobuf;q=0.6", API_MEDIA_JSON,
       0},
      {"application/json ; q=1.0 , application/x-protobuf ; q=0.999",
       API_MEDIA_OTHER, 1},
      // q=0 refuses; the most specific range decides over a wildcard.
      {"application/json;q=0, */*", API_MEDIA_JSON, 0},
      {"*/*;q=0.1, application/json", API_MEDIA_OTHER, 1},
      {"application/*;q=0.2, application/json;q=0.1", API_MEDIA_NONE, 0},
      {"application/x-protobuf;q=0, application/json;q=0", API_MEDIA_JSON, 1},
      // Malformed q-values count as 1; junk elements are skipped.
      {"application/json;q=abc, application/x-protobuf;q=0.5", API_MEDIA_NONE,
       1},
      {"application/json;q=2, application/x-protobuf", API_MEDIA_JSON, 1},
      {"application/json;q=, application/x-protobuf;q=0.1", API_MEDIA_NONE, 1},
      {"application/json;q=nan, application/x-protobuf;q=0.1", API_MEDIA_NONE,
       1},
      {",,,;;;,application/json,;q=0", API_MEDIA_NONE, 1},
      {"application/json;q=0.00000000000000000000001,application/x-protobuf;"
       "q=0",
       API_MEDIA_NONE, 1},
      {";q=0.5", API_MEDIA_JSON, 1},
  };
  for (size_t i = 0; i < sizeof(kCases) / sizeof(kCases[0]); i++) {
    const int got = api_media_answer_json(kCases[i].accept, kCases[i].request);
    if (got != kCases[i].json) {
      fprintf(stderr, "case %zu: Accept: %s\n", i,
              kCases[i].accept != NULL ? kCases[i].accept : "(none)");
    }
    CHECK_EQ_INT(got, kCases[i].json);
  }
}

int main(void) {
  RUN(content_type);
  RUN(accept);
  return test_summary();
}
