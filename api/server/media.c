#include "api/server/media.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int is_space(char c) {
  return c == ' ' || c == '\t';
}

// token_is says whether [s, s+n), spaces around it trimmed, is |word|
// (ASCII case-insensitive), quotes around it allowed when |quoted|.
static int token_is(const char *s, size_t n, const char *word, int quoted) {
  while (n > 0 && is_space(*s)) {
    s++;
    n--;
  }
  while (n > 0 && is_space(s[n - 1])) {
    n--;
  }
  if (quoted && n >= 2 && s[0] == '"' && s[n - 1] == '"') {
    s++;
    n -= 2;
  }
  return n == strlen(word) && strncasecmp(s, word, n) == 0;
}

// param_value finds the parameter |name| in the ";"-separated parameters
// [s, end) of a media type, returning its value and length, or NULL.
static const char *param_value(const char *s, const char *end, const char *name,
                               size_t *len) {
  while (s < end) {
    const char *next = memchr(s, ';', (size_t)(end - s));
    if (next == NULL) {
      next = end;
    }
    const char *eq = memchr(s, '=', (size_t)(next - s));
    if (eq != NULL && token_is(s, (size_t)(eq - s), name, 0)) {
      *len = (size_t)(next - eq - 1);
      return eq + 1;
    }
    s = next + (next < end);
  }
  return NULL;
}

static int is_json_type(const char *s, size_t n) {
  return token_is(s, n, "application/json", 0);
}

static int is_protobuf_type(const char *s, size_t n) {
  return token_is(s, n, "application/x-protobuf", 0) ||
         token_is(s, n, "application/protobuf", 0);
}

api_media api_media_of(const char *type) {
  if (type == NULL) {
    return API_MEDIA_NONE;
  }
  const char *end = type + strlen(type);
  const char *semi = strchr(type, ';');
  const char *type_end = semi != NULL ? semi : end;
  if (!is_json_type(type, (size_t)(type_end - type))) {
    return API_MEDIA_OTHER;
  }
  size_t len = 0;
  const char *charset =
      semi != NULL ? param_value(semi + 1, end, "charset", &len) : NULL;
  // JSON is UTF-8 (RFC 8259 8.1); a client that says otherwise is told so
  // rather than read wrongly.
  return charset == NULL || token_is(charset, len, "utf-8", 1)
             ? API_MEDIA_JSON
             : API_MEDIA_JSON_BAD;
}

// How well one element of Accept matches a type: the most specific range
// decides (RFC 9110 12.5.1), and its q-value is the preference.
typedef struct preference {
  int specificity;  // -1: no range matched; 0 */*, 1 application/*, 2 exact
  double q;
} preference;

static void prefer(preference *p, int specificity, double q) {
  if (specificity > p->specificity) {
    p->specificity = specificity;
    p->q = q;
  } else if (specificity == p->specificity && q > p->q) {
    p->q = q;
  }
}

// accept_q reads the q parameter of one Accept element: a malformed one
// counts as 1, so that a client's typo never turns an answer away.
static double accept_q(const char *params, const char *end) {
  size_t len = 0;
  const char *v = param_value(params, end, "q", &len);
  if (v == NULL) {
    return 1;
  }
  char text[16];
  while (len > 0 && is_space(*v)) {
    v++;
    len--;
  }
  if (len == 0 || len >= sizeof(text)) {
    return 1;
  }
  memcpy(text, v, len);
  text[len] = '\0';
  char *stop;
  const double q = strtod(text, &stop);
  while (is_space(*stop)) {
    stop++;
  }
  if (*stop != '\0' || !(q >= 0 && q <= 1)) {
    return 1;
  }
  return q;
}

int api_media_answer_json(const char *accept, api_media request) {
  const int default_json =
      request == API_MEDIA_JSON || request == API_MEDIA_JSON_BAD;
  if (accept == NULL) {
    return default_json;
  }
  preference json = {-1, 0}, proto = {-1, 0};
  const char *s = accept;
  const char *end = accept + strlen(accept);
  while (s < end) {
    const char *next = memchr(s, ',', (size_t)(end - s));
    if (next == NULL) {
      next = end;
    }
    const char *semi = memchr(s, ';', (size_t)(next - s));
    const char *type_end = semi != NULL ? semi : next;
    const size_t n = (size_t)(type_end - s);
    const double q = semi != NULL ? accept_q(semi + 1, next) : 1;
    if (token_is(s, n, "*/*", 0)) {
      prefer(&json, 0, q);
      prefer(&proto, 0, q);
    } else if (token_is(s, n, "application/*", 0)) {
      prefer(&json, 1, q);
      prefer(&proto, 1, q);
    } else if (is_json_type(s, n)) {
      prefer(&json, 2, q);
    } else if (is_protobuf_type(s, n)) {
      prefer(&proto, 2, q);
    }
    s = next + (next < end);
  }
  const double qj = json.specificity >= 0 ? json.q : 0;
  const double qp = proto.specificity >= 0 ? proto.q : 0;
  if (qj != qp) {
    return qj > qp;
  }
  return default_json;
}
