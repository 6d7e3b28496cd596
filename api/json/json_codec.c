#include "api/json/json_codec.h"

#include <float.h>
#include <jansson.h>
#include <math.h>
#include <openssl/base64.h>
#include <openssl/mem.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca/limits.h"

// --- Memory ---

// jansson allocates through BoringSSL, whose free cleanses: a response may
// carry a private key (keys:generate, self-signed), and its base64 text
// must not stay behind in freed memory.
static pthread_once_t g_alloc_once = PTHREAD_ONCE_INIT;

static void set_alloc(void) {
  json_set_alloc_funcs(OPENSSL_malloc, OPENSSL_free);
}

static void init_alloc(void) {
  (void)pthread_once(&g_alloc_once, set_alloc);
}

void api_json_init(void) {
  init_alloc();
}

// --- Field layout (protobuf-c's generated structs) ---

// zalloc is OPENSSL_malloc of |n| zero bytes (this BoringSSL has no
// OPENSSL_zalloc); freed with OPENSSL_free, which cleanses.
static void *zalloc(size_t n) {
  void *p = OPENSSL_malloc(n > 0 ? n : 1);
  if (p != NULL) {
    memset(p, 0, n > 0 ? n : 1);
  }
  return p;
}

static void *member(const ProtobufCMessage *msg, unsigned offset) {
  return (char *)msg + offset;
}

static size_t element_size(ProtobufCType type) {
  switch (type) {
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_DOUBLE:
      return 8;
    case PROTOBUF_C_TYPE_BOOL:
      return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_STRING:
    case PROTOBUF_C_TYPE_MESSAGE:
      return sizeof(void *);
    case PROTOBUF_C_TYPE_BYTES:
      return sizeof(ProtobufCBinaryData);
    default:  // the 32-bit integers, float, enum
      return 4;
  }
}

static int is_oneof(const ProtobufCFieldDescriptor *f) {
  return (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) != 0;
}

// has_flag says whether |f| keeps its presence in a has_ member: proto2
// optional and proto3 `optional` scalars and bytes (strings and messages
// use NULL).
static int has_flag(const ProtobufCFieldDescriptor *f) {
  return f->label == PROTOBUF_C_LABEL_OPTIONAL && !is_oneof(f) &&
         f->type != PROTOBUF_C_TYPE_STRING &&
         f->type != PROTOBUF_C_TYPE_MESSAGE;
}

void api_json_field_name(const char *proto_name, char *out, size_t out_len) {
  // protoc's rule (ToJsonName): drop each '_' and upper-case what follows.
  size_t n = 0;
  int upper = 0;
  for (const char *p = proto_name; *p != '\0' && n + 1 < out_len; p++) {
    if (*p == '_') {
      upper = 1;
      continue;
    }
    out[n++] = upper && *p >= 'a' && *p <= 'z' ? (char)(*p - 'a' + 'A') : *p;
    upper = 0;
  }
  if (out_len > 0) {
    out[n] = '\0';
  }
}

// --- Freeing ---

static void free_value(const ProtobufCFieldDescriptor *f, void *p) {
  if (f->type == PROTOBUF_C_TYPE_STRING) {
    char *s = *(char **)p;
    if (s != NULL && s != protobuf_c_empty_string && s != f->default_value) {
      OPENSSL_free(s);
    }
  } else if (f->type == PROTOBUF_C_TYPE_BYTES) {
    const ProtobufCBinaryData *dflt = f->default_value;
    uint8_t *data = ((ProtobufCBinaryData *)p)->data;
    if (data != NULL && (dflt == NULL || dflt->data != data)) {
      OPENSSL_free(data);
    }
  } else if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
    ProtobufCMessage *sub = *(ProtobufCMessage **)p;
    if (sub != f->default_value) {
      api_json_message_free(sub);
    }
  }
}

void api_json_message_free(ProtobufCMessage *msg) {
  if (msg == NULL) {
    return;
  }
  const ProtobufCMessageDescriptor *desc = msg->descriptor;
  for (unsigned i = 0; i < desc->n_fields; i++) {
    const ProtobufCFieldDescriptor *f = &desc->fields[i];
    void *p = member(msg, f->offset);
    if (is_oneof(f) &&
        *(uint32_t *)member(msg, f->quantifier_offset) != f->id) {
      continue;
    }
    if (f->label != PROTOBUF_C_LABEL_REPEATED) {
      free_value(f, p);
      continue;
    }
    const size_t n = *(size_t *)member(msg, f->quantifier_offset);
    uint8_t *arr = *(uint8_t **)p;
    const size_t size = element_size(f->type);
    for (size_t j = 0; arr != NULL && j < n; j++) {
      free_value(f, arr + j * size);
    }
    OPENSSL_free(arr);
  }
  OPENSSL_free(msg);
}

static ProtobufCMessage *message_new(const ProtobufCMessageDescriptor *desc) {
  ProtobufCMessage *msg = zalloc(desc->sizeof_message);
  if (msg == NULL) {
    CA_SET_ERROR(CA_ERR_NO_MEMORY, "out of memory");
    return NULL;
  }
  desc->message_init(msg);
  return msg;
}

// --- Decoding: the path named in errors ---

typedef struct decoder {
  char path[192];  // "items[2].validityDays"
  size_t path_len;
} decoder;

// push_name and push_index append a segment to the path and return the
// length to give back to pop_path. The path is cut, never overflowed, past
// its size.
static size_t push_text(decoder *d, const char *text) {
  const size_t saved = d->path_len;
  const size_t room = sizeof(d->path) - d->path_len;
  const size_t n = strlen(text);
  const size_t take = n < room ? n : room - 1;
  memcpy(d->path + d->path_len, text, take);
  d->path_len += take;
  d->path[d->path_len] = '\0';
  return saved;
}

static size_t push_name(decoder *d, const char *name) {
  const size_t saved = d->path_len;
  if (d->path_len > 0) {
    (void)push_text(d, ".");
  }
  (void)push_text(d, name);
  return saved;
}

static size_t push_index(decoder *d, size_t index) {
  char text[32];
  snprintf(text, sizeof(text), "[%zu]", index);
  return push_text(d, text);
}

static void pop_path(decoder *d, size_t saved) {
  d->path_len = saved;
  d->path[saved] = '\0';
}

static const char *path_of(const decoder *d) {
  return d->path_len > 0 ? d->path : "(the message)";
}

// printable copies |s| for an error message: at most 64 bytes, anything
// but printable ASCII as '?', so that a client's key cannot put control
// characters or cut UTF-8 into the message or the log.
static void printable(const char *s, char out[72]) {
  size_t n = 0;
  for (; s[n] != '\0' && n < 64; n++) {
    out[n] = s[n] >= 0x20 && s[n] < 0x7f ? s[n] : '?';
  }
  out[n] = '\0';
  if (s[n] != '\0') {
    memcpy(out + n, "...", 4);
  }
}

static int field_invalid(const decoder *d, const char *what) {
  CA_SET_ERROR(CA_ERR_JSON_FIELD_INVALID, "%s: %s", path_of(d), what);
  return 0;
}

// --- Decoding: scalars ---

// A JSON integer as sign and magnitude, so that one range check serves
// every width, signed or not.
typedef struct integer {
  int negative;
  uint64_t magnitude;
} integer;

static int read_integer_string(const char *s, integer *out) {
  out->negative = s[0] == '-';
  const char *p = s + out->negative;
  if (*p == '\0') {
    return 0;
  }
  uint64_t v = 0;
  for (; *p != '\0'; p++) {
    if (*p < '0' || *p > '9') {
      return 0;
    }
    const uint64_t digit = (uint64_t)(*p - '0');
    if (v > (UINT64_MAX - digit) / 10) {
      return 0;
    }
    v = v * 10 + digit;
  }
  out->magnitude = v;
  return 1;
}

// read_integer reads a JSON integer, an integral real (exact up to 2^53)
// or a string of decimal digits.
static int read_integer(const decoder *d, const json_t *v, integer *out) {
  if (json_is_integer(v)) {
    const json_int_t x = json_integer_value(v);
    out->negative = x < 0;
    out->magnitude = x < 0 ? (uint64_t)(-(x + 1)) + 1 : (uint64_t)x;
    return 1;
  }
  if (json_is_real(v)) {
    const double x = json_real_value(v);
    if (!(x == floor(x) && fabs(x) <= 9007199254740992.0)) {
      return field_invalid(d,
                           "not an integer, or not exact as a number "
                           "(send large integers as strings)");
    }
    out->negative = x < 0;
    out->magnitude = (uint64_t)fabs(x);
    return 1;
  }
  if (json_is_string(v)) {
    if (!read_integer_string(json_string_value(v), out)) {
      return field_invalid(d, "not a decimal integer");
    }
    return 1;
  }
  return field_invalid(d, "expected an integer (a number or a string)");
}

static int read_signed(const decoder *d, const json_t *v, int64_t min,
                       int64_t max, int64_t *out) {
  integer x;
  if (!read_integer(d, v, &x)) {
    return 0;
  }
  const uint64_t limit =
      x.negative ? (uint64_t)(-(min + 1)) + 1 : (uint64_t)max;
  if (x.magnitude > limit) {
    return field_invalid(d, "integer out of range");
  }
  *out = x.negative ? (int64_t)(0 - x.magnitude) : (int64_t)x.magnitude;
  return 1;
}

static int read_unsigned(const decoder *d, const json_t *v, uint64_t max,
                         uint64_t *out) {
  integer x;
  if (!read_integer(d, v, &x)) {
    return 0;
  }
  if ((x.negative && x.magnitude != 0) || x.magnitude > max) {
    return field_invalid(d, "integer out of range");
  }
  *out = x.magnitude;
  return 1;
}

static int read_double(const decoder *d, const json_t *v, int is_float,
                       double *out) {
  if (json_is_number(v)) {
    *out = json_number_value(v);
  } else if (json_is_string(v)) {
    const char *s = json_string_value(v);
    if (strcmp(s, "NaN") == 0) {
      *out = NAN;
    } else if (strcmp(s, "Infinity") == 0) {
      *out = INFINITY;
    } else if (strcmp(s, "-Infinity") == 0) {
      *out = -INFINITY;
    } else {
      // A number in a string; strtod would also take hex, "inf" and
      // leading spaces, which JSON numbers never are.
      json_error_t jerr;
      json_t *num = json_loads(s, JSON_DECODE_ANY, &jerr);
      const int ok = num != NULL && json_is_number(num);
      *out = ok ? json_number_value(num) : 0;
      json_decref(num);
      if (!ok) {
        return field_invalid(d, "not a number");
      }
    }
  } else {
    return field_invalid(d, "expected a number");
  }
  if (is_float && isfinite(*out) && fabs(*out) > FLT_MAX) {
    return field_invalid(d, "number out of the range of a float");
  }
  return 1;
}

// base64_decode reads standard or URL-safe base64, padded or not.
static int base64_decode(const decoder *d, const char *s, size_t n,
                         ProtobufCBinaryData *out) {
  size_t body = n;
  while (body > 0 && s[body - 1] == '=') {
    body--;
  }
  if (n - body > 2 || (n != body && n % 4 != 0) || body % 4 == 1) {
    return field_invalid(d, "not base64 (bad length or padding)");
  }
  if (body == 0) {
    return 1;
  }
  const size_t padded = (body + 3) / 4 * 4;
  char *std = OPENSSL_malloc(padded);
  size_t max = 0;
  uint8_t *data = NULL;
  if (std == NULL || !EVP_DecodedLength(&max, padded) ||
      (data = OPENSSL_malloc(max > 0 ? max : 1)) == NULL) {
    OPENSSL_free(std);
    CA_SET_ERROR(CA_ERR_NO_MEMORY, "out of memory");
    return 0;
  }
  for (size_t i = 0; i < padded; i++) {
    const char c = i < body ? s[i] : '=';
    // '=' before the end is refused below, as any other stray character.
    std[i] = c == '-' ? '+' : c == '_' ? '/' : (c == '=' && i < body) ? '!' : c;
  }
  size_t len = 0;
  const int ok =
      EVP_DecodeBase64(data, &len, max, (const uint8_t *)std, padded);
  OPENSSL_free(std);
  if (!ok) {
    OPENSSL_free(data);
    return field_invalid(d, "not base64");
  }
  out->data = data;
  out->len = len;
  return 1;
}

static int decode_message(decoder *d, const json_t *obj, ProtobufCMessage *msg);

static int decode_string(const decoder *d, const json_t *v, char **out) {
  if (!json_is_string(v)) {
    return field_invalid(d, "expected a string");
  }
  // jansson has checked the UTF-8 and refused NUL characters.
  const size_t n = json_string_length(v);
  char *s = OPENSSL_malloc(n + 1);
  if (s == NULL) {
    CA_SET_ERROR(CA_ERR_NO_MEMORY, "out of memory");
    return 0;
  }
  memcpy(s, json_string_value(v), n + 1);
  *out = s;
  return 1;
}

static int decode_enum(const decoder *d, const ProtobufCFieldDescriptor *f,
                       const json_t *v, int *out) {
  if (json_is_string(v)) {
    const ProtobufCEnumValue *e = protobuf_c_enum_descriptor_get_value_by_name(
        f->descriptor, json_string_value(v));
    if (e == NULL) {
      return field_invalid(d, "not a name of this enum");
    }
    *out = e->value;
    return 1;
  }
  if (!json_is_integer(v)) {
    return field_invalid(d, "expected an enum name or number");
  }
  // proto3 enums are open: a number the enum does not name is kept.
  int64_t x;
  if (!read_signed(d, v, INT32_MIN, INT32_MAX, &x)) {
    return 0;
  }
  *out = (int)x;
  return 1;
}

// decode_value reads one value (not an array) of field |f| into |p|.
static int decode_value(decoder *d, const ProtobufCFieldDescriptor *f,
                        const json_t *v, void *p) {
  int64_t s;
  uint64_t u;
  double x;
  switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
      CA_GUARD_RETURN(read_signed(d, v, INT32_MIN, INT32_MAX, &s));
      *(int32_t *)p = (int32_t)s;
      return 1;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
      CA_GUARD_RETURN(read_signed(d, v, INT64_MIN, INT64_MAX, &s));
      *(int64_t *)p = s;
      return 1;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
      CA_GUARD_RETURN(read_unsigned(d, v, UINT32_MAX, &u));
      *(uint32_t *)p = (uint32_t)u;
      return 1;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
      CA_GUARD_RETURN(read_unsigned(d, v, UINT64_MAX, &u));
      *(uint64_t *)p = u;
      return 1;
    case PROTOBUF_C_TYPE_FLOAT:
      CA_GUARD_RETURN(read_double(d, v, 1, &x));
      *(float *)p = (float)x;
      return 1;
    case PROTOBUF_C_TYPE_DOUBLE:
      CA_GUARD_RETURN(read_double(d, v, 0, &x));
      *(double *)p = x;
      return 1;
    case PROTOBUF_C_TYPE_BOOL:
      if (!json_is_boolean(v)) {
        return field_invalid(d, "expected true or false");
      }
      *(protobuf_c_boolean *)p = json_is_true(v);
      return 1;
    case PROTOBUF_C_TYPE_ENUM:
      return decode_enum(d, f, v, (int *)p);
    case PROTOBUF_C_TYPE_STRING:
      return decode_string(d, v, (char **)p);
    case PROTOBUF_C_TYPE_BYTES:
      if (!json_is_string(v)) {
        return field_invalid(d, "expected a base64 string");
      }
      return base64_decode(d, json_string_value(v), json_string_length(v),
                           (ProtobufCBinaryData *)p);
    case PROTOBUF_C_TYPE_MESSAGE: {
      if (!json_is_object(v)) {
        return field_invalid(d, "expected an object");
      }
      // Stored before it is filled, so that a failure frees it with the
      // message it belongs to.
      ProtobufCMessage *sub = message_new(f->descriptor);
      CA_GUARD_PTR_RETURN(sub);
      *(ProtobufCMessage **)p = sub;
      return decode_message(d, v, sub);
    }
  }
  CA_SET_ERROR(CA_ERR_INTERNAL, "%s: field type %d unknown", path_of(d),
               (int)f->type);
  return 0;
}

static int decode_repeated(decoder *d, const ProtobufCFieldDescriptor *f,
                           const json_t *v, ProtobufCMessage *msg) {
  if (!json_is_array(v)) {
    return field_invalid(d, "expected an array");
  }
  const size_t n = json_array_size(v);
  if (n == 0) {
    return 1;
  }
  const size_t size = element_size(f->type);
  uint8_t *arr = zalloc(n * size);
  CA_ENSURE_RETURN(arr != NULL, CA_ERR_NO_MEMORY, "out of memory");
  // Stored whole before any element is read: the elements are zero (NULL
  // for pointers), so a failure part-way frees what was read.
  *(uint8_t **)member(msg, f->offset) = arr;
  *(size_t *)member(msg, f->quantifier_offset) = n;
  for (size_t i = 0; i < n; i++) {
    const json_t *e = json_array_get(v, i);
    const size_t saved = push_index(d, i);
    if (json_is_null(e)) {
      return field_invalid(d, "null is not a value of a repeated field");
    }
    CA_GUARD_RETURN(decode_value(d, f, e, arr + i * size));
    pop_path(d, saved);
  }
  return 1;
}

static int decode_field(decoder *d, const ProtobufCFieldDescriptor *f,
                        const json_t *v, ProtobufCMessage *msg) {
  if (json_is_null(v)) {
    return 1;  // the default: the field stays unset
  }
  if (f->label == PROTOBUF_C_LABEL_REPEATED) {
    return decode_repeated(d, f, v, msg);
  }
  if (is_oneof(f)) {
    uint32_t *which = member(msg, f->quantifier_offset);
    if (*which != 0 && *which != f->id) {
      return field_invalid(d, "another member of its oneof is set already");
    }
    // Set first, so that a failure frees what the member holds.
    *which = f->id;
  }
  CA_GUARD_RETURN(decode_value(d, f, v, member(msg, f->offset)));
  if (has_flag(f)) {
    *(protobuf_c_boolean *)member(msg, f->quantifier_offset) = 1;
  }
  return 1;
}

// find_field returns the field named |key| (its JSON name or its .proto
// name), or NULL.
static const ProtobufCFieldDescriptor *find_field(
    const ProtobufCMessageDescriptor *desc, const char *key) {
  const ProtobufCFieldDescriptor *f =
      protobuf_c_message_descriptor_get_field_by_name(desc, key);
  if (f != NULL) {
    return f;
  }
  char json_name[128];
  for (unsigned i = 0; i < desc->n_fields; i++) {
    api_json_field_name(desc->fields[i].name, json_name, sizeof(json_name));
    if (strcmp(json_name, key) == 0) {
      return &desc->fields[i];
    }
  }
  return NULL;
}

static int decode_message(decoder *d, const json_t *obj,
                          ProtobufCMessage *msg) {
  const ProtobufCMessageDescriptor *desc = msg->descriptor;
  // A field given under both of its names is a duplicate key too.
  uint8_t *seen = zalloc(desc->n_fields > 0 ? desc->n_fields : 1);
  CA_ENSURE_RETURN(seen != NULL, CA_ERR_NO_MEMORY, "out of memory");
  int ok = 0;
  const char *key;
  json_t *v;
  json_object_foreach((json_t *)obj, key, v) {
    const ProtobufCFieldDescriptor *f = find_field(desc, key);
    char shown[72];
    if (f == NULL) {
      printable(key, shown);
      CA_SET_ERROR(CA_ERR_JSON_UNKNOWN_FIELD, "%s%s%s has no field \"%s\"",
                   d->path, d->path_len > 0 ? ": " : "", desc->name, shown);
      goto done;
    }
    const size_t index = (size_t)(f - desc->fields);
    const size_t saved = push_name(d, key);
    if (seen[index]) {
      field_invalid(d, "given twice (as its JSON name and its .proto name)");
      goto done;
    }
    seen[index] = 1;
    if (!decode_field(d, f, v, msg)) {
      goto done;
    }
    pop_path(d, saved);
  }
  ok = 1;
done:
  OPENSSL_free(seen);
  return ok;
}

// --- Decoding: the document ---

// prescan refuses, before jansson builds anything, a document nested
// deeper than CA_LIMIT_JSON_DEPTH or holding more than CA_LIMIT_JSON_VALUES
// values: jansson's tree takes tens of bytes per value, so a body of small
// values would cost many times its size.
static int prescan(const uint8_t *json, size_t len) {
  size_t depth = 0, values = 1;
  int in_string = 0, escaped = 0;
  for (size_t i = 0; i < len; i++) {
    const uint8_t c = json[i];
    if (in_string) {
      if (escaped) {
        escaped = 0;
      } else if (c == '\\') {
        escaped = 1;
      } else if (c == '"') {
        in_string = 0;
      }
      continue;
    }
    if (c == '"') {
      in_string = 1;
    } else if (c == '{' || c == '[') {
      CA_ENSURE_RETURN(
          ++depth <= CA_LIMIT_JSON_DEPTH, CA_ERR_JSON_LIMIT_EXCEEDED,
          "JSON nested deeper than %d levels", CA_LIMIT_JSON_DEPTH);
      values++;
    } else if (c == '}' || c == ']') {
      depth -= depth > 0;
    } else if (c == ',') {
      values++;
    }
    CA_ENSURE_RETURN(values <= CA_LIMIT_JSON_VALUES, CA_ERR_JSON_LIMIT_EXCEEDED,
                     "JSON holds more than %d values", CA_LIMIT_JSON_VALUES);
  }
  return 1;
}

static json_t *parse(const uint8_t *json, size_t len) {
  CA_GUARD_RETURN(prescan(json, len));
  init_alloc();
  json_error_t jerr;
  // Duplicate keys are refused; so are NUL characters (the default), which
  // a C string would end at.
  json_t *root =
      json_loadb((const char *)json, len, JSON_REJECT_DUPLICATES, &jerr);
  if (root == NULL) {
    const int range = json_error_code(&jerr) == json_error_numeric_overflow;
    CA_SET_ERROR(range ? CA_ERR_JSON_FIELD_INVALID : CA_ERR_JSON_MALFORMED,
                 "JSON at line %d column %d: %s", jerr.line, jerr.column,
                 jerr.text);
    return NULL;
  }
  if (!json_is_object(root)) {
    json_decref(root);
    CA_SET_ERROR(CA_ERR_JSON_MALFORMED, "the JSON body is not an object");
    return NULL;
  }
  return root;
}

ProtobufCMessage *api_json_decode(const ProtobufCMessageDescriptor *desc,
                                  const uint8_t *json, size_t len) {
  json_t *root = parse(json, len);
  CA_GUARD_PTR_RETURN(root);
  ProtobufCMessage *msg = message_new(desc);
  decoder d = {.path = "", .path_len = 0};
  if (msg != NULL && !decode_message(&d, root, msg)) {
    api_json_message_free(msg);
    msg = NULL;
  }
  json_decref(root);
  return msg;
}

int api_json_to_protobuf(const ProtobufCMessageDescriptor *desc,
                         const uint8_t *json, size_t len, uint8_t **out,
                         size_t *out_len) {
  ProtobufCMessage *msg = api_json_decode(desc, json, len);
  CA_GUARD_PTR_RETURN(msg);
  const size_t n = protobuf_c_message_get_packed_size(msg);
  uint8_t *buf = OPENSSL_malloc(n > 0 ? n : 1);
  if (buf == NULL) {
    api_json_message_free(msg);
    CA_SET_ERROR(CA_ERR_NO_MEMORY, "out of memory");
    return 0;
  }
  (void)protobuf_c_message_pack(msg, buf);
  api_json_message_free(msg);
  *out = buf;
  *out_len = n;
  return 1;
}

// --- Encoding ---

// utf8_sequence returns the length of the UTF-8 sequence |s| starts with,
// or 0 when it is not well-formed (RFC 3629: no overlong forms, no
// surrogates, nothing past U+10FFFF).
static int utf8_sequence(const uint8_t *s, size_t n) {
  const uint8_t c = s[0];
  if (c < 0x80) {
    return 1;
  }
  size_t len;
  uint32_t cp;
  if (c >= 0xc2 && c <= 0xdf) {
    len = 2;
    cp = c & 0x1f;
  } else if (c >= 0xe0 && c <= 0xef) {
    len = 3;
    cp = c & 0x0f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    len = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (len > n) {
    return 0;
  }
  for (size_t i = 1; i < len; i++) {
    if ((s[i] & 0xc0) != 0x80) {
      return 0;
    }
    cp = cp << 6 | (s[i] & 0x3f);
  }
  if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
      (cp >= 0xd800 && cp <= 0xdfff)) {
    return 0;
  }
  return (int)len;
}

// encode_string makes a JSON string of |s|, each byte of it that is not
// UTF-8 replaced by U+FFFD.
static json_t *encode_string(const char *s) {
  const size_t n = strlen(s);
  size_t i = 0;
  while (i < n) {
    const int k = utf8_sequence((const uint8_t *)s + i, n - i);
    if (k == 0) {
      break;
    }
    i += (size_t)k;
  }
  if (i == n) {
    return json_stringn(s, n);
  }
  char *fixed = OPENSSL_malloc(3 * n + 1);
  if (fixed == NULL) {
    return NULL;
  }
  size_t m = 0;
  for (i = 0; i < n;) {
    const int k = utf8_sequence((const uint8_t *)s + i, n - i);
    if (k == 0) {
      memcpy(fixed + m, "\xef\xbf\xbd", 3);
      m += 3;
      i++;
    } else {
      memcpy(fixed + m, s + i, (size_t)k);
      m += (size_t)k;
      i += (size_t)k;
    }
  }
  json_t *j = json_stringn(fixed, m);
  OPENSSL_free(fixed);
  return j;
}

static json_t *encode_bytes(const ProtobufCBinaryData *b) {
  size_t n = 0;
  if (!EVP_EncodedLength(&n, b->len)) {
    return NULL;
  }
  uint8_t *text = OPENSSL_malloc(n);
  if (text == NULL) {
    return NULL;
  }
  const size_t len = EVP_EncodeBlock(text, b->data, b->len);
  json_t *j = json_stringn((const char *)text, len);
  OPENSSL_free(text);
  return j;
}

static json_t *encode_double(double x) {
  if (isnan(x)) {
    return json_string("NaN");
  }
  if (isinf(x)) {
    return json_string(x > 0 ? "Infinity" : "-Infinity");
  }
  return json_real(x);
}

static json_t *encode_64(int is_signed, uint64_t bits) {
  char text[24];
  if (is_signed) {
    snprintf(text, sizeof(text), "%lld", (long long)(int64_t)bits);
  } else {
    snprintf(text, sizeof(text), "%llu", (unsigned long long)bits);
  }
  return json_string(text);
}

static json_t *encode_message(const ProtobufCMessage *msg);

static json_t *encode_value(const ProtobufCFieldDescriptor *f, const void *p) {
  switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
      return json_integer(*(const int32_t *)p);
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
      return json_integer(*(const uint32_t *)p);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
      return encode_64(1, *(const uint64_t *)p);
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
      return encode_64(0, *(const uint64_t *)p);
    case PROTOBUF_C_TYPE_FLOAT:
      return encode_double(*(const float *)p);
    case PROTOBUF_C_TYPE_DOUBLE:
      return encode_double(*(const double *)p);
    case PROTOBUF_C_TYPE_BOOL:
      return json_boolean(*(const protobuf_c_boolean *)p);
    case PROTOBUF_C_TYPE_ENUM: {
      const int v = *(const int *)p;
      const ProtobufCEnumValue *e =
          protobuf_c_enum_descriptor_get_value(f->descriptor, v);
      return e != NULL ? json_string(e->name) : json_integer(v);
    }
    case PROTOBUF_C_TYPE_STRING: {
      const char *s = *(char *const *)p;
      return encode_string(s != NULL ? s : "");
    }
    case PROTOBUF_C_TYPE_BYTES:
      return encode_bytes(p);
    case PROTOBUF_C_TYPE_MESSAGE: {
      const ProtobufCMessage *sub = *(ProtobufCMessage *const *)p;
      return sub != NULL ? encode_message(sub) : json_object();
    }
  }
  return NULL;
}

// is_default says whether a proto3 field without presence holds its
// default, which the mapping leaves out (the same test protobuf-c makes
// before packing it).
static int is_default(const ProtobufCFieldDescriptor *f, const void *p) {
  switch (f->type) {
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
      return *(const uint64_t *)p == 0;
    case PROTOBUF_C_TYPE_DOUBLE:
      return *(const double *)p == 0;
    case PROTOBUF_C_TYPE_FLOAT:
      return *(const float *)p == 0;
    case PROTOBUF_C_TYPE_BOOL:
      return !*(const protobuf_c_boolean *)p;
    case PROTOBUF_C_TYPE_STRING: {
      const char *s = *(char *const *)p;
      return s == NULL || s[0] == '\0';
    }
    case PROTOBUF_C_TYPE_BYTES:
      return ((const ProtobufCBinaryData *)p)->len == 0;
    case PROTOBUF_C_TYPE_MESSAGE:
      return *(ProtobufCMessage *const *)p == NULL;
    default:  // the 32-bit integers and enums
      return *(const uint32_t *)p == 0;
  }
}

// is_present says whether the mapping writes |f| of |msg|.
static int is_present(const ProtobufCMessage *msg,
                      const ProtobufCFieldDescriptor *f) {
  const void *p = member(msg, f->offset);
  if (f->label == PROTOBUF_C_LABEL_REPEATED) {
    return *(const size_t *)member(msg, f->quantifier_offset) > 0;
  }
  if (is_oneof(f)) {
    return *(const uint32_t *)member(msg, f->quantifier_offset) == f->id;
  }
  if (f->label == PROTOBUF_C_LABEL_REQUIRED) {
    return 1;
  }
  if (has_flag(f)) {
    return *(const protobuf_c_boolean *)member(msg, f->quantifier_offset);
  }
  if (f->label == PROTOBUF_C_LABEL_OPTIONAL) {  // string or message
    return *(void *const *)p != NULL;
  }
  return !is_default(f, p);
}

static json_t *encode_repeated(const ProtobufCMessage *msg,
                               const ProtobufCFieldDescriptor *f) {
  const size_t n = *(const size_t *)member(msg, f->quantifier_offset);
  const uint8_t *arr = *(uint8_t *const *)member(msg, f->offset);
  const size_t size = element_size(f->type);
  json_t *a = json_array();
  for (size_t i = 0; a != NULL && i < n; i++) {
    if (json_array_append_new(a, encode_value(f, arr + i * size)) != 0) {
      json_decref(a);
      a = NULL;
    }
  }
  return a;
}

static json_t *encode_message(const ProtobufCMessage *msg) {
  const ProtobufCMessageDescriptor *desc = msg->descriptor;
  json_t *obj = json_object();
  for (unsigned i = 0; obj != NULL && i < desc->n_fields; i++) {
    const ProtobufCFieldDescriptor *f = &desc->fields[i];
    if (!is_present(msg, f)) {
      continue;
    }
    json_t *v = f->label == PROTOBUF_C_LABEL_REPEATED
                    ? encode_repeated(msg, f)
                    : encode_value(f, member(msg, f->offset));
    char name[128];
    api_json_field_name(f->name, name, sizeof(name));
    // json_object_set_new takes |v| even when it fails, and refuses NULL.
    if (v == NULL || json_object_set_new(obj, name, v) != 0) {
      json_decref(obj);
      obj = NULL;
    }
  }
  return obj;
}

int api_json_encode(const ProtobufCMessage *msg, uint8_t **out,
                    size_t *out_len) {
  init_alloc();
  json_t *root = encode_message(msg);
  CA_ENSURE_RETURN(root != NULL, CA_ERR_NO_MEMORY, "out of memory");
  // 17 significant digits: every double reads back as itself.
  const size_t flags = JSON_COMPACT | JSON_REAL_PRECISION(17);
  const size_t n = json_dumpb(root, NULL, 0, flags);
  uint8_t *buf = n > 0 ? OPENSSL_malloc(n + 1) : NULL;
  if (buf == NULL || json_dumpb(root, (char *)buf, n, flags) != n) {
    OPENSSL_free(buf);
    json_decref(root);
    CA_SET_ERROR(CA_ERR_NO_MEMORY, "out of memory");
    return 0;
  }
  json_decref(root);
  buf[n] = '\0';
  *out = buf;
  *out_len = n;
  return 1;
}
