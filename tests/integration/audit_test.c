// GET /v1/audit and pkictl audit against a real pkid and PostgreSQL: the
// rows of an issuance, a revocation and a token creation appear, newest
// first; each filter narrows to what the database itself selects; pages of
// a few rows walk hundreds of rows (several sharing a microsecond-precise
// time) with no gap and no duplicate, in protobuf and in JSON; a non-admin
// is refused; bad filters get their codes; the read adds no audit row.
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "proto/pki.pb-c.h"
#include "tests/integration/harness.h"
#include "tests/support/test.h"

static it_db db;
static it_pkid pkid;
static char work[512];
static char serial[80];          // issued, then revoked, by the first test
static char revoker_token[128];  // made by the first test
static char revoker_actor[128];  // how the audit log names it

// Rows the paging tests add straight to audit_log (an INSERT, as pki's
// own writes are): 250 of test.page and 50 of test.other, three to a
// time, the times a microsecond off whole seconds.
#define PAGE_ROWS 250
#define OTHER_ROWS 50

// read_file reads WORK/|name| whole (NUL-terminated; free it), or NULL.
static char *read_file(const char *name) {
  char path[700];
  snprintf(path, sizeof(path), "%s/%s", work, name);
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    return NULL;
  }
  size_t cap = 4096, len = 0;
  char *buf = malloc(cap);
  while (buf != NULL) {
    const size_t n = fread(buf + len, 1, cap - len - 1, f);
    len += n;
    if (n == 0) {
      break;
    }
    if (cap - len < 2) {
      char *grown = realloc(buf, cap * 2);
      if (grown == NULL) {
        free(buf);
        buf = NULL;
        break;
      }
      buf = grown;
      cap *= 2;
    }
  }
  fclose(f);
  if (buf != NULL) {
    buf[len] = '\0';
  }
  return buf;
}

// get_json GETs |path| with curl, Accept: application/json, as |token|
// (NULL: the harness's admin; "" for none). It returns the HTTP status and
// the body parsed in |*out| (NULL when it is not JSON; json_decref it).
static int get_json(const char *path, const char *token, json_t **out) {
  char cmd[4096], auth[1600];
  if (token == NULL) {
    snprintf(auth, sizeof(auth), "%s", pkid.curl);
  } else if (token[0] == '\0') {
    snprintf(auth, sizeof(auth), "-sS --cacert %s", pkid.cacert);
  } else {
    snprintf(auth, sizeof(auth),
             "-sS --cacert %s -H 'Authorization: Bearer %s'", pkid.cacert,
             token);
  }
  snprintf(cmd, sizeof(cmd),
           "curl %s -H 'Accept: application/json' -o %s/body.json"
           " -w '%%{http_code}' '%s%s' > %s/status",
           auth, work, pkid.server, path, work);
  *out = NULL;
  CHECK_EQ_INT(it_run(cmd), 0);
  char *status = read_file("status");
  char *body = read_file("body.json");
  const int code = status != NULL ? atoi(status) : 0;
  if (body != NULL) {
    json_error_t err;
    *out = json_loads(body, JSON_REJECT_DUPLICATES, &err);
  }
  free(status);
  free(body);
  return code;
}

static const char *str_at(const json_t *obj, const char *key) {
  const char *v = json_string_value(json_object_get(obj, key));
  return v != NULL ? v : "";
}

// get_pb GETs |path| as the harness's admin in protobuf. It returns the
// page (free with ..._free_unpacked) on 200, else NULL with the error's
// code in |code|.
static Pki__V1__ListAuditEventsResponse *get_pb(const char *path, char *code,
                                                size_t code_len) {
  code[0] = '\0';
  pki_client *client = it_client(&pkid);
  CHECK(client != NULL);
  if (client == NULL) {
    return NULL;
  }
  pki_reply reply;
  memset(&reply, 0, sizeof(reply));
  Pki__V1__ListAuditEventsResponse *page = NULL;
  CHECK(pki_client_call(client, "GET", path, NULL, NULL, 0, &reply));
  if (reply.status == 200) {
    CHECK_EQ_STR(reply.content_type, "application/x-protobuf");
    page = pki__v1__list_audit_events_response__unpack(NULL, reply.body_len,
                                                       reply.body);
    CHECK(page != NULL);
  } else {
    char message[256];
    pki_reply_error(&reply, code, code_len, message, sizeof(message));
  }
  pki_reply_cleanup(&reply);
  pki_client_free(client);
  return page;
}

// db_count counts the rows of audit_log WHERE |where| ($1 = |param|).
static long long db_count(const char *where, const char *param) {
  char sql[512];
  snprintf(sql, sizeof(sql), "SELECT count(*) FROM audit_log WHERE %s", where);
  return it_db_int(&db, sql, param);
}

// pkictl runs pkictl with |args| as the harness's admin, its stdout to
// WORK/out and its stderr to WORK/err, and returns its exit status.
static int pkictl(const char *args) {
  char cmd[4096];
  snprintf(cmd, sizeof(cmd), "api/pkictl %s %s > %s/out 2> %s/err", pkid.ctl,
           args, work, work);
  return it_run(cmd);
}

// first_line_of copies the first line of WORK/|name| into |out|.
static void first_line_of(const char *name, char *out, size_t len) {
  char *text = read_file(name);
  snprintf(out, len, "%s", text != NULL ? text : "");
  out[strcspn(out, "\r\n")] = '\0';
  free(text);
}

// find_event returns the first event of |events| with |action| and
// |object| (NULL: any), or NULL.
static const json_t *find_event(const json_t *events, const char *action,
                                const char *object) {
  for (size_t i = 0; i < json_array_size(events); i++) {
    const json_t *e = json_array_get(events, i);
    if (strcmp(str_at(e, "action"), action) == 0 &&
        (object == NULL || strcmp(str_at(e, "object"), object) == 0)) {
      return e;
    }
  }
  return NULL;
}

TEST(issuance_revocation_and_tokens_appear_newest_first) {
  char dir[700], args[1200];
  snprintf(dir, sizeof(dir), "%s/keys", work);
  snprintf(args, sizeof(args),
           "keygen --profile tomcat --cn audit1.example.com --out-dir %s", dir);
  CHECK_EQ_INT(pkictl(args), 0);
  PGresult *res =
      it_db_query(&db, "SELECT serial FROM certificates WHERE common_name = $1",
                  "audit1.example.com", NULL);
  CHECK(res != NULL && PQntuples(res) == 1);
  if (res != NULL && PQntuples(res) == 1) {
    snprintf(serial, sizeof(serial), "%s", PQgetvalue(res, 0, 0));
  }
  PQclear(res);
  snprintf(args, sizeof(args), "revoke %s --reason keyCompromise", serial);
  CHECK_EQ_INT(pkictl(args), 0);
  CHECK_EQ_INT(pkictl("token create --role revoker --name audit-revoker"), 0);
  first_line_of("out", revoker_token, sizeof(revoker_token));
  CHECK(strncmp(revoker_token, "pki_", 4) == 0);

  json_t *page = NULL;
  CHECK_EQ_INT(get_json("/v1/audit?limit=20", NULL, &page), 200);
  const json_t *events = json_object_get(page, "events");
  CHECK(json_array_size(events) >= 3);
  // Newest first: the token, then the revocation, then the issuance.
  const json_t *first = json_array_get(events, 0);
  CHECK_EQ_STR(str_at(first, "action"), "token.create");
  CHECK(strstr(str_at(first, "detail"), "name=audit-revoker") != NULL);
  CHECK(strncmp(str_at(first, "object"), "token:", 6) == 0);
  const json_t *revoke = find_event(events, "revoke", serial);
  CHECK(revoke != NULL);
  CHECK(find_event(events, "issue", NULL) != NULL);
  // proto3 JSON: int64 as strings, lowerCamel names; who, from where.
  CHECK(json_is_string(json_object_get(first, "at")));
  CHECK(json_is_string(json_object_get(first, "id")));
  CHECK(strncmp(str_at(first, "actor"), "token:", 6) == 0);
  CHECK(strstr(str_at(first, "source"), "127.0.0.1") != NULL);
  CHECK_EQ_STR(str_at(first, "outcome"), "ok");
  // Every row of the page in (at, id) order, newest first.
  for (size_t i = 1; i < json_array_size(events); i++) {
    const json_t *a = json_array_get(events, i - 1),
                 *b = json_array_get(events, i);
    const long long at_a = atoll(str_at(a, "at")),
                    at_b = atoll(str_at(b, "at"));
    CHECK(at_a > at_b ||
          (at_a == at_b && atoll(str_at(a, "id")) > atoll(str_at(b, "id"))));
  }
  json_decref(page);

  // The revoker revokes a second certificate: its own actor.
  snprintf(args, sizeof(args),
           "keygen --profile tomcat --cn audit2.example.com --out-dir %s", dir);
  CHECK_EQ_INT(pkictl(args), 0);
  res =
      it_db_query(&db, "SELECT serial FROM certificates WHERE common_name = $1",
                  "audit2.example.com", NULL);
  CHECK(res != NULL && PQntuples(res) == 1);
  char serial2[80] = "";
  if (res != NULL && PQntuples(res) == 1) {
    snprintf(serial2, sizeof(serial2), "%s", PQgetvalue(res, 0, 0));
  }
  PQclear(res);
  char cmd[4096];
  snprintf(cmd, sizeof(cmd),
           "api/pkictl --server %s --cacert %s --token %s revoke %s --reason"
           " superseded > /dev/null",
           pkid.server, pkid.cacert, revoker_token, serial2);
  CHECK_EQ_INT(it_run(cmd), 0);
  res = it_db_query(&db,
                    "SELECT actor FROM audit_log WHERE object = $1 AND"
                    " action = 'revoke'",
                    serial2, NULL);
  CHECK(res != NULL && PQntuples(res) == 1);
  if (res != NULL && PQntuples(res) == 1) {
    snprintf(revoker_actor, sizeof(revoker_actor), "%s", PQgetvalue(res, 0, 0));
  }
  PQclear(res);
  CHECK(strstr(revoker_actor, "audit-revoker") != NULL);
}

// expect_count GETs |path| (a filter and limit=1000) in JSON and checks
// that it finds as many rows as the database's WHERE |where| ($1 =
// |param|), each with |field| beginning with |want_prefix| (|field| NULL:
// not checked).
static void expect_count(const char *path, const char *where, const char *param,
                         const char *field, const char *want_prefix) {
  json_t *page = NULL;
  CHECK_EQ_INT(get_json(path, NULL, &page), 200);
  const json_t *events = json_object_get(page, "events");
  const long long want = db_count(where, param);
  CHECK(want > 0);
  if ((long long)json_array_size(events) != want) {
    fprintf(stderr, "%s: %zu events, the database has %lld\n", path,
            json_array_size(events), want);
  }
  CHECK_EQ_INT((long long)json_array_size(events), want);
  for (size_t i = 0; field != NULL && i < json_array_size(events); i++) {
    CHECK(strncmp(str_at(json_array_get(events, i), field), want_prefix,
                  strlen(want_prefix)) == 0);
  }
  json_decref(page);
}

TEST(each_filter_narrows_as_the_database_does) {
  char path[1024];
  // Actor: the revoker did one thing.
  snprintf(path, sizeof(path), "/v1/audit?limit=1000&actor=%s", revoker_actor);
  expect_count(path, "actor = $1", revoker_actor, "actor", revoker_actor);
  json_t *page = NULL;
  CHECK_EQ_INT(get_json(path, NULL, &page), 200);
  CHECK_EQ_INT(json_array_size(json_object_get(page, "events")), 1);
  json_decref(page);
  // Action, exact and by prefix.
  expect_count("/v1/audit?limit=1000&action=revoke", "action = 'revoke'", NULL,
               "action", "revoke");
  expect_count("/v1/audit?limit=1000&action=token.*", "action LIKE 'token.%'",
               NULL, "action", "token.");
  expect_count("/v1/audit?limit=1000&action=iss*", "action LIKE 'iss%'", NULL,
               "action", "iss");
  // Object: the first certificate's history.
  snprintf(path, sizeof(path), "/v1/audit?limit=1000&object=%s", serial);
  expect_count(path, "object = $1", serial, "object", serial);
  // Outcome, and outcome with action.
  expect_count("/v1/audit?limit=1000&outcome=ok", "outcome = 'ok'", NULL,
               "outcome", "ok");
  expect_count("/v1/audit?limit=1000&outcome=ok&action=revoke",
               "outcome = 'ok' AND action = 'revoke'", NULL, "action",
               "revoke");
  // Nothing matches: an empty page, no cursor.
  CHECK_EQ_INT(get_json("/v1/audit?action=no.such.action", NULL, &page), 200);
  CHECK_EQ_INT(json_array_size(json_object_get(page, "events")), 0);
  CHECK(json_object_get(page, "nextCursor") == NULL);
  json_decref(page);
}

// add_rows inserts the rows of the paging tests: row i of 300 is
// test.other when i % 6 == 5, else test.page; its time is 2020-01-01 plus
// (i / 3) times 1.000001 s, so that three rows share each time and times
// carry microseconds.
static void add_rows(void) {
  PGresult *res = it_db_query(
      &db,
      "INSERT INTO audit_log (at, actor, action, object, source, outcome,"
      " detail) SELECT timestamptz '2020-01-01 00:00:00+00'"
      " + (i / 3) * interval '1.000001 second', 'token:0:pager',"
      " CASE WHEN i % 6 = 5 THEN 'test.other' ELSE 'test.page' END,"
      " 'row:' || i, '192.0.2.1', CASE WHEN i % 2 = 0 THEN 'ok' ELSE"
      " 'refused' END, 'i=' || i FROM generate_series(0, 299) AS g(i)",
      NULL, NULL);
  CHECK(res != NULL);
  PQclear(res);
  CHECK_EQ_INT(db_count("action = 'test.page'", NULL), PAGE_ROWS);
  CHECK_EQ_INT(db_count("action = 'test.other'", NULL), OTHER_ROWS);
}

// db_ids writes the ids of the rows WHERE |where|, newest first, as
// "id,id,...," into |out|.
static void db_ids(const char *where, char *out, size_t len) {
  char sql[512];
  snprintf(sql, sizeof(sql),
           "SELECT string_agg(id::text || ',', '' ORDER BY at DESC, id DESC)"
           " FROM audit_log WHERE %s",
           where);
  PGresult *res = it_db_query(&db, sql, NULL, NULL);
  CHECK(res != NULL && PQntuples(res) == 1);
  snprintf(out, len, "%s", res != NULL ? PQgetvalue(res, 0, 0) : "");
  PQclear(res);
}

// Each walk appends ids as "id," to a buffer of this size.
#define IDS_LEN (400 * 24)

TEST(pages_in_protobuf_walk_every_row_once) {
  add_rows();
  static char got[IDS_LEN], want[IDS_LEN];
  got[0] = '\0';
  char cursor[128] = "", path[512], code[64];
  size_t pages = 0, rows = 0;
  for (;;) {
    snprintf(path, sizeof(path), "/v1/audit?action=test.*&limit=7%s%s",
             cursor[0] != '\0' ? "&cursor=" : "", cursor);
    Pki__V1__ListAuditEventsResponse *page = get_pb(path, code, sizeof(code));
    CHECK(page != NULL);
    if (page == NULL) {
      fprintf(stderr, "page %zu refused: %s\n", pages, code);
      return;
    }
    pages++;
    for (size_t i = 0; i < page->n_events; i++) {
      const size_t used = strlen(got);
      snprintf(got + used, sizeof(got) - used, "%lld,",
               (long long)page->events[i]->id);
      CHECK(strncmp(page->events[i]->action, "test.", 5) == 0);
      rows++;
    }
    // A page with a successor is full.
    CHECK(page->next_cursor[0] == '\0' || page->n_events == 7);
    snprintf(cursor, sizeof(cursor), "%s", page->next_cursor);
    pki__v1__list_audit_events_response__free_unpacked(page, NULL);
    if (cursor[0] == '\0' || pages > 100) {
      break;
    }
  }
  CHECK_EQ_INT(rows, PAGE_ROWS + OTHER_ROWS);
  CHECK_EQ_INT(pages, (PAGE_ROWS + OTHER_ROWS + 6) / 7);
  db_ids("action LIKE 'test.%'", want, sizeof(want));
  CHECK_EQ_STR(got, want);
}

TEST(pages_in_json_walk_every_row_once) {
  static char got[IDS_LEN], want[IDS_LEN];
  got[0] = '\0';
  char cursor[128] = "", path[512];
  size_t pages = 0, rows = 0;
  for (;;) {
    snprintf(path, sizeof(path),
             "/v1/audit?action=test.page&outcome=ok&limit=13%s%s",
             cursor[0] != '\0' ? "&cursor=" : "", cursor);
    json_t *page = NULL;
    CHECK_EQ_INT(get_json(path, NULL, &page), 200);
    if (page == NULL) {
      return;
    }
    pages++;
    const json_t *events = json_object_get(page, "events");
    for (size_t i = 0; i < json_array_size(events); i++) {
      const size_t used = strlen(got);
      snprintf(got + used, sizeof(got) - used, "%s,",
               str_at(json_array_get(events, i), "id"));
      rows++;
    }
    snprintf(cursor, sizeof(cursor), "%s", str_at(page, "nextCursor"));
    json_decref(page);
    if (cursor[0] == '\0' || pages > 100) {
      break;
    }
  }
  db_ids("action = 'test.page' AND outcome = 'ok'", want, sizeof(want));
  CHECK_EQ_STR(got, want);
  CHECK_EQ_INT(rows, db_count("action = 'test.page' AND outcome = 'ok'", NULL));
  CHECK(pages > 1);
}

TEST(since_and_until_bound_the_times) {
  // Times of rows 30 to 59: 2020-01-01T00:00:10.00001Z to
  // 00:00:19.000019Z; since counts whole seconds from 10, until stops
  // before 20.
  json_t *page = NULL;
  CHECK_EQ_INT(get_json("/v1/audit?action=test.*&since=2020-01-01T00:00:10Z"
                        "&until=2020-01-01T00:00:20Z&limit=1000",
                        NULL, &page),
               200);
  const json_t *events = json_object_get(page, "events");
  CHECK_EQ_INT(json_array_size(events), 30);
  CHECK_EQ_STR(str_at(json_array_get(events, 0), "object"), "row:59");
  CHECK_EQ_STR(str_at(json_array_get(events, 29), "object"), "row:30");
  json_decref(page);
  // Unix seconds and dates, as the database counts them.
  CHECK_EQ_INT(get_json("/v1/audit?since=1577836800&until=2020-01-02"
                        "&limit=1000",
                        NULL, &page),
               200);
  CHECK_EQ_INT(
      json_array_size(json_object_get(page, "events")),
      db_count(
          "at >= '2020-01-01 00:00:00+00' AND at < '2020-01-02 00:00:00+00'",
          NULL));
  json_decref(page);
  CHECK_EQ_INT(get_json("/v1/audit?until=2020-01-01", NULL, &page), 200);
  CHECK_EQ_INT(json_array_size(json_object_get(page, "events")), 0);
  json_decref(page);
}

// expect_refused GETs |path| in JSON and in protobuf and checks the status
// and code of both answers.
static void expect_refused(const char *path, int status, const char *code) {
  json_t *err = NULL;
  CHECK_EQ_INT(get_json(path, NULL, &err), status);
  CHECK_EQ_STR(str_at(err, "code"), code);
  CHECK(strlen(str_at(err, "message")) > 0);
  json_decref(err);
  char pb_code[64];
  CHECK(get_pb(path, pb_code, sizeof(pb_code)) == NULL);
  CHECK_EQ_STR(pb_code, code);
}

TEST(bad_filters_are_refused_with_their_codes) {
  expect_refused("/v1/audit?since=yesterday", 400, "AUDIT_TIME_INVALID");
  expect_refused("/v1/audit?until=2026-02-30", 400, "AUDIT_TIME_INVALID");
  expect_refused("/v1/audit?since=2026-01-02&until=2026-01-01", 400,
                 "AUDIT_TIME_INVALID");
  expect_refused("/v1/audit?limit=0", 400, "AUDIT_LIMIT_INVALID");
  expect_refused("/v1/audit?limit=1001", 400, "AUDIT_LIMIT_INVALID");
  expect_refused("/v1/audit?limit=ten", 400, "AUDIT_LIMIT_INVALID");
  expect_refused("/v1/audit?cursor=abc", 400, "AUDIT_CURSOR_INVALID");
  expect_refused("/v1/audit?cursor=999999999999999999.1", 400,
                 "AUDIT_CURSOR_INVALID");
  expect_refused("/v1/audit?action=to*ken", 400, "AUDIT_FILTER_INVALID");
  expect_refused("/v1/audit?actor=a%00b", 400, "PARAMETER_INVALID");
  // The message says what is wrong.
  json_t *err = NULL;
  CHECK_EQ_INT(get_json("/v1/audit?limit=5000", NULL, &err), 400);
  CHECK(strstr(str_at(err, "message"), "1 to 1000") != NULL);
  json_decref(err);
}

TEST(only_admins_read_it_and_reading_is_not_audited) {
  json_t *err = NULL;
  CHECK_EQ_INT(get_json("/v1/audit", revoker_token, &err), 403);
  CHECK_EQ_STR(str_at(err, "code"), "FORBIDDEN");
  json_decref(err);
  CHECK_EQ_INT(get_json("/v1/audit", "", &err), 401);
  CHECK_EQ_STR(str_at(err, "code"), "UNAUTHENTICATED");
  json_decref(err);
  const long long before = db_count("true", NULL);
  json_t *page = NULL;
  CHECK_EQ_INT(get_json("/v1/audit?limit=5", NULL, &page), 200);
  json_decref(page);
  CHECK_EQ_INT(db_count("true", NULL), before);
}

TEST(pkictl_audit_prints_a_table_pages_and_json) {
  char args[512];
  snprintf(args, sizeof(args), "audit --action revoke --object %s", serial);
  CHECK_EQ_INT(pkictl(args), 0);
  char *out = read_file("out");
  CHECK(out != NULL && strstr(out, "ACTION") != NULL &&
        strstr(out, serial) != NULL && strstr(out, "revoke") != NULL);
  free(out);
  // One page of 100 of 250, then the hint on stderr.
  CHECK_EQ_INT(pkictl("audit --action test.page --limit 100"), 0);
  char *err = read_file("err");
  CHECK(err != NULL && strstr(err, "more: add --cursor ") != NULL);
  free(err);
  // --all --json: every page merged into one answer.
  CHECK_EQ_INT(pkictl("audit --action test.* --limit 64 --all --json"), 0);
  out = read_file("out");
  json_error_t jerr;
  json_t *all = out != NULL ? json_loads(out, 0, &jerr) : NULL;
  CHECK(all != NULL);
  CHECK_EQ_INT(json_array_size(json_object_get(all, "events")),
               PAGE_ROWS + OTHER_ROWS);
  json_decref(all);
  free(out);
  // The global --json, and the API's refusal as the JSON answer.
  char cmd[4096];
  snprintf(cmd, sizeof(cmd),
           "api/pkictl %s --json audit --since yesterday > %s/out 2>/dev/null",
           pkid.ctl, work);
  CHECK(it_run(cmd) != 0);
  out = read_file("out");
  json_t *refusal = out != NULL ? json_loads(out, 0, &jerr) : NULL;
  CHECK_EQ_STR(str_at(refusal, "code"), "AUDIT_TIME_INVALID");
  json_decref(refusal);
  free(out);
  CHECK(pkictl("audit --limit 0") != 0);
  err = read_file("err");
  CHECK(err != NULL && strstr(err, "AUDIT_LIMIT_INVALID") != NULL);
  free(err);
}

int main(void) {
  it_db_create(&db);
  char dir[512];
  it_tmpdir("audit", dir, sizeof(dir));
  it_tmpdir("audit-work", work, sizeof(work));
  mkdir(work, 0700);
  if (!it_pkid_start(&pkid, &db, dir, NULL)) {
    it_db_drop(&db);
    return 1;
  }
  RUN(issuance_revocation_and_tokens_appear_newest_first);
  RUN(each_filter_narrows_as_the_database_does);
  RUN(pages_in_protobuf_walk_every_row_once);
  RUN(pages_in_json_walk_every_row_once);
  RUN(since_and_until_bound_the_times);
  RUN(bad_filters_are_refused_with_their_codes);
  RUN(only_admins_read_it_and_reading_is_not_audited);
  RUN(pkictl_audit_prints_a_table_pages_and_json);
  CHECK_EQ_INT(it_pkid_stop(&pkid), 0);
  it_db_drop(&db);
  return test_summary();
}
