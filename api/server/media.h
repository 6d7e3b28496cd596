// Content negotiation between protobuf and JSON (README.md, "JSON"): the
// format of a request's body, from Content-Type, and the format of its
// answer, from Accept. Pure functions of the header values.
#ifndef PKI_API_SERVER_MEDIA_H
#define PKI_API_SERVER_MEDIA_H

typedef enum api_media {
  API_MEDIA_NONE,      // no Content-Type
  API_MEDIA_OTHER,     // anything but JSON (protobuf included)
  API_MEDIA_JSON,      // application/json, UTF-8 (said or not)
  API_MEDIA_JSON_BAD,  // application/json in a charset other than UTF-8
} api_media;

// api_media_of reads a Content-Type value (NULL: none). Type and parameter
// names are case-insensitive, spaces around them and quotes around the
// charset are allowed.
api_media api_media_of(const char *content_type);

// api_media_answer_json says whether to answer in JSON: when |accept|
// prefers application/json to protobuf (application/x-protobuf or
// application/protobuf), by q-value, the most specific range deciding
// (RFC 9110 12.5.1); otherwise (no Accept, */*, both alike, neither named)
// when the request's body is JSON (|request| API_MEDIA_JSON or
// API_MEDIA_JSON_BAD). A malformed q-value counts as 1; nothing in
// |accept| is ever refused.
int api_media_answer_json(const char *accept, api_media request);

#endif  // PKI_API_SERVER_MEDIA_H
