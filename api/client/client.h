// The HTTP client side of pkictl, over libcurl.
#ifndef PKI_API_CLIENT_H
#define PKI_API_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "ca/error.h"

typedef struct pki_client pki_client;

// The largest reply read: a 1,000-item batch is under 4 MiB.
#define PKI_CLIENT_MAX_REPLY (512 * 1024 * 1024)

// A response. |body| is malloc'd and owned; free it with pki_reply_cleanup.
typedef struct pki_reply {
  long status;
  long retry_after;  // seconds of a Retry-After header; 0 when absent
  char content_type[128];
  uint8_t *body;
  size_t body_len;
} pki_reply;

// pki_client_new returns a client for |server| ("http://host:port"), or
// NULL. Free it with pki_client_free.
pki_client *pki_client_new(const char *server);

void pki_client_free(pki_client *client);

// pki_client_dup returns a new client of the same server with the same
// credentials, or NULL (free it with pki_client_free): one per thread, since
// a client is used by one thread at a time. Every client of the process
// shares TLS sessions; each keeps its own connection alive between calls.
pki_client *pki_client_dup(const pki_client *client);

// pki_client_set_auth makes every later call send "Authorization: Bearer
// |token|" (NULL: none) and trust the CA certificates of the PEM file
// |cacert| for https servers (NULL: the system's). Both are copied. It
// returns 0 when a value is too long.
int pki_client_set_auth(pki_client *client, const char *token,
                        const char *cacert) CA_MUST_CHECK;

// pki_client_call sends |method| |path| (with query) and |body| of
// |content_type| (NULL for none) and fills |out|. Any HTTP status counts as
// a reply; it returns 0 with CA_ERR_INTERNAL when the server cannot be
// reached or the reply exceeds PKI_CLIENT_MAX_REPLY bytes.
int pki_client_call(pki_client *client, const char *method, const char *path,
                    const char *content_type, const uint8_t *body,
                    size_t body_len, pki_reply *out) CA_MUST_CHECK;

// pki_client_failure_sent says, after pki_client_call failed, whether the
// whole request had been sent (1) or not (0: the connection failed, or broke
// before the body's last byte, so the server cannot have acted on it).
int pki_client_failure_sent(const pki_client *client);

// pki_reply_error_text writes the server's error ("CODE: message") into
// |out|: from a pki.v1.Error protobuf body or a text body.
void pki_reply_error_text(const pki_reply *reply, char *out, size_t out_len);

// pki_reply_error splits the server's error of |reply| into its stable code
// (|code|, e.g. "QUEUE_FULL"; "HTTP_<status>" when the body names none) and
// its message.
void pki_reply_error(const pki_reply *reply, char *code, size_t code_len,
                     char *message, size_t message_len);

void pki_reply_cleanup(pki_reply *reply);

#endif  // PKI_API_CLIENT_H
