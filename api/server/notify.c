#include "api/server/notify.h"

#include <inttypes.h>
#include <netinet/in.h>
#include <openssl/bytestring.h>
#include <openssl/mem.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "api/server/curl_lib.h"
#include "ca/x509/asn1_time.h"

// --- Text helpers ---

static int add_str(CBB *cbb, const char *s) {
  return CBB_add_bytes(cbb, (const uint8_t *)s, strlen(s));
}

static int add_fmt(CBB *cbb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int add_fmt(CBB *cbb, const char *fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  const int n = vsnprintf(buf, sizeof(buf), fmt, ap);
  va_end(ap);
  return n >= 0 && (size_t)n < sizeof(buf) &&
         CBB_add_bytes(cbb, (const uint8_t *)buf, (size_t)n);
}

// json_plain says whether byte |c| goes into a JSON string as it is.
static int json_plain(unsigned char c) {
  return c >= 0x20 && c != 0x7f && c != '"' && c != '\\';
}

// add_json_string writes |s| as a JSON string (RFC 8259 7): quotes,
// backslashes and control characters escaped; other bytes as they are
// (the database holds UTF-8). Runs of plain bytes are copied at once: a
// check at ten million certificates writes megabytes of these.
static int add_json_string(CBB *cbb, const char *s) {
  if (!CBB_add_u8(cbb, '"')) {
    return 0;
  }
  const unsigned char *p = (const unsigned char *)s;
  while (*p != '\0') {
    size_t run = 0;
    while (p[run] != '\0' && json_plain(p[run])) {
      run++;
    }
    if (run > 0 && !CBB_add_bytes(cbb, p, run)) {
      return 0;
    }
    p += run;
    if (*p == '\0') {
      break;
    }
    const int ok = (*p == '"' || *p == '\\')
                       ? CBB_add_u8(cbb, '\\') && CBB_add_u8(cbb, *p)
                       : add_fmt(cbb, "\\u%04x", *p);
    if (!ok) {
      return 0;
    }
    p++;
  }
  return CBB_add_u8(cbb, '"');
}

static int add_json_string_or_null(CBB *cbb, const char *s) {
  return s[0] == '\0' ? add_str(cbb, "null") : add_json_string(cbb, s);
}

// add_plain writes |s| with control characters replaced by '?'.
static int add_plain(CBB *cbb, const char *s) {
  const unsigned char *p = (const unsigned char *)s;
  while (*p != '\0') {
    size_t run = 0;
    while (p[run] >= 0x20 && p[run] != 0x7f) {
      run++;
    }
    if (run > 0 && !CBB_add_bytes(cbb, p, run)) {
      return 0;
    }
    p += run;
    if (*p != '\0') {
      if (!CBB_add_u8(cbb, '?')) {
        return 0;
      }
      p++;
    }
  }
  return 1;
}

static size_t count_selected(size_t n, const uint8_t *mask) {
  size_t count = 0;
  for (size_t i = 0; i < n; i++) {
    count += mask == NULL || mask[i];
  }
  return count;
}

int api_notify_json(const ca_expiring *rows, size_t n, const uint8_t *mask,
                    uint64_t window, uint32_t start_days, int64_t now,
                    uint8_t **out, size_t *out_len) {
  CBB cbb;
  char at[21];
  if (!ca_time_format(now, at) || !CBB_init(&cbb, 256 + n * 384)) {
    return 0;
  }
  int ok = add_fmt(&cbb,
                   "{\"event\":\"certificates_expiring\",\"checked_at\":\"%s\","
                   "\"window\":%" PRIu64
                   ",\"start_days\":%u,\"count\":%zu,"
                   "\"certificates\":[",
                   at, window, (unsigned)start_days, count_selected(n, mask));
  int first = 1;
  for (size_t i = 0; ok && i < n; i++) {
    if (mask != NULL && !mask[i]) {
      continue;
    }
    const ca_expiring *r = &rows[i];
    char na[21];
    const int64_t days = ca_monitor_days_left(now, r->not_after);
    ok = ca_time_format(r->not_after, na) &&
         add_str(&cbb, first ? "{\"kind\":" : ",{\"kind\":") &&
         add_json_string(&cbb, ca_expiring_kind(r)) &&
         add_str(&cbb, ",\"serial\":") && add_json_string(&cbb, r->serial) &&
         add_str(&cbb, ",\"issuer\":") && add_json_string(&cbb, r->issuer) &&
         add_str(&cbb, ",\"profile\":") &&
         add_json_string_or_null(&cbb, r->profile) &&
         add_str(&cbb, ",\"store\":") &&
         add_json_string_or_null(&cbb, r->store) &&
         add_str(&cbb, ",\"common_name\":") &&
         add_json_string(&cbb, r->common_name) &&
         add_str(&cbb, ",\"subject\":") && add_json_string(&cbb, r->subject) &&
         add_str(&cbb, ",\"cluster\":") &&
         add_json_string_or_null(&cbb, r->cluster) &&
         add_fmt(&cbb,
                 ",\"not_after\":\"%s\",\"days_left\":%" PRId64
                 ",\"expired\":%s%s}",
                 na, days, r->not_after <= now ? "true" : "false",
                 // Only a revoked entry or identity has the key, so that the
                 // objects of expiring certificates stay as they were.
                 r->revoked_at != 0 ? ",\"revoked\":true" : "");
    first = 0;
  }
  if (!ok || !add_str(&cbb, "]}\n") || !CBB_finish(&cbb, out, out_len)) {
    CBB_cleanup(&cbb);
    return 0;
  }
  return 1;
}

// rfc5322_date writes |now| as an RFC 5322 3.3 date-time in UTC.
static int rfc5322_date(int64_t now, char *out, size_t len) {
  const time_t t = (time_t)now;
  struct tm tm;
  return gmtime_r(&t, &tm) != NULL &&
         strftime(out, len, "%a, %d %b %Y %H:%M:%S +0000", &tm) > 0;
}

int api_notify_mail(const ca_monitor_config *config, const char *to,
                    const ca_expiring *rows, size_t n, const uint8_t *mask,
                    int64_t now, uint8_t **out, size_t *out_len) {
  CBB cbb;
  char date[64], at[21], id_hex[33];
  uint8_t id[16];
  const size_t count = count_selected(n, mask);
  size_t expired = 0;
  for (size_t i = 0; i < n; i++) {
    expired += (mask == NULL || mask[i]) && rows[i].not_after <= now;
  }
  if (!rfc5322_date(now, date, sizeof(date)) || !ca_time_format(now, at) ||
      !RAND_bytes(id, sizeof(id))) {
    return 0;
  }
  for (size_t i = 0; i < sizeof(id); i++) {
    snprintf(id_hex + 2 * i, 3, "%02x", id[i]);
  }
  // The Message-ID's right side is the sender's domain (RFC 5322 3.6.4).
  const char *domain = strrchr(config->smtp_from, '@');
  domain = domain != NULL ? domain + 1 : "localhost";
  if (!CBB_init(&cbb, 1024 + n * 256)) {
    return 0;
  }
  int ok =
      add_fmt(&cbb, "Date: %s\r\n", date) && add_str(&cbb, "From: ") &&
      add_plain(&cbb, config->smtp_from) && add_str(&cbb, "\r\nTo: ") &&
      add_plain(&cbb, to) &&
      add_fmt(&cbb, "\r\nMessage-ID: <%s.%" PRId64 "@", id_hex, now) &&
      add_plain(&cbb, domain) &&
      add_fmt(&cbb,
              ">\r\nSubject: [pki] %zu certificate%s expire%s within %u "
              "days or ha%s expired (%zu expired)\r\n",
              count, count == 1 ? "" : "s", count == 1 ? "s" : "",
              (unsigned)config->start_days, count == 1 ? "s" : "ve", expired) &&
      add_str(&cbb,
              "MIME-Version: 1.0\r\n"
              "Content-Type: text/plain; charset=utf-8\r\n"
              "Content-Transfer-Encoding: 8bit\r\n"
              "Auto-Submitted: auto-generated\r\n\r\n") &&
      add_fmt(&cbb,
              "pki checked at %s: these certificates expire within %u days "
              "or have expired.\r\n\r\n",
              at, (unsigned)config->start_days);
  for (size_t i = 0; ok && i < n; i++) {
    if (mask != NULL && !mask[i]) {
      continue;
    }
    const ca_expiring *r = &rows[i];
    char na[21];
    const int64_t days = ca_monitor_days_left(now, r->not_after);
    char ra[21] = "";
    ok = ca_time_format(r->not_after, na) && add_str(&cbb, "- ") &&
         add_plain(&cbb, r->common_name) &&
         (r->revoked_at != 0
              ? ca_time_format(r->revoked_at, ra) &&
                    add_fmt(&cbb,
                            ": REVOKED %s (pki's revocation check), %s\r\n", ra,
                            r->external ? "still registered: replace it"
                                        : "still trusted: remove it")
          : r->not_after <= now
              ? add_fmt(&cbb, ": EXPIRED %s (%" PRId64 " days ago)\r\n", na,
                        -days)
              : add_fmt(&cbb, ": expires %s (%" PRId64 " days left)\r\n", na,
                        days)) &&
         add_str(&cbb, r->trust ? "    trust store "
                       : r->external
                           ? "    external (not issued by pki), purpose "
                           : "    profile ") &&
         add_plain(&cbb, r->trust ? r->store : r->profile) &&
         add_str(&cbb, ", serial ") && add_plain(&cbb, r->serial) &&
         add_str(&cbb, ", issuer ") &&
         add_plain(&cbb, r->issuer[0] != '\0' ? r->issuer : "(self-signed)") &&
         (r->cluster[0] == '\0' ||
          (add_str(&cbb, ", cluster ") && add_plain(&cbb, r->cluster))) &&
         add_str(&cbb, "\r\n    subject ") && add_plain(&cbb, r->subject) &&
         add_str(&cbb, "\r\n");
  }
  if (!ok ||
      !add_str(&cbb,
               "\r\nRenew them (pkictl issue, or the node's certificate "
               "page) before they expire.\r\n") ||
      !CBB_finish(&cbb, out, out_len)) {
    CBB_cleanup(&cbb);
    return 0;
  }
  return 1;
}

// --- Sending ---

static size_t discard(char *ptr, size_t size, size_t n, void *arg) {
  (void)ptr;
  (void)arg;
  return size * n;
}

typedef struct upload {
  const uint8_t *data;
  size_t len, off;
} upload;

static size_t read_upload(char *ptr, size_t size, size_t n, void *arg) {
  upload *u = arg;
  size_t room = size * n;
  size_t left = u->len - u->off;
  const size_t take = left < room ? left : room;
  memcpy(ptr, u->data + u->off, take);
  u->off += take;
  return take;
}

static void common_options(CURL *curl, char *errbuf) {
  api_curl.curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  api_curl.curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT,
                            (long)API_NOTIFY_CONNECT_TIMEOUT_S);
  api_curl.curl_easy_setopt(curl, CURLOPT_TIMEOUT, (long)API_NOTIFY_TIMEOUT_S);
  api_curl.curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
}

// What the open-socket callback checks each address against, and why it
// refused the last one it refused.
typedef struct connect_guard {
  int allow_private;
  const api_webhook_self *self;
  char why[200];
} connect_guard;

// open_checked is libcurl's CURLOPT_OPENSOCKETFUNCTION: the address it is
// about to connect to, after any resolution (so a name rebound to a
// refused address between two lookups is still refused), must pass
// api_webhook_address_allowed; else no socket, and libcurl tries the next
// address or fails.
static curl_socket_t open_checked(void *arg, curlsocktype purpose,
                                  struct curl_sockaddr *address) {
  connect_guard *guard = arg;
  struct sockaddr_storage ss;
  if (purpose != CURLSOCKTYPE_IPCXN || address->addrlen > sizeof(ss)) {
    snprintf(guard->why, sizeof(guard->why), "unexpected socket");
    return CURL_SOCKET_BAD;
  }
  memset(&ss, 0, sizeof(ss));
  memcpy(&ss, &address->addr, address->addrlen);
  if (!api_webhook_address_allowed((const struct sockaddr *)&ss,
                                   guard->allow_private, guard->self,
                                   guard->why, sizeof(guard->why))) {
    return CURL_SOCKET_BAD;
  }
  const int fd = socket(address->family, address->socktype, address->protocol);
  return fd >= 0 ? fd : CURL_SOCKET_BAD;
}

int api_notify_webhook(const char *url, int allow_private,
                       const api_webhook_self *self, const uint8_t *body,
                       size_t len) {
  CURL *curl = NULL;
  struct curl_slist *headers = NULL;
  char errbuf[CURL_ERROR_SIZE] = "";
  api_webhook_url target = {NULL};
  connect_guard guard = {allow_private, self, ""};
  CA_GUARD(api_webhook_open(url, &target));
  curl = api_curl.curl_easy_init();
  CA_ENSURE_ALLOC(curl);
  headers = api_curl.curl_slist_append(NULL, "Content-Type: application/json");
  CA_ENSURE_ALLOC(headers);
  // No "Expect: 100-continue", which libcurl adds to a body of 1 MiB or
  // more and then waits a second for: a receiver that does not answer it
  // (many do not) cost every large notice that second.
  struct curl_slist *more = api_curl.curl_slist_append(headers, "Expect:");
  CA_ENSURE_ALLOC(more);
  headers = more;
  common_options(curl, errbuf);
  // The URL as read and checked (api/server/webhook.h), not read again.
  api_curl.curl_easy_setopt(curl, CURLOPT_CURLU, target.handle);
  api_curl.curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  api_curl.curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  // Straight to the webhook's address, never through a proxy named by the
  // environment: the address checked must be the one connected to.
  api_curl.curl_easy_setopt(curl, CURLOPT_PROXY, "");
  api_curl.curl_easy_setopt(curl, CURLOPT_OPENSOCKETFUNCTION, open_checked);
  api_curl.curl_easy_setopt(curl, CURLOPT_OPENSOCKETDATA, &guard);
  api_curl.curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  api_curl.curl_easy_setopt(curl, CURLOPT_USERAGENT, "pki-expiry-monitor");
  api_curl.curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
  api_curl.curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)len);
  api_curl.curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
  const CURLcode rc = api_curl.curl_easy_perform(curl);
  // libcurl's message names the host and port; one that quotes a secret
  // part of the URL is replaced by the code's generic text.
  const char *what =
      errbuf[0] != '\0' && !api_webhook_mentions_secret(&target, errbuf)
          ? errbuf
          : api_curl.curl_easy_strerror(rc);
  CA_ENSURE(rc != CURLE_COULDNT_CONNECT || guard.why[0] == '\0',
            CA_ERR_NOTIFY_FAILED, "not connected: %s", guard.why);
  CA_ENSURE(rc == CURLE_OK, CA_ERR_NOTIFY_FAILED, "%s", what);
  long status = 0;
  api_curl.curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  CA_ENSURE(status >= 200 && status < 300, CA_ERR_NOTIFY_FAILED,
            "the webhook answered HTTP %ld", status);
  api_curl.curl_slist_free_all(headers);
  api_curl.curl_easy_cleanup(curl);
  api_webhook_url_cleanup(&target);
  return 1;
err:
  if (headers != NULL) {
    api_curl.curl_slist_free_all(headers);
  }
  if (curl != NULL) {
    api_curl.curl_easy_cleanup(curl);
  }
  api_webhook_url_cleanup(&target);
  return 0;
}

int api_notify_send_mail(const ca_monitor_config *config, const char *to,
                         const uint8_t *message, size_t len) {
  CURL *curl = NULL;
  struct curl_slist *rcpt = NULL;
  char errbuf[CURL_ERROR_SIZE] = "";
  char url[320], from[CA_LIMIT_EMAIL_LEN + 3],
      rcpt_text[CA_LIMIT_EMAIL_LEN + 3];
  snprintf(url, sizeof(url), "smtp://%s:%u", config->smtp_host,
           (unsigned)config->smtp_port);
  snprintf(from, sizeof(from), "<%s>", config->smtp_from);
  snprintf(rcpt_text, sizeof(rcpt_text), "<%s>", to);
  upload u = {message, len, 0};
  CA_GUARD(api_curl_load());
  curl = api_curl.curl_easy_init();
  CA_ENSURE_ALLOC(curl);
  rcpt = api_curl.curl_slist_append(NULL, rcpt_text);
  CA_ENSURE_ALLOC(rcpt);
  common_options(curl, errbuf);
  api_curl.curl_easy_setopt(curl, CURLOPT_URL, url);
  api_curl.curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp");
  // STARTTLS when the server offers it; a relay on the same host often
  // does not.
  api_curl.curl_easy_setopt(curl, CURLOPT_USE_SSL, (long)CURLUSESSL_TRY);
  api_curl.curl_easy_setopt(curl, CURLOPT_MAIL_FROM, from);
  api_curl.curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt);
  api_curl.curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_upload);
  api_curl.curl_easy_setopt(curl, CURLOPT_READDATA, &u);
  api_curl.curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
  const CURLcode rc = api_curl.curl_easy_perform(curl);
  CA_ENSURE(rc == CURLE_OK, CA_ERR_NOTIFY_FAILED, "%s",
            errbuf[0] != '\0' ? errbuf : api_curl.curl_easy_strerror(rc));
  api_curl.curl_slist_free_all(rcpt);
  api_curl.curl_easy_cleanup(curl);
  return 1;
err:
  if (rcpt != NULL) {
    api_curl.curl_slist_free_all(rcpt);
  }
  if (curl != NULL) {
    api_curl.curl_easy_cleanup(curl);
  }
  return 0;
}
