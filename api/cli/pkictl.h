// What the command files of pkictl share (api/cli/pkictl.c holds main and the
// issuance and revocation commands; api/cli/pkictl_trust.c the trust-store and
// find commands).
#ifndef PKI_API_PKICTL_H
#define PKI_API_PKICTL_H

#include <stddef.h>
#include <stdint.h>

#include "api/client/client.h"

// pkictl_get GETs |path| into |reply|; on a transport failure or a status
// other than 200 it prints the error and returns 0. The caller cleans up
// |reply| either way.
int pkictl_get(pki_client *client, const char *path, pki_reply *reply);

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

// One flag of a command's table: a switch sets an int to 1, any other flag
// stores its value (a const char *) at |offset| of the command's struct.
typedef struct pkictl_flag {
  const char *name;  // "--dir"
  size_t offset;
  int is_switch;
} pkictl_flag;

// pkictl_parse_flags reads |argv| by |table| into |out| (zeroed first, then
// filled from |table|'s offsets) and collects up to |max_positional|
// arguments that are not flags into |positional|, their count in
// |*out_n_positional|. It prints the mistake and returns 0 for an unknown
// flag, a missing value or too many arguments.
int pkictl_parse_flags(int argc, char **argv, const pkictl_flag *table,
                       size_t n_table, void *out, size_t out_size,
                       const char **positional, int max_positional,
                       int *out_n_positional);

// pkictl_trust runs "pkictl trust ..." with the arguments after "trust".
int pkictl_trust(pki_client *client, int argc, char **argv);

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

#endif  // PKI_API_PKICTL_H
