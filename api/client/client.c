#include "api/client/client.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/mem.h>

#include "proto/pki.pb-c.h"

struct pki_client {
  // One easy handle per client, kept for its life: libcurl keeps its
  // connection open between calls (HTTP/1.1 keep-alive), so a client that
  // makes many calls pays the TCP and TLS handshakes once. A client is used
  // by one thread at a time.
  CURL *curl;
  char server[512];
  char authorization[128];  // "Authorization: Bearer ..."; "" for none
  char cacert[4096];        // "" for the system's trust
  // Whether the whole request of the last failed call was sent: only then
  // may the server have acted on it.
  int last_failure_sent;
};

// libcurl's global state (and the TLS library's under it) is set up once
// per process and never torn down: clients are made and freed on many
// threads at once (the benchmarks), and curl_global_init and
// curl_global_cleanup are not safe to call concurrently.
static pthread_once_t g_curl_once = PTHREAD_ONCE_INIT;
static int g_curl_ok;

// What every client of the process shares: TLS sessions (a client that
// opens a new connection resumes a session another one negotiated, when the
// server offers resumption) and the DNS cache. Connections are not shared:
// each client keeps its own, so concurrent clients never wait for one
// another. libcurl calls the lock functions around every use of shared data.
static CURLSH *g_share;
static pthread_mutex_t g_share_locks[CURL_LOCK_DATA_LAST];

static void share_lock(CURL *handle, curl_lock_data data,
                       curl_lock_access access, void *arg) {
  (void)handle;
  (void)access;
  (void)arg;
  if (data >= 0 && data < CURL_LOCK_DATA_LAST) {
    pthread_mutex_lock(&g_share_locks[data]);
  }
}

static void share_unlock(CURL *handle, curl_lock_data data, void *arg) {
  (void)handle;
  (void)arg;
  if (data >= 0 && data < CURL_LOCK_DATA_LAST) {
    pthread_mutex_unlock(&g_share_locks[data]);
  }
}

// share_new returns the shared handle, or NULL: clients then share nothing,
// which costs handshakes but is correct.
static CURLSH *share_new(void) {
  for (int k = 0; k < CURL_LOCK_DATA_LAST; k++) {
    if (pthread_mutex_init(&g_share_locks[k], NULL) != 0) {
      return NULL;
    }
  }
  CURLSH *share = curl_share_init();
  if (share == NULL) {
    return NULL;
  }
  if (curl_share_setopt(share, CURLSHOPT_LOCKFUNC, share_lock) != CURLSHE_OK ||
      curl_share_setopt(share, CURLSHOPT_UNLOCKFUNC, share_unlock) !=
          CURLSHE_OK ||
      curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) !=
          CURLSHE_OK ||
      curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) !=
          CURLSHE_OK) {
    curl_share_cleanup(share);
    return NULL;
  }
  return share;
}

static void curl_init_once(void) {
  g_curl_ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  if (g_curl_ok) {
    g_share = share_new();
  }
}

pki_client *pki_client_new(const char *server) {
  if (pthread_once(&g_curl_once, curl_init_once) != 0 || !g_curl_ok) {
    return NULL;
  }
  pki_client *client = calloc(1, sizeof(*client));
  if (client == NULL) {
    return NULL;
  }
  size_t n = strlen(server);
  while (n > 0 && server[n - 1] == '/') {
    n--;
  }
  if (n >= sizeof(client->server)) {
    free(client);
    return NULL;
  }
  memcpy(client->server, server, n);
  client->server[n] = '\0';
  client->curl = curl_easy_init();
  if (client->curl == NULL) {
    free(client);
    return NULL;
  }
  return client;
}

pki_client *pki_client_dup(const pki_client *client) {
  pki_client *copy = pki_client_new(client->server);
  if (copy == NULL) {
    return NULL;
  }
  memcpy(copy->authorization, client->authorization,
         sizeof(copy->authorization));
  memcpy(copy->cacert, client->cacert, sizeof(copy->cacert));
  return copy;
}

int pki_client_set_auth(pki_client *client, const char *token,
                        const char *cacert) {
  client->authorization[0] = '\0';
  client->cacert[0] = '\0';
  if (token != NULL) {
    const int n = snprintf(client->authorization, sizeof(client->authorization),
                           "Authorization: Bearer %s", token);
    CA_ENSURE(n > 0 && (size_t)n < sizeof(client->authorization),
              CA_ERR_PARAMETER_INVALID, "token too long");
  }
  if (cacert != NULL) {
    const int n =
        snprintf(client->cacert, sizeof(client->cacert), "%s", cacert);
    CA_ENSURE(n >= 0 && (size_t)n < sizeof(client->cacert),
              CA_ERR_PARAMETER_INVALID, "CA file path too long");
  }
  return 1;
err:
  return 0;
}

void pki_client_free(pki_client *client) {
  if (client == NULL) {
    return;
  }
  OPENSSL_cleanse(client->authorization, sizeof(client->authorization));
  curl_easy_cleanup(client->curl);
  free(client);
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg) {
  pki_reply *reply = arg;
  const size_t len = size * nmemb;
  if (len > PKI_CLIENT_MAX_REPLY - reply->body_len) {
    return 0;  // makes curl fail the transfer
  }
  uint8_t *grown = realloc(reply->body, reply->body_len + len + 1);
  if (grown == NULL) {
    return 0;
  }
  memcpy(grown + reply->body_len, data, len);
  reply->body = grown;
  reply->body_len += len;
  reply->body[reply->body_len] = '\0';
  return len;
}

int pki_client_call(pki_client *client, const char *method, const char *path,
                    const char *content_type, const uint8_t *body,
                    size_t body_len, pki_reply *out) {
  memset(out, 0, sizeof(*out));
  char url[2048];
  struct curl_slist *headers = NULL;
  int n = snprintf(url, sizeof(url), "%s%s", client->server, path);
  CA_ENSURE(n > 0 && (size_t)n < sizeof(url), CA_ERR_INTERNAL, "URL too long");
  CURL *c = client->curl;
  curl_easy_reset(c);
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
  // TCP keepalive: a server that went away without closing (its machine
  // stopped, a network cut) is noticed within about two minutes, while a
  // server that is alive but slow to answer (a large batch behind a full
  // queue) is waited for, however long: a timeout there would make the
  // caller retry a request the server may still commit.
  curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(c, CURLOPT_TCP_KEEPIDLE, 60L);
  curl_easy_setopt(c, CURLOPT_TCP_KEEPINTVL, 10L);
  // curl_easy_reset keeps the open connection and the TLS session cache;
  // only the options are set again.
  if (g_share != NULL) {
    curl_easy_setopt(c, CURLOPT_SHARE, g_share);
  }
  if (body != NULL) {
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, (const char *)body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
  }
  if (content_type != NULL) {
    char header[160];
    snprintf(header, sizeof(header), "Content-Type: %s", content_type);
    headers = curl_slist_append(headers, header);
  }
  // No "Expect: 100-continue" round trip for large bodies.
  headers = curl_slist_append(headers, "Expect:");
  if (client->authorization[0] != '\0') {
    headers = curl_slist_append(headers, client->authorization);
  }
  if (client->cacert[0] != '\0') {
    // That file alone: not also the system's directory of CAs, which the
    // TLS library would read and parse at every new connection.
    curl_easy_setopt(c, CURLOPT_CAINFO, client->cacert);
    curl_easy_setopt(c, CURLOPT_CAPATH, NULL);
  }
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  CURLcode rc = curl_easy_perform(c);
  long connects = 0;
  if (rc == CURLE_SEND_ERROR &&
      curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &connects) == CURLE_OK &&
      connects == 0) {
    // The connection kept from an earlier call failed while the request
    // was written: the server had closed it (idle past its
    // --connection-timeout) or closed it reading the request without
    // acting on it (a refusal before the body). curl sends a request
    // without a body again by itself, not one with a large body. The
    // server acted on none of it, so it is sent once more, on a new
    // connection.
    pki_reply_cleanup(out);
    curl_easy_setopt(c, CURLOPT_FRESH_CONNECT, 1L);
    rc = curl_easy_perform(c);
  }
  curl_slist_free_all(headers);
  headers = NULL;
  if (rc != CURLE_OK) {
    curl_off_t sent = 0;
    client->last_failure_sent =
        curl_easy_getinfo(c, CURLINFO_SIZE_UPLOAD_T, &sent) != CURLE_OK ||
        (curl_off_t)body_len <= sent;
  }
  CA_ENSURE(rc == CURLE_OK, CA_ERR_INTERNAL, "%s: %s", url,
            curl_easy_strerror(rc));
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
  curl_off_t retry = 0;
  if (curl_easy_getinfo(c, CURLINFO_RETRY_AFTER, &retry) == CURLE_OK) {
    out->retry_after = (long)retry;
  }
  const char *type = NULL;
  curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &type);
  snprintf(out->content_type, sizeof(out->content_type), "%s",
           type != NULL ? type : "");
  return 1;
err:
  curl_slist_free_all(headers);
  pki_reply_cleanup(out);
  return 0;
}

int pki_client_failure_sent(const pki_client *client) {
  return client->last_failure_sent;
}

void pki_reply_error(const pki_reply *reply, char *code, size_t code_len,
                     char *message, size_t message_len) {
  if (strncmp(reply->content_type, "application/x-protobuf", 22) == 0) {
    Pki__V1__Error *e =
        pki__v1__error__unpack(NULL, reply->body_len, reply->body);
    if (e != NULL) {
      snprintf(code, code_len, "%s", e->code);
      snprintf(message, message_len, "%s", e->message);
      pki__v1__error__free_unpacked(e, NULL);
      return;
    }
  }
  // A text error body is "CODE: message" (README, "Error codes").
  const char *body = reply->body != NULL ? (const char *)reply->body : "";
  const size_t n = strspn(body, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_");
  if (n > 0 && body[n] == ':') {
    snprintf(code, code_len, "%.*s", (int)n, body);
    snprintf(message, message_len, "%s", body + n + 1 + (body[n + 1] == ' '));
  } else {
    snprintf(code, code_len, "HTTP_%ld", reply->status);
    snprintf(message, message_len, "%.200s", body);
  }
  size_t m = strlen(message);
  while (m > 0 && (message[m - 1] == '\n' || message[m - 1] == '\r')) {
    message[--m] = '\0';
  }
}

void pki_reply_error_text(const pki_reply *reply, char *out, size_t out_len) {
  if (strncmp(reply->content_type, "application/x-protobuf", 22) == 0) {
    Pki__V1__Error *e =
        pki__v1__error__unpack(NULL, reply->body_len, reply->body);
    if (e != NULL) {
      snprintf(out, out_len, "%s: %s", e->code, e->message);
      pki__v1__error__free_unpacked(e, NULL);
      return;
    }
  }
  if (reply->body_len > 0) {
    snprintf(out, out_len, "%.*s", (int)reply->body_len,
             (const char *)reply->body);
    size_t n = strlen(out);
    while (n > 0 && out[n - 1] == '\n') {
      out[--n] = '\0';
    }
    return;
  }
  snprintf(out, out_len, "HTTP %ld", reply->status);
}

void pki_reply_cleanup(pki_reply *reply) {
  free(reply->body);
  memset(reply, 0, sizeof(*reply));
}
