// The expiry monitor's half of the store (migration 0006): its
// configuration, the certificates that expire, and the notices sent.
//
// Which certificates count (README.md, "Expiry monitor"):
// - issued certificates (table certificates, self-signed ones included)
//   that are good (a revoked certificate needs no renewal notice), except
//   the delegated OCSP responders (pkid renews those itself) and a
//   certificate that was replaced (:regenerate) or renewed (a good
//   certificate of the same profile and common name expires later);
// - trust-store entries (table trust_entries) not marked revoked;
// - trust-store entries that pki's own revocation check found revoked
//   (table revocation_checks), whatever their notAfter, first;
// - registered identities (table identities), unless pki issued the node a
//   good certificate of the same purpose after it (a later notBefore); one
//   found revoked by pki's revocation check whatever its notAfter, first;
// - from notAfter - the asked window until CA_LIMIT_MONITOR_EXPIRED_DAYS
//   after notAfter: an expired certificate is reported until then.
#ifndef PKI_CA_STORE_MONITOR_H
#define PKI_CA_STORE_MONITOR_H

#include <stddef.h>
#include <stdint.h>

#include "ca/error.h"
#include "ca/policy/monitor.h"
#include "ca/store/store.h"

// One certificate that expires. Strings are owned (OPENSSL_malloc); free
// an array with ca_expiring_free.
typedef struct ca_expiring {
  int trust;     // 0: an issued certificate; 1: a trust-store entry
  int external;  // a registered identity (|profile| is its purpose)
  int64_t id;
  char *serial;
  char *issuer;   // the CA's name (identity; "" when self-signed), or the
                  // issuer's name (trust)
  char *profile;  // identity; "" for trust entries
  char *store;    // trust; "" for identities
  char *common_name;
  char *subject;
  char *cluster;  // "" when unknown
  int64_t not_after;
  // A trust entry or registered identity pki's revocation check found
  // revoked: when (not 0). It
  // is reported whatever its notAfter.
  int64_t revoked_at;
} ca_expiring;

// ca_expiring_free frees |n| rows and the array. It accepts NULL.
void ca_expiring_free(ca_expiring *rows, size_t n);

// ca_expiring_kind returns "identity", "trust" or "external" (static): the
// kind of monitor_notices and of the notices' JSON.
const char *ca_expiring_kind(const ca_expiring *row);

// ca_store_monitor_expiring returns the certificates that count (above)
// whose notAfter is at most |within_s| seconds after |now|, soonest first
// (at most CA_LIMIT_MONITOR_ROWS). The caller frees |*out| with
// ca_expiring_free. Database failures are CA_ERR_STORAGE_UNAVAILABLE.
int ca_store_monitor_expiring(ca_store *store, int64_t now, int64_t within_s,
                              ca_expiring **out, size_t *out_n) CA_MUST_CHECK;

// Counts for /metrics, of the certificates that count.
typedef struct ca_expiry_counts {
  uint64_t within_1d, within_7d, within_30d;  // not expired yet
  uint64_t expired;  // expired at most CA_LIMIT_MONITOR_EXPIRED_DAYS ago
  // The same, of the registered identities only (counted in the above too).
  uint64_t external_within_1d, external_within_7d, external_within_30d;
  uint64_t external_expired;
} ca_expiry_counts;

// ca_store_monitor_counts fills |out| in one indexed query.
int ca_store_monitor_counts(ca_store *store, int64_t now,
                            ca_expiry_counts *out) CA_MUST_CHECK;

// ca_store_monitor_claim claims, for |destination| ("mailto:ADDRESS" or a
// URL) and window |window|, the notices of the |n| certificates |rows|, in
// one statement: a notice nobody claimed yet, one that failed, or one whose
// claim is older than ten minutes (its node died sending) is claimed by
// |node| and its entry of |out_claimed| set to 1; one sent, or being sent
// by another node, is left alone (0). Two nodes claiming at once never
// both get a notice: the primary key decides. |*out_claim| names the claim
// for ca_store_monitor_finish (0 when nothing was claimed).
int ca_store_monitor_claim(ca_store *store, const ca_expiring *rows, size_t n,
                           uint64_t window, const char *destination,
                           const char *node, uint8_t *out_claimed,
                           int64_t *out_claim) CA_MUST_CHECK;

// ca_store_monitor_finish records the outcome of the notices of |claim|
// that are still under it ('sending'; one another node took over is
// left to that node): 'sent' when |sent|, else 'failed' with |error|, so
// that the next check claims them again.
int ca_store_monitor_finish(ca_store *store, int64_t claim, int sent,
                            const char *error) CA_MUST_CHECK;

// ca_store_monitor_prune deletes the notices claimed more than
// CA_LIMIT_MONITOR_NOTICE_DAYS ago: longer than any window (30 days at
// most), so no notice that still suppresses a resend is lost.
int ca_store_monitor_prune(ca_store *store) CA_MUST_CHECK;

// ca_store_monitor_get_config reads the configuration into |out| (the
// caller cleans it up with ca_monitor_config_cleanup), webhook URLs whole
// with their opt-ins (migration 0008).
int ca_store_monitor_get_config(ca_store *store,
                                ca_monitor_config *out) CA_MUST_CHECK;

// ca_store_monitor_put_config replaces the configuration with |config|
// (checked by the caller with ca_monitor_config_check and, for webhooks,
// api_webhook_check), in one transaction with an audit row "monitor.set"
// by |actor| from |source|; with |config->keep_webhooks| the stored
// webhooks stay as they are. The audit row counts destinations, never
// names a URL.
int ca_store_monitor_put_config(ca_store *store,
                                const ca_monitor_config *config,
                                const char *actor,
                                const char *source) CA_MUST_CHECK;

#endif  // PKI_CA_STORE_MONITOR_H
