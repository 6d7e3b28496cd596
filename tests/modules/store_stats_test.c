// ca/store/store_stats.c against a real PostgreSQL: the claim of the next
// computation (one node at a time; not again within the interval unless
// forced; a forced refresh refused while another node holds the claim; a
// claim gone stale taken over), a save refused once the claim is lost, and
// the snapshot read back whole with its groups and expiry counts.
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ca/store/store_stats.h"
#include "tests/modules/fixture.h"
#include "tests/support/test.h"

static mod_ca ca;

// claim claims for |node|; returns 1 when claimed, 0 when not, -1 on error.
static int claim(const char *node, int64_t interval_s, int force) {
  int claimed = 0;
  int64_t wait_s = -1;
  if (!ca_store_stats_claim(ca.store, node, interval_s, force, &claimed,
                            &wait_s)) {
    return -1;
  }
  return claimed;
}

static int save(const char *node) {
  ca_expiry_counts e = {.within_1d = 1,
                        .within_7d = 2,
                        .within_30d = 3,
                        .expired = 4,
                        .external_within_30d = 5};
  int64_t ms = 0;
  return ca_store_stats_save(ca.store, node, (int64_t)time(NULL), &e, 7, &ms);
}

TEST(no_snapshot_at_first) {
  ca_stats s;
  CHECK(ca_store_stats_read(ca.store, &s));
  CHECK(!s.computed);
  CHECK_EQ_INT(s.n_counts, 0);
  ca_stats_free(&s);
}

TEST(one_node_holds_the_claim) {
  CHECK_EQ_INT(claim("node-a", 3600, 0), 1);
  // node-b finds node-a computing: it skips, or is refused when forced.
  CHECK_EQ_INT(claim("node-b", 3600, 0), 0);
  CHECK_EQ_INT(claim("node-b", 3600, 1), -1);
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_CONFLICT);
  CHECK(save("node-a"));
  ca_stats s;
  CHECK(ca_store_stats_read(ca.store, &s));
  CHECK(s.computed);
  CHECK_EQ_STR(s.computed_by, "node-a");
  CHECK_EQ_INT(s.refreshes, 1);
  CHECK_EQ_INT(s.expiry.within_30d, 3);
  CHECK_EQ_INT(s.expiry.external_within_30d, 5);
  CHECK(s.duration_ms >= 7);
  // The CAs' own certificates are not in the certificates table; the
  // fixture issued none: no group yet.
  CHECK_EQ_INT(s.n_counts, 0);
  ca_stats_free(&s);
}

TEST(not_again_within_the_interval_unless_forced) {
  CHECK_EQ_INT(claim("node-b", 3600, 0), 0);
  CHECK_EQ_INT(claim("node-a", 3600, 0), 0);
  CHECK_EQ_INT(claim("node-b", 0, 0), 1);  // an interval of 0 has passed
  CHECK(save("node-b"));
  CHECK_EQ_INT(claim("node-a", 3600, 1), 1);
  CHECK(save("node-a"));
  CHECK_EQ_INT(
      mod_db_int(&ca.db, "SELECT refreshes FROM stats_snapshot", NULL, NULL),
      3);
  CHECK_EQ_INT(
      mod_db_int(&ca.db, "SELECT count(*) FROM stats_refreshes", NULL, NULL),
      3);
}

TEST(a_lost_claim_saves_nothing_and_a_stale_one_is_taken_over) {
  CHECK_EQ_INT(claim("node-a", 0, 0), 1);
  // node-a died counting eleven minutes ago: node-b takes over.
  CHECK(mod_db_exec(&ca.db,
                    "UPDATE stats_snapshot SET claimed_at = now() -"
                    " interval '11 minutes'"));
  CHECK_EQ_INT(claim("node-b", 3600, 1), 1);
  CHECK(!save("node-a"));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_CONFLICT);
  CHECK(save("node-b"));
  CHECK_EQ_INT(mod_db_int(&ca.db,
                          "SELECT count(*) FROM stats_snapshot"
                          " WHERE claimed_by IS NULL AND refreshes = 4",
                          NULL, NULL),
               1);
  // A released claim frees the next computation at once.
  CHECK_EQ_INT(claim("node-a", 0, 0), 1);
  ca_store_stats_release(ca.store, "node-a");
  CHECK_EQ_INT(claim("node-b", 0, 0), 1);
  ca_store_stats_release(ca.store, "node-b");
}

TEST(the_groups_count_certificates_by_ca_profile_and_status) {
  ca_issued a, b, c;
  CHECK(mod_issue(&ca, "tomcat-ECDSA", "EC-P256", "a.example.com", &a));
  CHECK(mod_issue(&ca, "tomcat-ECDSA", "EC-P256", "b.example.com", &b));
  CHECK(mod_issue(&ca, "CallManager-ECDSA", "EC-P256", "c.example.com", &c));
  ca_issued_cleanup(&a);
  ca_issued_cleanup(&b);
  ca_issued_cleanup(&c);
  CHECK(mod_db_exec(&ca.db,
                    "INSERT INTO revocations SELECT issuer_id, serial, id,"
                    " crl_shard, not_after, now(), 1 FROM certificates"
                    " WHERE common_name = 'b.example.com'"));
  CHECK_EQ_INT(claim("node-a", 0, 1), 1);
  CHECK(save("node-a"));
  ca_stats s;
  CHECK(ca_store_stats_read(ca.store, &s));
  CHECK_EQ_INT(s.n_counts, 3);
  // Ordered by kind, issuer, profile, status.
  static const char *const kWant[3][4] = {
      {"ec-issuing", "CallManager-ECDSA", "good", "1"},
      {"ec-issuing", "tomcat-ECDSA", "good", "1"},
      {"ec-issuing", "tomcat-ECDSA", "revoked", "1"},
  };
  for (size_t i = 0; i < 3 && i < s.n_counts; i++) {
    CHECK_EQ_STR(s.counts[i].kind, "issued");
    CHECK_EQ_STR(s.counts[i].issuer, kWant[i][0]);
    CHECK_EQ_STR(s.counts[i].profile, kWant[i][1]);
    CHECK_EQ_STR(s.counts[i].status, kWant[i][2]);
    CHECK_EQ_INT(s.counts[i].count, 1);
  }
  ca_stats_free(&s);
}

int main(void) {
  if (!mod_ca_open(&ca, "store-stats", 2)) {
    mod_ca_close(&ca);
    return 1;
  }
  RUN(no_snapshot_at_first);
  RUN(one_node_holds_the_claim);
  RUN(not_again_within_the_interval_unless_forced);
  RUN(a_lost_claim_saves_nothing_and_a_stale_one_is_taken_over);
  if (!mod_ca_start_engine(&ca, 1)) {
    fprintf(stderr, "the engine did not start\n");
    mod_ca_close(&ca);
    return 1;
  }
  RUN(the_groups_count_certificates_by_ca_profile_and_status);
  mod_ca_close(&ca);
  return test_summary();
}
