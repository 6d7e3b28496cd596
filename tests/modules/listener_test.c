// ca/store/listener.c against a real PostgreSQL: notifications of the
// subscribed channels delivered in order and within a second
// (ARCHITECTURE.md invariant 6), others not; on_state(1) before
// ca_listener_start returns; on_state(0) when its connection is lost and
// on_state(1) again once it is back; nothing after ca_listener_stop.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ca/store/listener.h"
#include "tests/modules/fixture.h"
#include "tests/support/test.h"

#define MAX_EVENTS 64

// What the callbacks saw, in order: "n:CHANNEL:PAYLOAD" or "s:0"/"s:1".
typedef struct seen {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  char events[MAX_EVENTS][96];
  int count;
} seen;

static void add_event(seen *s, const char *event) {
  pthread_mutex_lock(&s->mu);
  if (s->count < MAX_EVENTS) {
    snprintf(s->events[s->count], sizeof(s->events[0]), "%s", event);
  }
  s->count++;
  pthread_cond_broadcast(&s->cv);
  pthread_mutex_unlock(&s->mu);
}

static void on_notify(void *arg, const char *channel, const char *payload) {
  char event[96];
  snprintf(event, sizeof(event), "n:%s:%s", channel, payload);
  add_event(arg, event);
}

static void on_state(void *arg, int listening) {
  add_event(arg, listening ? "s:1" : "s:0");
}

// wait_events waits until |n| events were seen or |ms| passed and returns
// how many were seen.
static int wait_events(seen *s, int n, int ms) {
  struct timespec deadline;
  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_sec += ms / 1000;
  deadline.tv_nsec += (long)(ms % 1000) * 1000000L;
  if (deadline.tv_nsec >= 1000000000L) {
    deadline.tv_sec++;
    deadline.tv_nsec -= 1000000000L;
  }
  pthread_mutex_lock(&s->mu);
  while (s->count < n &&
         pthread_cond_timedwait(&s->cv, &s->mu, &deadline) == 0) {
  }
  const int count = s->count;
  pthread_mutex_unlock(&s->mu);
  return count;
}

static const char *event(seen *s, int i) {
  return i < s->count && i < MAX_EVENTS ? s->events[i] : "(none)";
}

static void seen_init(seen *s) {
  memset(s, 0, sizeof(*s));
  pthread_mutex_init(&s->mu, NULL);
  pthread_cond_init(&s->cv, NULL);
}

static void seen_destroy(seen *s) {
  pthread_mutex_destroy(&s->mu);
  pthread_cond_destroy(&s->cv);
}

static const char *const kChannels[] = {"pki_revocation", "pki_issued", NULL};

TEST(subscribed_notifications_arrive_in_order_within_a_second) {
  mod_db db;
  mod_db_create(&db);
  seen s;
  seen_init(&s);
  ca_listener_config config = {.conninfo = db.url,
                               .channels = kChannels,
                               .on_notify = on_notify,
                               .on_state = on_state,
                               .arg = &s};
  ca_listener *listener = NULL;
  CHECK(ca_listener_start(&config, &listener));
  // Subscribed before start returned: nothing sent from now on is missed.
  CHECK_EQ_INT(s.count, 1);
  CHECK_EQ_STR(event(&s, 0), "s:1");

  // One transaction, three notifications, one of a channel nobody
  // subscribed: delivered at commit, in order.
  CHECK(mod_db_exec(&db,
                    "BEGIN; NOTIFY pki_revocation, '1:aa';"
                    " NOTIFY pki_other, 'x'; NOTIFY pki_issued, '';"
                    " NOTIFY pki_revocation, '2:bb'; COMMIT"));
  CHECK_EQ_INT(wait_events(&s, 4, 1000), 4);
  CHECK_EQ_STR(event(&s, 1), "n:pki_revocation:1:aa");
  CHECK_EQ_STR(event(&s, 2), "n:pki_issued:");
  CHECK_EQ_STR(event(&s, 3), "n:pki_revocation:2:bb");
  // A rolled back NOTIFY is never delivered; the next one is.
  CHECK(mod_db_exec(&db,
                    "BEGIN; NOTIFY pki_revocation, '3:cc'; ROLLBACK;"
                    " NOTIFY pki_revocation, '4:dd'"));
  CHECK_EQ_INT(wait_events(&s, 5, 1000), 5);
  CHECK_EQ_STR(event(&s, 4), "n:pki_revocation:4:dd");
  CHECK_EQ_INT(wait_events(&s, 6, 300), 5);

  ca_listener_stop(listener);
  // Stopped: nothing more is called.
  CHECK(mod_db_exec(&db, "NOTIFY pki_revocation, '5:ee'"));
  CHECK_EQ_INT(wait_events(&s, 6, 500), 5);
  seen_destroy(&s);
  mod_db_drop(&db);
}

TEST(a_lost_connection_is_reported_and_recovered) {
  mod_db db;
  mod_db_create(&db);
  seen s;
  seen_init(&s);
  ca_listener_config config = {.conninfo = db.url,
                               .channels = kChannels,
                               .on_notify = on_notify,
                               .on_state = on_state,
                               .arg = &s};
  ca_listener *listener = NULL;
  CHECK(ca_listener_start(&config, &listener));
  CHECK_EQ_INT(wait_events(&s, 1, 1000), 1);
  // Cut every other connection to the database: the listener's too.
  CHECK(mod_db_exec(&db,
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = current_database()"
                    " AND pid <> pg_backend_pid()"));
  // Deaf as soon as it notices (it looks every 250 ms), listening again
  // after the first reconnection (0.25 s backoff).
  CHECK(wait_events(&s, 3, 5000) >= 3);
  CHECK_EQ_STR(event(&s, 1), "s:0");
  CHECK_EQ_STR(event(&s, 2), "s:1");
  // And hears again.
  CHECK(mod_db_exec(&db, "NOTIFY pki_issued, 'back'"));
  CHECK(wait_events(&s, 4, 1000) >= 4);
  CHECK_EQ_STR(event(&s, 3), "n:pki_issued:back");
  ca_listener_stop(listener);
  seen_destroy(&s);
  mod_db_drop(&db);
}

TEST(an_unreachable_database_fails_the_start) {
  mod_db db;
  mod_db_create(&db);
  seen s;
  seen_init(&s);
  char url[1100];
  // The database of the test dropped: the server answers, the connection
  // is refused.
  snprintf(url, sizeof(url), "%s", db.url);
  mod_db_drop(&db);
  ca_listener_config config = {.conninfo = url,
                               .channels = kChannels,
                               .on_notify = on_notify,
                               .on_state = on_state,
                               .arg = &s};
  ca_listener *listener = NULL;
  CHECK(!ca_listener_start(&config, &listener));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_STORAGE_UNAVAILABLE);
  CHECK_EQ_INT(s.count, 0);
  seen_destroy(&s);
}

int main(void) {
  RUN(subscribed_notifications_arrive_in_order_within_a_second);
  RUN(a_lost_connection_is_reported_and_recovered);
  RUN(an_unreachable_database_fails_the_start);
  return test_summary();
}
