// pkictl --json: every command prints, on stdout, one JSON object instead of
// its text (README, "pkictl --json").
//
// What the object holds:
//   - the API's answer in the proto3 JSON mapping, written by the codec pkid
//     answers Accept: application/json with (api/json/json_codec.h). Several
//     answers of one command (pages of --all, batches of revoke) are merged:
//     arrays joined in order, numbers added up, other fields from the last
//     answer. keygen --count N lists its answers under "items".
//   - "written": the files the command wrote, [{"path", "bytes"}], in order;
//   - the bytes of a download that had no --out, under the command's name for
//     them ("pem", "body", "text"): as a string when they are UTF-8 text, else
//     in base64 under that name + "Base64";
//   - fields a local command adds (csr).
// A private key never appears: it is written to its 0600 file only.
//
// On failure the object is the API's error ({"code", "message"}), or, for a
// failure of pkictl itself (a flag, a file, the connection), code
// "PKICTL_FAILED" with pkictl's last message; the exit status is unchanged.
// Text the commands print to stdout goes to /dev/null; stderr is unchanged.
#ifndef PKI_API_PKICTL_JSON_H
#define PKI_API_PKICTL_JSON_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

#include "api/client/client.h"

// pkictl_json_begin turns JSON mode on: stdout (the FILE and descriptor 1,
// which pkictl's children inherit) is sent to /dev/null and stderr is copied
// as it is written, its last line kept. Returns 0 (after printing why) when
// it cannot.
int pkictl_json_begin(void);

// pkictl_json_on says whether --json was given.
int pkictl_json_on(void);

// pkictl_json_end prints the object on the real stdout and returns |rc|,
// the command's exit status (1 if the object could not be written).
int pkictl_json_end(int rc);

// pkictl_json_answer merges the API answer |msg| (borrowed; NULL: nothing)
// into the object.
void pkictl_json_answer(const ProtobufCMessage *msg);

// pkictl_json_item appends the API answer |msg| (borrowed) to "items".
void pkictl_json_item(const ProtobufCMessage *msg);

// pkictl_json_error records the API's error of |reply|.
void pkictl_json_error(const pki_reply *reply);

// pkictl_json_written records that |len| bytes were written to |path|.
void pkictl_json_written(const char *path, size_t len);

// pkictl_json_string sets the member |name| to |value| (NULL: nothing).
void pkictl_json_string(const char *name, const char *value);

// pkictl_json_bool, pkictl_json_int and pkictl_json_strings set the member
// |name| to a boolean, a number or an array of |n| strings.
void pkictl_json_bool(const char *name, int value);
void pkictl_json_int(const char *name, long value);
void pkictl_json_strings(const char *name, const char *const *values, size_t n);

// pkictl_print_body writes a download without --out: to stdout, or in JSON
// mode into the member |name|. Returns 0 when stdout failed.
int pkictl_print_body(const char *name, const uint8_t *data, size_t len);

#endif  // PKI_API_PKICTL_JSON_H
