// client_latency: the latency of one API call through the client library,
// on a client kept for every call (its connection kept alive) and on a new
// client per call (a TCP and TLS handshake each, the TLS session resumed
// when the server offers it). A measuring tool, never run by the tests:
//
//   client_latency URL PATH BODY_FILE [N]
//
// POSTs BODY_FILE (application/x-protobuf) to URL+PATH N times (default
// 200) each way, with the token of $PKI_TOKEN_FILE and the CA file of
// $PKI_CACERT, and prints one JSON line per way: p50 and p99 in ms.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/client/client.h"

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int compare(const void *a, const void *b) {
  const double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static pki_client *make_client(const char *url, const char *token,
                               const char *cacert) {
  pki_client *c = pki_client_new(url);
  if (c != NULL && !pki_client_set_auth(c, token, cacert)) {
    pki_client_free(c);
    return NULL;
  }
  return c;
}

// run makes |n| calls, on one client or (|fresh|) a new one each, and
// prints their p50 and p99; 0 when a call fails.
static int run(const char *url, const char *path, const char *token,
               const char *cacert, const uint8_t *body, size_t len, int n,
               int fresh) {
  double *lat = calloc((size_t)n, sizeof(*lat));
  pki_client *kept = fresh ? NULL : make_client(url, token, cacert);
  int ok = lat != NULL && (fresh || kept != NULL);
  for (int i = 0; ok && i < n; i++) {
    const double t = now_ms();
    pki_client *c = fresh ? make_client(url, token, cacert) : kept;
    pki_reply reply;
    ok = c != NULL && pki_client_call(c, "POST", path, "application/x-protobuf",
                                      body, len, &reply);
    if (ok) {
      ok = reply.status == 200;
      if (!ok) {
        fprintf(stderr, "HTTP %ld\n", reply.status);
      }
      pki_reply_cleanup(&reply);
    }
    if (fresh) {
      pki_client_free(c);
    }
    lat[i] = now_ms() - t;
  }
  if (ok) {
    qsort(lat, (size_t)n, sizeof(*lat), compare);
    printf(
        "{\"path\":\"%s\",\"client\":\"%s\",\"calls\":%d,\"p50_ms\":%.2f,"
        "\"p99_ms\":%.2f}\n",
        path, fresh ? "new per call" : "kept", n, lat[n / 2],
        lat[(n * 99) / 100]);
  }
  pki_client_free(kept);
  free(lat);
  return ok;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: client_latency URL PATH BODY_FILE [N]\n");
    return 2;
  }
  const int n = argc > 4 ? atoi(argv[4]) : 200;
  char token[256] = "";
  const char *token_file = getenv("PKI_TOKEN_FILE");
  FILE *tf = token_file != NULL ? fopen(token_file, "r") : NULL;
  if (tf != NULL) {
    if (fgets(token, sizeof(token), tf) == NULL) {
      token[0] = '\0';
    }
    fclose(tf);
    token[strcspn(token, "\r\n")] = '\0';
  }
  FILE *bf = fopen(argv[3], "rb");
  static uint8_t body[65536];
  const size_t len = bf != NULL ? fread(body, 1, sizeof(body), bf) : 0;
  if (bf != NULL) {
    fclose(bf);
  }
  if (n < 1 || len == 0) {
    fprintf(stderr, "client_latency: bad N or empty body\n");
    return 2;
  }
  const char *cacert = getenv("PKI_CACERT");
  const char *tok = token[0] != '\0' ? token : NULL;
  return run(argv[1], argv[2], tok, cacert, body, len, n, 0) &&
                 run(argv[1], argv[2], tok, cacert, body, len, n, 1)
             ? 0
             : 1;
}
