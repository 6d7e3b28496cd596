// pkictl --json (pkictl_json.h): one JSON object built while the command
// runs and printed when it ends. fopencookie is a GNU extension (the build
// defines _GNU_SOURCE).
#include "api/cli/pkictl_json.h"

#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/base64.h>
#include <openssl/mem.h>

#include "api/json/json_codec.h"

static int g_on;

// pair returns {"<k1>": v1, "<k2>": v2} (owned by the caller), or NULL.
static json_t *pair(const char *k1, json_t *v1, const char *k2, json_t *v2) {
  json_t *o = json_object();
  if (o == NULL || json_object_set_new(o, k1, v1) != 0 ||
      json_object_set_new(o, k2, v2) != 0) {
    json_decref(o);
    return NULL;
  }
  return o;
}
static FILE *g_out;        // the real stdout
static FILE *g_err;        // the real stderr
static json_t *g_obj;      // what pkictl adds: files written, downloads
static json_t *g_answer;   // the API's answers, merged
static json_t *g_error;    // the API's error, if any
static char g_line[1024];  // stderr's line being written
static size_t g_line_len;
static char g_last[1024];  // stderr's last line that was not empty

int pkictl_json_on(void) {
  return g_on;
}

// tee_write copies stderr to the real one and keeps its last line, the
// message of a failure of pkictl itself.
static ssize_t tee_write(void *cookie, const char *buf, size_t len) {
  (void)cookie;
  for (size_t i = 0; i < len; i++) {
    if (buf[i] != '\n') {
      if (g_line_len + 1 < sizeof(g_line)) {
        g_line[g_line_len++] = buf[i];
      }
      continue;
    }
    if (g_line_len > 0) {
      memcpy(g_last, g_line, g_line_len);
      g_last[g_line_len] = '\0';
    }
    g_line_len = 0;
  }
  const size_t n = fwrite(buf, 1, len, g_err);
  fflush(g_err);
  return (ssize_t)n;
}

int pkictl_json_begin(void) {
  // jansson's allocator is the codec's from the first value on.
  api_json_init();
  fflush(stdout);
  const int saved = dup(STDOUT_FILENO);
  const int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
  g_obj = json_object();
  if (saved < 0 || null < 0 || g_obj == NULL || dup2(null, STDOUT_FILENO) < 0 ||
      (g_out = fdopen(saved, "w")) == NULL) {
    fprintf(stderr, "pkictl: --json: cannot set up stdout\n");
    return 0;
  }
  close(null);
  (void)fcntl(saved, F_SETFD, FD_CLOEXEC);
  cookie_io_functions_t tee = {NULL, tee_write, NULL, NULL};
  FILE *err = fopencookie(NULL, "w", tee);
  if (err != NULL) {
    setvbuf(err, NULL, _IOLBF, 0);
    g_err = stderr;
    stderr = err;
  }
  g_on = 1;
  return 1;
}

// answer_json returns |msg| as jansson's value (owned by the caller), its
// private key left out, or NULL.
static json_t *answer_json(const ProtobufCMessage *msg) {
  uint8_t *text = NULL;
  size_t len = 0;
  if (!api_json_encode(msg, &text, &len)) {
    return NULL;
  }
  json_t *v = json_loadb((const char *)text, len, 0, NULL);
  OPENSSL_cleanse(text, len);
  OPENSSL_free(text);
  if (v != NULL) {
    // The key goes to its 0600 file only, never to a pipe or a log; a
    // bundle is the file written, not repeated.
    (void)json_object_del(v, "privateKey");
    (void)json_object_del(v, "bundle");
  }
  return v;
}

// merge folds the earlier answers |old| into the later one |src|: arrays
// joined (old first), integers added (counts), every other field as the
// later answer has it (a page's cursor, absent from the last page).
static void merge(json_t *old, json_t *src) {
  const char *key;
  json_t *value;
  json_object_foreach(old, key, value) {
    json_t *later = json_object_get(src, key);
    if (json_is_array(value) && json_is_array(later)) {
      json_t *joined = json_copy(value);
      if (joined != NULL && json_array_extend(joined, later) == 0) {
        (void)json_object_set(src, key, joined);
      }
      json_decref(joined);
    } else if (json_is_integer(value) && json_is_integer(later)) {
      (void)json_integer_set(
          later, json_integer_value(later) + json_integer_value(value));
    } else if (later == NULL &&
               (json_is_array(value) || json_is_integer(value))) {
      (void)json_object_set(src, key, value);
    }
  }
}

void pkictl_json_answer(const ProtobufCMessage *msg) {
  if (!g_on || msg == NULL) {
    return;
  }
  json_t *v = answer_json(msg);
  if (v == NULL) {
    return;
  }
  if (g_answer != NULL) {
    merge(g_answer, v);
    json_decref(g_answer);
  }
  g_answer = v;
}

// array_member returns the array |name| of the object, made if needed.
static json_t *array_member(const char *name) {
  json_t *a = json_object_get(g_obj, name);
  if (!json_is_array(a)) {
    a = json_array();
    if (a == NULL || json_object_set_new(g_obj, name, a) != 0) {
      return NULL;
    }
  }
  return a;
}

void pkictl_json_item(const ProtobufCMessage *msg) {
  json_t *items = g_on && msg != NULL ? array_member("items") : NULL;
  json_t *v = items != NULL ? answer_json(msg) : NULL;
  if (v != NULL) {
    (void)json_array_append_new(items, v);
  }
}

void pkictl_json_error(const pki_reply *reply) {
  if (!g_on || g_error != NULL) {
    return;
  }
  char code[128], message[1024];
  pki_reply_error(reply, code, sizeof(code), message, sizeof(message));
  g_error = pair("code", json_string(code), "message", json_string(message));
}

void pkictl_json_written(const char *path, size_t len) {
  json_t *written = g_on ? array_member("written") : NULL;
  if (written != NULL) {
    (void)json_array_append_new(written,
                                pair("path", json_string(path), "bytes",
                                     json_integer((json_int_t)len)));
  }
}

void pkictl_json_string(const char *name, const char *value) {
  if (g_on && value != NULL) {
    (void)json_object_set_new(g_obj, name, json_string(value));
  }
}

void pkictl_json_bool(const char *name, int value) {
  if (g_on) {
    (void)json_object_set_new(g_obj, name, json_boolean(value));
  }
}

void pkictl_json_int(const char *name, long value) {
  if (g_on) {
    (void)json_object_set_new(g_obj, name, json_integer(value));
  }
}

void pkictl_json_strings(const char *name, const char *const *values,
                         size_t n) {
  json_t *a = g_on ? json_array() : NULL;
  if (a == NULL) {
    return;
  }
  for (size_t i = 0; i < n; i++) {
    (void)json_array_append_new(a, json_string(values[i]));
  }
  (void)json_object_set_new(g_obj, name, a);
}

int pkictl_print_body(const char *name, const uint8_t *data, size_t len) {
  if (!g_on) {
    return fwrite(data, 1, len, stdout) == len;
  }
  // json_stringn refuses bytes that are not UTF-8 and NUL.
  json_t *text = memchr(data, 0, len) == NULL
                     ? json_stringn((const char *)data, len)
                     : NULL;
  if (text != NULL) {
    return json_object_set_new(g_obj, name, text) == 0;
  }
  size_t b64_len;
  char key[64];
  if (!EVP_EncodedLength(&b64_len, len)) {
    return 0;
  }
  char *b64 = malloc(b64_len);
  if (b64 == NULL) {
    return 0;
  }
  EVP_EncodeBlock((uint8_t *)b64, data, len);
  snprintf(key, sizeof(key), "%sBase64", name);
  const int ok = json_object_set_new(g_obj, key, json_string(b64)) == 0;
  free(b64);
  return ok;
}

int pkictl_json_end(int rc) {
  if (!g_on) {
    return rc;
  }
  fflush(stdout);
  fflush(stderr);
  if (g_line_len > 0) {  // a last message without its newline
    memcpy(g_last, g_line, g_line_len);
    g_last[g_line_len] = '\0';
  }
  json_t *out = g_error;
  if (out == NULL && g_answer != NULL) {
    // The answer's fields first, then pkictl's (pkictl_json.h).
    (void)json_object_update(g_answer, g_obj);
    out = json_incref(g_answer);
  }
  if (out == NULL && rc != 0 && json_object_size(g_obj) == 0) {
    const char *m = g_last;
    if (strncmp(m, "pkictl: ", 8) == 0) {
      m += 8;
    }
    out = pair("code", json_string("PKICTL_FAILED"), "message",
               json_string(m[0] != '\0' ? m : "pkictl failed"));
  } else if (out == NULL) {
    out = json_incref(g_obj);
  }
  const int ok = out != NULL && json_dumpf(out, g_out, JSON_COMPACT) == 0 &&
                 fputc('\n', g_out) != EOF && fflush(g_out) == 0;
  json_decref(out);
  return ok || rc != 0 ? rc : 1;
}
