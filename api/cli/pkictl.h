// What the command files of pkictl share (api/cli/pkictl.c holds main and the
// issuance and revocation commands; api/cli/pkictl_batch.c the batch command;
// api/cli/pkictl_trust.c the trust-store and find commands).
#ifndef PKI_API_PKICTL_H
#define PKI_API_PKICTL_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "api/client/client.h"

// pkictl_get GETs |path| into |reply|; on a transport failure or a status
// other than 200 it prints the error and returns 0. The caller cleans up
// |reply| either way.
int pkictl_get(pki_client *client, const char *path, pki_reply *reply);

// pkictl_get_message GETs |path| and unpacks the answer as a |desc|, which
// --json's object also takes in. On any failure it prints why and returns
// NULL; the caller frees the message with protobuf_c_message_free_unpacked.
ProtobufCMessage *pkictl_get_message(pki_client *client, const char *path,
                                     const ProtobufCMessageDescriptor *desc);

// pkictl_call_message sends |method| |path| with |body| (|len| bytes of
// |content_type|) and unpacks a 200 answer as pkictl_get_message does; any
// other answer is printed and gives NULL.
ProtobufCMessage *pkictl_call_message(pki_client *client, const char *method,
                                      const char *path,
                                      const char *content_type,
                                      const uint8_t *body, size_t len,
                                      const ProtobufCMessageDescriptor *desc);

// pkictl_download GETs |path| and writes the body to the file |out|, or to
// stdout when |out| is NULL; it returns the command's exit code.
int pkictl_download(pki_client *client, const char *path, const char *out);

// pkictl_format_time writes |t| as RFC 3339 UTC into |out|, or "?".
void pkictl_format_time(int64_t t, char out[21]);

// pkictl_report prints the server's error of |reply| and returns 1.
int pkictl_report(const pki_reply *reply);

// pkictl_read_file reads at most |max| bytes of |path| into a malloc'd
// buffer, or prints why not and returns NULL.
uint8_t *pkictl_read_file(const char *path, size_t max, size_t *out_len);

// pkictl_write_file writes |data| to |path| through a temporary file and a
// rename; it prints why not and returns 0 on failure.
int pkictl_write_file(const char *path, const uint8_t *data, size_t len);

// pkictl_add_query appends "?name=value" or "&name=value" to |path| (of
// |cap| bytes), escaping the value; a NULL value adds nothing.
void pkictl_add_query(char *path, size_t cap, const char *name,
                      const char *value);

// How a flag of a command's table is read.
typedef enum pkictl_flag_kind {
  // A const char * at |offset|: the value of the last one given.
  PKICTL_FLAG_STRING,
  // An int at |offset|, set to 1; the flag takes no value.
  PKICTL_FLAG_BOOL,
  // An unsigned at |offset|, the value as |to_uint| reads it.
  PKICTL_FLAG_UINT,
  // A pkictl_list at |offset|: every value given, at most PKICTL_LIST_MAX.
  PKICTL_FLAG_LIST,
} pkictl_flag_kind;

#define PKICTL_LIST_MAX 100

// The values of a flag that may be repeated (--san NAME ...); they point
// into argv.
typedef struct pkictl_list {
  const char *values[PKICTL_LIST_MAX];
  size_t n;
} pkictl_list;

// One flag of a command's table.
typedef struct pkictl_flag {
  const char *name;  // "--dir"
  pkictl_flag_kind kind;
  size_t offset;  // of its destination in the command's struct
  // PKICTL_FLAG_UINT: reads |value| into |*out| or prints why not (naming
  // |flag|) and returns 0.
  int (*to_uint)(const char *flag, const char *value, unsigned *out);
} pkictl_flag;

// The entries of a table of flags stored in a |type|.
#define PKICTL_STRING_FLAG(name, type, field) \
  { name, PKICTL_FLAG_STRING, offsetof(type, field), NULL }
#define PKICTL_BOOL_FLAG(name, type, field) \
  { name, PKICTL_FLAG_BOOL, offsetof(type, field), NULL }
#define PKICTL_LIST_FLAG(name, type, field) \
  { name, PKICTL_FLAG_LIST, offsetof(type, field), NULL }
#define PKICTL_UINT_FLAG(name, type, field, to_uint) \
  { name, PKICTL_FLAG_UINT, offsetof(type, field), to_uint }

#define PKICTL_COUNT(array) (sizeof(array) / sizeof((array)[0]))

// What a command's arguments are read by.
typedef struct pkictl_flag_spec {
  const pkictl_flag *flags;
  size_t n_flags;
  size_t out_size;     // of the struct the flags are stored in
  int max_positional;  // arguments that are not flags
  // Printed after "unknown flag X" (NULL: nothing more).
  const char *unknown_hint;
} pkictl_flag_spec;

// pkictl_uint_in reads |text|, a whole decimal number from |min| to |max|
// (digits only: no sign, no space), into |*out|; otherwise it prints that
// |flag| must be in that range and returns 0. The to_uint of the
// PKICTL_UINT_FLAGs of batch and revoke.
int pkictl_uint_in(const char *flag, const char *text, unsigned long min,
                   unsigned long max, unsigned *out);

// pkictl_parse_flags is the one flag parser of pkictl. It reads |argv| by
// |spec| into |out| (zeroed first) and collects the arguments that are not
// flags into |positional|, their count in |*out_n_positional|; the strings it
// stores point into |argv|. It prints the mistake and returns 0 for an
// unknown flag, a missing value, a value its kind refuses, or too many
// arguments.
int pkictl_parse_flags(const pkictl_flag_spec *spec, int argc, char **argv,
                       void *out, const char **positional,
                       int *out_n_positional);

// pkictl_revoke runs "pkictl revoke ..." (api/cli/pkictl_revoke.c) with the
// arguments after "revoke".
int pkictl_revoke(pki_client *client, int argc, char **argv);

// pkictl_post_revocation POSTs |msg| (a RevokeRequest or UnholdRequest) to
// |path| (:revoke or :unhold) and prints the certificate's new state. It
// returns the exit status (0 or 1).
int pkictl_post_revocation(pki_client *client, const char *path,
                           const ProtobufCMessage *msg);

// pkictl_issued_pem renders a certificate and its chain as PEM (free with
// OPENSSL_free), or returns NULL.
struct Pki__V1__IssuedCertificate;
uint8_t *pkictl_issued_pem(const struct Pki__V1__IssuedCertificate *c,
                           size_t *out_len);

// pkictl_batch runs "pkictl batch ..." (api/cli/pkictl_batch.c) with the
// arguments after "batch".
int pkictl_batch(pki_client *client, int argc, char **argv);

// pkictl_trust runs "pkictl trust ..." with the arguments after "trust".
int pkictl_trust(pki_client *client, int argc, char **argv);

// pkictl_identity runs "pkictl identity ..." (api/cli/pkictl_identity.c)
// with the arguments after "identity".
int pkictl_identity(pki_client *client, int argc, char **argv);

// pkictl_find runs "pkictl find ..." with the arguments after "find".
int pkictl_find(pki_client *client, int argc, char **argv);

// pkictl_bulk runs "pkictl bulk ..." (api/cli/pkictl_bulk.c) with the arguments
// after "bulk".
int pkictl_bulk(pki_client *client, int argc, char **argv);

// pkictl_print_call sends |method| |path| without a body and writes a 200
// reply's body to stdout; otherwise it prints the error. It returns the
// exit status (0 or 1).
int pkictl_print_call(pki_client *client, const char *method, const char *path);

// pkictl_token runs "pkictl token ..." (api/cli/pkictl_access.c) with the
// arguments after "token".
int pkictl_token(pki_client *client, int argc, char **argv);

// pkictl_allowlist runs "pkictl allowlist ..." with the arguments after
// "allowlist".
int pkictl_allowlist(pki_client *client, int argc, char **argv);

// pkictl_node runs "pkictl node ..." (api/cli/pkictl_node.c) with the
// arguments after "node".
int pkictl_node(pki_client *client, int argc, char **argv);

// pkictl_audit runs "pkictl audit ..." (api/cli/pkictl_audit.c) with the
// arguments after "audit".
int pkictl_audit(pki_client *client, int argc, char **argv);
// pkictl_stats runs "pkictl stats [--refresh]" (api/cli/pkictl_stats.c)
// with the arguments after "stats".
int pkictl_stats(pki_client *client, int argc, char **argv);

// pkictl_write_key writes the PKCS#8 DER key |der| as PEM to |path|: mode
// 0600 from creation on, never over an existing file. It prints why not
// and returns 0 on failure.
int pkictl_write_key(const char *path, const uint8_t *der, size_t len);

#endif  // PKI_API_PKICTL_H
