// Unit tests of ca/exchange/bulk.c without a database: cluster names, entry
// checks, and consolidation (two clusters needed, copies kept once with their
// revocation, conflicts reported and left out, sorted output). The
// certificates are opaque bytes here: consolidation compares them, it does
// not parse them.
#include <stdlib.h>
#include <string.h>

#include "ca/exchange/bulk.h"
#include "tests/support/test.h"

static const uint8_t kCertA[] = {0x30, 0x01, 0xaa};
static const uint8_t kCertB[] = {0x30, 0x01, 0xbb};
static const uint8_t kCertC[] = {0x30, 0x01, 0xcc};
static const uint8_t kCertD[] = {0x30, 0x01, 0xdd};

static ca_bundle_entry entry(const char *cluster, const char *node,
                             const char *purpose, const uint8_t *der) {
  return (ca_bundle_entry){
      .cluster = cluster,
      .node = node,
      .purpose = purpose,
      .der = der,
      .der_len = 3,
      .issuer = "rsa-issuing",
      .serial = "01",
  };
}

TEST(cluster_names) {
  CHECK(ca_bulk_cluster_check("alpha"));
  CHECK(ca_bulk_cluster_check("CUCM-West_2.lab"));
  CHECK(!ca_bulk_cluster_check(""));
  CHECK(!ca_bulk_cluster_check("a/b"));
  CHECK(!ca_bulk_cluster_check("a b"));
  CHECK(!ca_bulk_cluster_check(".."));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_PARAMETER_INVALID);
  char name[80];
  memset(name, 'x', sizeof(name));
  name[64] = '\0';
  CHECK(ca_bulk_cluster_check(name));
  name[64] = 'x';
  name[65] = '\0';
  CHECK(!ca_bulk_cluster_check(name));
}

TEST(entry_checks) {
  ca_bundle_entry e = entry("alpha", "a1", "tomcat", kCertA);
  CHECK(ca_bundle_entry_check(&e, 0));
  e.revoked = 1;
  CHECK(!ca_bundle_entry_check(&e, 0));  // no time
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_BUNDLE_MALFORMED);
  e.revoked_at = 1700000000;
  e.revocation_reason = 7;  // not a CRLReason
  CHECK(!ca_bundle_entry_check(&e, 0));
  e.revocation_reason = 1;
  CHECK(ca_bundle_entry_check(&e, 0));
  e = entry("alpha", "", "tomcat", kCertA);
  CHECK(!ca_bundle_entry_check(&e, 0));
  e = entry("al/pha", "a1", "tomcat", kCertA);
  CHECK(!ca_bundle_entry_check(&e, 0));
  e = entry("alpha", "a1", "tomcat", kCertA);
  e.der_len = 0;
  CHECK(!ca_bundle_entry_check(&e, 0));
}

TEST(one_cluster_is_too_few) {
  const ca_bundle_entry a[] = {entry("alpha", "a1", "tomcat", kCertA)};
  const ca_bundle bundles[2] = {{"alpha", a, 1}, {"alpha", a, 1}};
  ca_bulk_merge m;
  CHECK(!ca_bulk_consolidate(bundles, 2, &m));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_BUNDLES_TOO_FEW);
  CHECK(!ca_bulk_consolidate(bundles, 0, &m));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_BUNDLES_TOO_FEW);
  // An entry needs a cluster, its own or its bundle's.
  const ca_bundle_entry nameless[] = {entry("", "a1", "tomcat", kCertA)};
  const ca_bundle b2[2] = {{"", nameless, 1}, {"beta", NULL, 0}};
  CHECK(!ca_bulk_consolidate(b2, 2, &m));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_BUNDLE_MALFORMED);
}

TEST(copies_are_kept_once_and_revocations_win) {
  // Entries without a cluster take their bundle's.
  const ca_bundle_entry alpha[] = {entry("", "a2", "CAPF", kCertB),
                                   entry("", "a1", "tomcat", kCertA)};
  ca_bundle_entry alpha_later[2] = {entry("alpha", "a2", "CAPF", kCertB),
                                    entry("alpha", "a1", "tomcat", kCertA)};
  alpha_later[0].revoked = 1;
  alpha_later[0].revoked_at = 1700000000;
  alpha_later[0].revocation_reason = 1;
  const ca_bundle_entry beta[] = {entry("beta", "b1", "CallManager", kCertC)};
  const ca_bundle bundles[3] = {
      {"alpha", alpha, 2}, {"beta", beta, 1}, {"alpha", alpha_later, 2}};
  ca_bulk_merge m;
  CHECK(ca_bulk_consolidate(bundles, 3, &m));
  CHECK_EQ_INT(m.n_entries, 3);
  CHECK_EQ_INT(m.duplicates, 2);
  CHECK_EQ_INT(m.n_conflicts, 0);
  CHECK_EQ_INT(m.n_clusters, 2);
  if (m.n_entries == 3 && m.n_clusters == 2) {
    CHECK_EQ_STR(m.clusters[0], "alpha");
    CHECK_EQ_STR(m.clusters[1], "beta");
    // Sorted by cluster, node, purpose.
    CHECK_EQ_STR(m.entries[0].node, "a1");
    CHECK_EQ_STR(m.entries[0].cluster, "alpha");
    CHECK_EQ_STR(m.entries[1].node, "a2");
    CHECK_EQ_INT(m.entries[1].revoked, 1);
    CHECK_EQ_INT(m.entries[1].revocation_reason, 1);
    CHECK_EQ_STR(m.entries[2].cluster, "beta");
  }
  ca_bulk_merge_cleanup(&m);
}

TEST(different_certificates_for_one_node_and_purpose_conflict) {
  const ca_bundle_entry alpha[] = {entry("alpha", "a1", "tomcat", kCertA),
                                   entry("alpha", "a1", "CallManager", kCertD)};
  // beta names the same node (other case) with another certificate, and
  // claims alpha's CallManager certificate as its own.
  const ca_bundle_entry beta[] = {entry("beta", "A1", "tomcat", kCertB),
                                  entry("beta", "a1", "CallManager", kCertD),
                                  entry("beta", "b1", "tomcat", kCertC)};
  const ca_bundle bundles[2] = {{"alpha", alpha, 2}, {"beta", beta, 3}};
  ca_bulk_merge m;
  CHECK(ca_bulk_consolidate(bundles, 2, &m));
  CHECK_EQ_INT(m.n_entries, 1);
  CHECK(m.n_entries == 1 && strcmp(m.entries[0].node, "b1") == 0);
  CHECK_EQ_INT(m.n_conflicts, 2);
  for (size_t i = 0; i < m.n_conflicts; i++) {
    const ca_bulk_conflict *c = &m.conflicts[i];
    CHECK_EQ_INT(c->n_entries, 2);
    if (c->n_entries == 2) {
      CHECK_EQ_STR(c->entries[0].cluster, "alpha");
      CHECK_EQ_STR(c->entries[1].cluster, "beta");
    }
  }
  ca_bulk_merge_cleanup(&m);
}

int main(void) {
  RUN(cluster_names);
  RUN(entry_checks);
  RUN(one_cluster_is_too_few);
  RUN(copies_are_kept_once_and_revocations_win);
  RUN(different_certificates_for_one_node_and_purpose_conflict);
  return test_summary();
}
