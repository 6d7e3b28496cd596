// JSON beside protobuf: the proto3 JSON mapping of any protobuf-c message,
// driven by its descriptor alone, so that a message added to pki.proto is
// readable and writable as JSON with no code of its own.
//
// Output: field names in lowerCamelCase, 64-bit integers as strings, bytes
// in standard base64 with padding, enums by name (a number the enum does
// not know stays a number), repeated fields as arrays, sub-messages as
// objects, fields holding their default value left out (a proto3
// `optional` field or a oneof member that is set is written even when its
// value is the default). A string field holding bytes that are not UTF-8
// is written with U+FFFD for each bad byte: JSON cannot carry them.
//
// Input is untrusted and read strictly: RFC 8259 JSON, UTF-8 only, no
// duplicate key (nor a field given under both of its names), at most
// CA_LIMIT_JSON_DEPTH levels and CA_LIMIT_JSON_VALUES values. Field names
// are accepted in lowerCamelCase and as written in the .proto; 64-bit
// integers as strings or numbers; bytes in standard or URL-safe base64,
// with or without padding; enums by name or number; null for a field means
// its default. A field the message does not have is refused
// (JSON_UNKNOWN_FIELD): a misspelt name would otherwise be dropped and the
// request carried out with the default in its place.
//
// Errors (ca/error.h), each with a message naming the field's path
// ("items[2].validityDays"):
//   JSON_MALFORMED       not JSON (syntax, encoding, duplicate key, NUL)
//   JSON_LIMIT_EXCEEDED  deeper or with more values than the limits
//   JSON_UNKNOWN_FIELD   a name the message does not have
//   JSON_FIELD_INVALID   a value of the wrong type or out of range, bad
//                        base64, an enum name the enum does not have, two
//                        members of one oneof
#ifndef PKI_API_JSON_JSON_CODEC_H
#define PKI_API_JSON_JSON_CODEC_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

#include "ca/error.h"

// api_json_init makes jansson allocate through BoringSSL (whose free
// cleanses), once per process; every function below does it first. A
// program that makes jansson values of its own calls it before the first
// of them, so that no value allocated by malloc is freed by OPENSSL_free.
void api_json_init(void);

// api_json_decode parses |json| as a message of type |desc|. It returns a
// new message, owned by the caller and freed with api_json_message_free,
// or NULL with the error set.
ProtobufCMessage *api_json_decode(const ProtobufCMessageDescriptor *desc,
                                  const uint8_t *json, size_t len);

// api_json_message_free frees a message api_json_decode returned. It
// accepts NULL.
void api_json_message_free(ProtobufCMessage *msg);

// api_json_to_protobuf parses |json| as a message of type |desc| and packs
// it: |*out| (OPENSSL_malloc'd, owned by the caller) holds |*out_len| bytes
// of protobuf wire format. Returns 0 with the error set.
int api_json_to_protobuf(const ProtobufCMessageDescriptor *desc,
                         const uint8_t *json, size_t len, uint8_t **out,
                         size_t *out_len) CA_MUST_CHECK;

// api_json_encode writes |msg| (borrowed) as compact JSON: |*out|
// (OPENSSL_malloc'd, owned by the caller, NUL-terminated for convenience)
// holds |*out_len| bytes, the NUL not counted. Returns 0 with
// CA_ERR_NO_MEMORY, or CA_ERR_INTERNAL for a descriptor it cannot map.
int api_json_encode(const ProtobufCMessage *msg, uint8_t **out,
                    size_t *out_len) CA_MUST_CHECK;

// api_json_field_name writes the JSON name of the .proto field |proto_name|
// (lowerCamelCase: "validity_days" -> "validityDays") into |out|, cut to
// |out_len| - 1 bytes.
void api_json_field_name(const char *proto_name, char *out, size_t out_len);

#endif  // PKI_API_JSON_JSON_CODEC_H
