// Finding certificates: identity certificates (issued or self-signed) and
// trust-store entries in one listing, soonest expiry first, paged with a
// cursor (GET /v1/certificates).
#include <inttypes.h>
#include <openssl/mem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca/store/store.h"
#include "ca/store/store_internal.h"

void ca_cert_rows_free(ca_cert_row *rows, size_t n) {
  if (rows == NULL) {
    return;
  }
  for (size_t i = 0; i < n; i++) {
    ca_cert_row *r = &rows[i];
    OPENSSL_free(r->serial);
    OPENSSL_free(r->issuer);
    OPENSSL_free(r->profile);
    OPENSSL_free(r->subject);
    OPENSSL_free(r->common_name);
    for (size_t s = 0; s < r->san_count; s++) {
      OPENSSL_free(r->sans[s]);
    }
    free(r->sans);
    OPENSSL_free(r->key_type);
    OPENSSL_free(r->status);
    OPENSSL_free(r->requester);
    OPENSSL_free(r->store);
    OPENSSL_free(r->cluster);
    OPENSSL_free(r->node);
    OPENSSL_free(r->revocation);
    OPENSSL_free(r->der);
  }
  free(rows);
}

const char *ca_cert_row_usage(const ca_cert_row *row) {
  return row->external ? "external" : row->trust ? "trust" : "identity";
}

void ca_cert_cursor_format(const ca_cert_row *row, char out[64]) {
  snprintf(out, 64, "%" PRId64 ".%d.%" PRId64, row->not_after,
           row->external ? 2
           : row->trust  ? 1
                         : 0,
           row->id);
}

int ca_cert_cursor_parse(ca_cert_cursor *out, const char *text) {
  long long not_after, id;
  int kind, used = 0;
  CA_ENSURE(
      sscanf(text, "%lld.%d.%lld%n", &not_after, &kind, &id, &used) == 3 &&
          text[used] == '\0' && kind >= 0 && kind <= 2 && id >= 0,
      CA_ERR_PARAMETER_INVALID,
      "after must be the next_after value of the previous page");
  out->set = 1;
  out->not_after = not_after;
  out->kind = kind;
  out->id = id;
  return 1;
err:
  return 0;
}

// split_sans splits the newline-joined SAN column.
static int split_sans(const char *joined, ca_cert_row *row) {
  size_t count = joined[0] != '\0' ? 1 : 0;
  for (const char *p = joined; *p != '\0'; p++) {
    count += *p == '\n';
  }
  row->san_count = 0;
  row->sans = NULL;
  if (count == 0) {
    return 1;
  }
  row->sans = calloc(count, sizeof(char *));
  if (row->sans == NULL) {
    return 0;
  }
  const char *start = joined;
  for (size_t i = 0; i < count; i++) {
    const char *end = strchr(start, '\n');
    const size_t len = end != NULL ? (size_t)(end - start) : strlen(start);
    row->sans[i] = OPENSSL_strndup(start, len);
    if (row->sans[i] == NULL) {
      return 0;
    }
    row->san_count++;
    start = end != NULL ? end + 1 : start + len;
  }
  return 1;
}

// The common-name filter as a LIKE pattern: the text, lower-cased, with
// LIKE's own characters (backslash, %, _) escaped, between two %. A
// substring match like strpos, but one a trigram index serves (the names',
// migration 0026): the parameter is known when the statement is planned
// (PQexecParams plans an unnamed statement with its values), so the pattern
// is a constant then.
#define CN_PATTERN                                                 \
  "('%' || replace(replace(replace(lower($2), '\\', '\\\\'), '%'," \
  " '\\%'), '_', '\\_') || '%')"

// The columns of a found row, in the order decode_found reads them. The
// fingerprint of an identity certificate (SHA-256 of its DER) and its
// revocation are read here, for the rows of the page only: FIND_SQL_OF
// joins the certificate's row cd and its revocation rv to the page: cd by
// the address the branch found the row at (ctid, in this statement's
// snapshot: the same row version, read without an index page), rv by a
// probe of its key. The branches below may sort many more rows,
// and carry neither DER, hash nor revocation: joined inside a branch of a
// few hundred rows, revocations was hashed whole (cluster=NAME at ten
// million certificates: 90,000 entries, 29 ms a page). A branch joins it
// only for a status filter; otherwise PostgreSQL drops that join (no
// column of it is read, and its key is unique).
#define KIND0_OR(IDENTITY, OTHER) \
  "(CASE WHEN f.kind = 0 THEN " IDENTITY " ELSE " OTHER " END)"
#define FIND_COLUMNS \
  "f.kind, f.id, f.serial, f.issuer, f.profile, f.subject,"                \
  " f.common_name, f.sans, f.key_type, f.key_bits,"                        \
  " extract(epoch FROM f.not_before)::bigint,"                             \
  " extract(epoch FROM f.not_after)::bigint,"                              \
  " " KIND0_OR(CA_STORE_STATUS, "f.status") ", f.requester,"              \
  " extract(epoch FROM f.created_at)::bigint, f.key_generated,"            \
  " f.self_signed,"                                                         \
  " coalesce(extract(epoch FROM " KIND0_OR("rv.revoked_at", "f.revoked_at") \
  ")::bigint, 0),"                                                         \
  " coalesce(" KIND0_OR("rv.reason", "f.revocation_reason") ", 0),"        \
  " f.store, f.cluster,"                                                   \
  " encode(CASE WHEN f.kind = 0 THEN sha256(cd.der) ELSE f.fingerprint"    \
  " END, 'hex'), CASE WHEN $17::boolean THEN coalesce(cd.der, f.der) END," \
  " f.node, " KIND0_OR(CA_STORE_STATUS, "f.revocation")

// The notAfter range of a page: the expiry filters and the cursor, on
// table alias T of kind KIND.
#define RANGE_ON(NA, ID, KIND)                                         \
  " ($9::bigint IS NULL OR " NA                                        \
  " < to_timestamp($9))"                                               \
  " AND ($10::bigint IS NULL OR " NA                                   \
  " >= to_timestamp($10))"                                             \
  " AND ($13::bigint IS NULL OR (" NA " >= to_timestamp($13) AND (" NA \
  ", " KIND ", " ID ") > (to_timestamp($13), $14::integer, $15::bigint)))"
#define RANGE(T, KIND) RANGE_ON(T ".not_after", T ".id", KIND)

// Whether a certificate c has the status of parameter P ('good' or
// 'revoked'; any other matches none): its row in revocations rv (migration
// 0018), joined by CA_STORE_JOIN_REVOCATION. status=good walks the
// notAfter index with a probe of the revocations key per row;
// status=revoked too, and stops as soon as the page is full: revoked
// certificates are a small share, and the probes of a narrow index cost
// little next to reading the wide rows.
#define STATUS_IS(P)                                     \
  "((" P " = 'revoked' AND " CA_STORE_REVOKED ") OR (" P \
  " = 'good'"                                            \
  " AND NOT " CA_STORE_REVOKED "))"

// The common-name filter of the identity branch, through the LIKE pattern:
// over the first certificates of the range (kFindPrefixSql), or beside a
// selective filter such as a serial (kFindSql).
#define CN_LIKE "lower(c.common_name) LIKE " CN_PATTERN

// The 5-grams of a common-name text that the names' index of migration 0026
// is asked for (kCnGramsSql): those that are not among the most common
// elements of the index's statistics (ANALYZE; pg_stats), each rarer than
// the least common of those. GIN reads the whole posting list of each gram
// asked for, and a gram in a third of the names (".cl00", "examp") has a
// long one, which costs more than the rare grams that select the names. A
// text made of common grams only (or a table without statistics yet) asks
// for all of its grams. They go to the find as a parameter, so that
// PostgreSQL plans with them.
static const char kCnGramsSql[] =
    "SELECT coalesce(nullif(array(SELECT g FROM unnest(pki_cn_grams($1)) AS g"
    " WHERE g <> ALL (coalesce((SELECT s.most_common_elems::text::text[]"
    " FROM pg_stats s WHERE s.schemaname = current_schema()"
    " AND s.tablename = 'certificate_names_grams_idx'), '{}'))),"
    " '{}'), pki_cn_grams($1))";

// A rare text is looked up among the distinct names (certificate_names,
// migration 0026), whose GIN indexes hold each name's grams once however
// many certificates bear it; the certificates of the names found are read
// through certificates_renewal_idx (lower(common_name), migration 0019).
// The names come as an array (an InitPlan, evaluated once), for which
// PostgreSQL estimates a few names and so plans a probe of that index per
// name. The names' collation is "C" (bytes); the array's is the
// database's, the renewal index's.
#define CN_IN_NAMES(WHERE)                                  \
  "lower(c.common_name) = ANY (ARRAY(SELECT n.name COLLATE" \
  " \"default\" FROM certificate_names n WHERE " WHERE "))"

// A text of three or four characters: the names' trigram index, through
// the pattern (in the names' collation, the index's).
#define CN_TRIGRAMS CN_IN_NAMES("n.name LIKE " CN_PATTERN " COLLATE \"C\"")

// Five characters or more: the names holding the grams $19 (kCnGramsSql's),
// then those containing the text. strpos, which no index serves, keeps the
// trigram index's long posting lists out of the plan.
#define CN_GRAMS                                          \
  CN_IN_NAMES(                                            \
      "pki_cn_grams(n.name) COLLATE \"C\" @> $19::text[]" \
      " AND strpos(n.name, lower($2) COLLATE \"C\") > 0")

// The issuer filter: the issuer's id, a constant of the scan (an InitPlan),
// so that certificates_issuer_not_after_idx (migration 0022) serves it in
// notAfter order; a join with issuers would leave the rows to sort.
#define ISSUER_IS "c.issuer_id = (SELECT s.id FROM issuers s WHERE s.name = $5)"

// The identity branch: certificates c from SOURCE, ordered by ORDER, with
// the common-name filter CN.
#define IDENTITY_BRANCH_ON(SOURCE, JOIN, NA, ID, ORDER, CN) \
  "(SELECT 0 AS kind, c.id, c.serial, coalesce(i.name, '') AS issuer,"  \
  " c.profile, c.subject, c.common_name,"                               \
  " array_to_string(c.sans, E'\\n') AS sans, c.key_type, c.key_bits,"   \
  " c.not_before, c.not_after, NULL::text AS status,"                    \
  " c.requester, c.created_at,"                                         \
  " c.key_generated, c.self_signed, NULL::timestamptz AS revoked_at,"   \
  " NULL::smallint AS revocation_reason,"                               \
  " '' AS store, coalesce(c.cluster, '') AS cluster,"                   \
  " NULL::bytea AS fingerprint, NULL::bytea AS der, '' AS node,"        \
  " NULL::text AS revocation, c.ctid AS row_ctid"                       \
  " FROM " SOURCE JOIN                                                  \
  " LEFT JOIN issuers i ON i.id = c.issuer_id"                          \
  " WHERE ($6::text IS NULL OR $6 = 'identity') AND $11::text IS NULL"  \
  " AND ($1::text IS NULL OR c.profile = $1)"                           \
  " AND ($2::text IS NULL OR (" CN "))"                                \
  " AND ($3::text IS NULL OR " STATUS_IS("$3") ")"                      \
  " AND ($4::text IS NULL OR c.serial = $4)"                            \
  " AND ($5::text IS NULL OR " ISSUER_IS ")"                            \
  " AND ($7::text IS NULL OR c.key_type = $7)"                          \
  " AND ($8::integer IS NULL OR c.key_bits = $8)"                       \
  " AND ($12::text IS NULL OR c.cluster = $12)"                         \
  " AND ($18::text IS NULL OR " STATUS_IS("$18") ")"                    \
  " AND" RANGE_ON(NA, ID, "0") " ORDER BY " ORDER                      \
                                              ", c.id LIMIT $16::bigint)"

// The status of pki's own revocation check of a trust entry or registered
// identity (table revocation_checks, migration 0015), "unchecked" before
// the first check. pki's own certificates have their own status instead.
#define CHECKED_STATUS(T)                              \
  "coalesce((SELECT k.status FROM revocation_checks k" \
  " WHERE k.fingerprint = " T ".fingerprint), 'unchecked')"

// Trust-store entries: a small table, whatever the number of certificates.
#define TRUST_BRANCH \
  "(SELECT 1, t.id, t.serial, t.issuer, coalesce(t.purpose, ''),"        \
  " t.subject, t.common_name, '', t.key_type, t.key_bits, t.not_before," \
  " t.not_after, CASE WHEN t.revoked_at IS NULL THEN 'good' ELSE"        \
  " 'revoked' END, t.added_by, t.created_at, false, false,"              \
  " t.revoked_at, t.revocation_reason,"                                  \
  " t.store, coalesce(t.cluster, ''), t.fingerprint,"                    \
  " CASE WHEN $17::boolean THEN t.der END, coalesce(t.node, ''),"        \
  " " CHECKED_STATUS("t") ", NULL::tid FROM trust_entries t"            \
  " WHERE ($6::text IS NULL OR $6 = 'trust') AND $5::text IS NULL"       \
  " AND ($11::text IS NULL OR t.store = $11)"                            \
  " AND ($1::text IS NULL OR t.purpose = $1)"                            \
  " AND ($2::text IS NULL OR lower(t.common_name) LIKE " CN_PATTERN      \
  ")"                                                                    \
  " AND ($3::text IS NULL OR $3 = CASE WHEN t.revoked_at IS NULL THEN"   \
  " 'good' ELSE 'revoked' END)"                                          \
  " AND ($4::text IS NULL OR t.serial = $4)"                             \
  " AND ($7::text IS NULL OR t.key_type = $7)"                           \
  " AND ($8::integer IS NULL OR t.key_bits = $8)"                        \
  " AND ($12::text IS NULL OR t.cluster = $12)"                          \
  " AND ($18::text IS NULL OR $18 = " CHECKED_STATUS("t") ") AND" RANGE(  \
      "t", "1") " ORDER BY t.not_after, t.id LIMIT $16::bigint)"

// Registered identities (kind 2, usage "external"): certificates pki did not
// issue, one per node and purpose; their status is always good, their
// revocation the check's.
#define EXTERNAL_BRANCH \
  "(SELECT 2, x.id, x.serial, x.issuer, x.purpose, x.subject,"             \
  " x.common_name, '', x.key_type, x.key_bits, x.not_before, x.not_after," \
  " 'good', x.added_by, x.created_at, false, false, NULL::timestamptz,"    \
  " NULL::smallint, '', x.cluster, x.fingerprint,"                         \
  " CASE WHEN $17::boolean THEN x.der END, x.node,"                        \
  " " CHECKED_STATUS("x") ", NULL::tid FROM identities x"                \
  " WHERE ($6::text IS NULL OR $6 = 'external') AND $5::text IS NULL"      \
  " AND $11::text IS NULL AND ($1::text IS NULL OR x.purpose = $1)"        \
  " AND ($2::text IS NULL OR lower(x.common_name) LIKE " CN_PATTERN        \
  ")"                                                                      \
  " AND ($3::text IS NULL OR $3 = 'good')"                                 \
  " AND ($4::text IS NULL OR x.serial = $4)"                               \
  " AND ($7::text IS NULL OR x.key_type = $7)"                             \
  " AND ($8::integer IS NULL OR x.key_bits = $8)"                          \
  " AND ($12::text IS NULL OR x.cluster = $12)"                            \
  " AND ($18::text IS NULL OR $18 = " CHECKED_STATUS("x") ") AND" RANGE(    \
      "x", "2") " ORDER BY x.not_after, x.id LIMIT $16::bigint)"

// The identity branch of certificates c read from SOURCE, with each one's
// revocation joined to it and the notAfter range on c.
#define IDENTITY_BRANCH(SOURCE, ORDER, CN)                                 \
  IDENTITY_BRANCH_ON(SOURCE, CA_STORE_JOIN_REVOCATION("c"), "c.not_after", \
                     "c.id", ORDER, CN)

#define FIND_SQL_OF(BRANCH)                                     \
  "SELECT " FIND_COLUMNS " FROM (SELECT * FROM (" BRANCH        \
  " UNION ALL " TRUST_BRANCH " UNION ALL " EXTERNAL_BRANCH      \
  ") AS u ORDER BY not_after, kind, id LIMIT $16::bigint) AS f" \
  " LEFT JOIN certificates cd ON f.kind = 0 AND cd.ctid = "     \
  "f.row_ctid" CA_STORE_JOIN_REVOCATION(                        \
      "cd") " ORDER BY f.not_after, f.kind, f.id"
#define FIND_SQL(SOURCE, ORDER, CN) \
  FIND_SQL_OF(IDENTITY_BRANCH(SOURCE, ORDER, CN))

// Parameters: $1 profile, $2 cn, $3 status, $4 serial, $5 issuer, $6 usage
// ('identity' or 'trust'), $7 key type, $8 key bits, $9 expires before,
// $10 expires after, $11 store, $12 cluster, $13-$15 the cursor (notAfter,
// kind, id), $16 limit, $17 whether to fetch the DER, $18 revocation (pki's
// check of trust entries and identities; the status of its own
// certificates: only good and revoked match them), $19 (kFindPrefixSql
// only) how many certificates of the range to look at, or
// (kFindRareGramsSql only) the text's 5-grams to look up. Static statements:
// an unused filter is a NULL parameter, so no SQL is assembled from client
// input.
//
// Without a common-name filter: each branch is ordered and limited on its
// own, so that a notAfter index serves it (certificates_not_after_idx,
// for status=good and status=revoked too: STATUS_IS), or PostgreSQL
// picks a selective index (serial, cluster) and sorts what it found.
static const char kFindSql[] =
    FIND_SQL("certificates c", "c.not_after", CN_LIKE) " LIMIT $16::bigint";

// With one, the plan depends on how many common names contain the text,
// which PostgreSQL cannot estimate (it counts matches in a histogram of 100
// sampled names: one hit among them makes a text of 20 matches look like
// one of 1% of the table, and a walk of the notAfter index that finds its
// 20 rows only at the end of ten million). So pki decides by looking:
// first the $19 certificates of the range in notAfter order
// (kFindPrefixSql); a text common enough to fill the page among them is
// answered so, the page being the same as the whole table's. Otherwise the
// text is rare, and kFindRareSql finds every name holding it through the
// names' trigram index (CN_TRIGRAMS), then every certificate of those names,
// and sorts them: the order by an expression no index has keeps PostgreSQL
// from walking the notAfter index instead. A text of CN_GRAM_CHARS
// characters or more is found through the names' 5-grams instead
// (kFindRareGramsSql, CN_GRAMS): a rare name may be made of common trigrams
// only (cucm-sub03.cl11929), whose posting lists name most of the names,
// while one of its 5-grams names a few.
static const char kFindPrefixSql[] = FIND_SQL(
    // The rows' own address too (ctid), by which FIND_SQL_OF reads them.
    "(SELECT c0.*, c0.ctid AS ctid FROM certificates c0 WHERE" RANGE(
        "c0", "0") " ORDER BY c0.not_after, c0.id LIMIT $19::bigint) c",
    "c.not_after", CN_LIKE) " LIMIT $16::bigint";
static const char kFindRareSql[] =
    FIND_SQL("certificates c", "(c.not_after + interval '0 seconds')",
             CN_TRIGRAMS) " LIMIT $16::bigint";
static const char kFindRareGramsSql[] =
    FIND_SQL("certificates c", "(c.not_after + interval '0 seconds')",
             CN_GRAMS) " LIMIT $16::bigint";

// status=revoked without a common-name text: the revoked certificates are
// a small share of the table (1% in bench:scale), so walking the notAfter
// index of certificates with a probe of revocations per row read 317,000
// rows for a page at ten million. This reads revocations rv itself in
// notAfter order instead (revocations_not_after_idx, migration 0023: the
// notAfter and id it copies from its certificate, the order and the
// cursor of a page), and the certificate of each by its key; rv is the
// row the status columns read, so no second probe.
static const char kFindRevokedSql[] = FIND_SQL_OF(IDENTITY_BRANCH_ON(
    "revocations rv JOIN certificates c ON c.id = rv.certificate_id", "",
    "rv.not_after", "rv.certificate_id", "rv.not_after",
    CN_LIKE)) " LIMIT $16::bigint";

// The length of pki_cn_grams's grams (migration 0022), in characters.
#define CN_GRAM_CHARS 5

// utf8_chars counts the characters of |text|: its bytes that do not
// continue a UTF-8 sequence. A text with fewer characters than a gram has
// no grams, and a filter by none would read the whole index.
static size_t utf8_chars(const char *text) {
  size_t n = 0;
  for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++) {
    n += (*p & 0xc0) != 0x80;
  }
  return n;
}

// How many certificates of the range kFindPrefixSql looks at, per row of
// the page: a text in at least one common name in 50 fills a page there.
#define FIND_PREFIX_ROWS_PER_ROW 50
#define FIND_PREFIX_MIN_ROWS 5000

static int decode_found(PGresult *res, int i, void *elem, const void *arg) {
  const ca_cert_filter *f = arg;
  ca_cert_row *r = elem;
  r->trust = ca_store_get_int(res, i, 0) == 1;
  r->external = ca_store_get_int(res, i, 0) == 2;
  r->id = ca_store_get_int(res, i, 1);
  r->key_bits = (unsigned)ca_store_get_int(res, i, 9);
  r->not_before = ca_store_get_int(res, i, 10);
  r->not_after = ca_store_get_int(res, i, 11);
  r->created_at = ca_store_get_int(res, i, 14);
  r->key_generated = ca_store_get_bool(res, i, 15);
  r->self_signed = ca_store_get_bool(res, i, 16);
  r->revoked_at = ca_store_get_int(res, i, 17);
  r->revocation_reason = (int)ca_store_get_int(res, i, 18);
  CA_ENSURE_RETURN(ca_store_get_text(res, i, 2, &r->serial) &&
                       ca_store_get_text(res, i, 3, &r->issuer) &&
                       ca_store_get_text(res, i, 4, &r->profile) &&
                       ca_store_get_text(res, i, 5, &r->subject) &&
                       ca_store_get_text(res, i, 6, &r->common_name) &&
                       split_sans(PQgetvalue(res, i, 7), r) &&
                       ca_store_get_text(res, i, 8, &r->key_type) &&
                       ca_store_get_text(res, i, 12, &r->status) &&
                       ca_store_get_text(res, i, 13, &r->requester) &&
                       ca_store_get_text(res, i, 19, &r->store) &&
                       ca_store_get_text(res, i, 20, &r->cluster) &&
                       ca_store_get_text(res, i, 23, &r->node) &&
                       ca_store_get_text(res, i, 24, &r->revocation),
                   CA_ERR_NO_MEMORY, "out of memory");
  snprintf(r->fingerprint, sizeof(r->fingerprint), "%s",
           PQgetvalue(res, i, 21));
  return !f->with_der || ca_store_get_bytea(res, i, 22, &r->der, &r->der_len);
}

static void free_found(void *rows, size_t n) {
  ca_cert_rows_free(rows, n);
}

static const ca_store_row_type kFoundRows = {sizeof(ca_cert_row), decode_found,
                                             free_found};

// find_run runs one of the statements above.
static int find_run(ca_store *store, const char *sql, const char *const *values,
                    const ca_cert_filter *f, ca_store_rows *rows) {
  const ca_store_stmt stmt = {
      .sql = sql,
      .n_params = sql == kFindPrefixSql || sql == kFindRareGramsSql ? 19 : 18,
      .values = values,
      .what = "listing certificates"};
  return ca_store_read_rows(store, &stmt, &kFoundRows, f, 0, rows);
}

// decode_grams copies kCnGramsSql's array, as PostgreSQL's text form.
static int decode_grams(PGresult *res, int i, void *elem, const void *arg) {
  (void)arg;
  CA_ENSURE_RETURN(ca_store_get_text(res, i, 0, elem), CA_ERR_NO_MEMORY,
                   "out of memory");
  return 1;
}

// find_rare finds a common-name text that did not fill a page among the
// first certificates of the range. |values| are kFindPrefixSql's; the
// last is replaced by the grams for kFindRareGramsSql.
static int find_rare(ca_store *store, const ca_cert_filter *f,
                     const char **values, ca_store_rows *rows) {
  const size_t chars = utf8_chars(f->cn);
  if (chars < CN_GRAM_CHARS) {
    // Trigrams need three characters; a shorter text is left to
    // PostgreSQL's plan.
    return find_run(store, chars >= 3 ? kFindRareSql : kFindSql, values, f,
                    rows);
  }
  const char *cn[1] = {f->cn};
  const ca_store_stmt stmt = {.sql = kCnGramsSql,
                              .n_params = 1,
                              .values = cn,
                              .what = "listing certificates"};
  char *grams = NULL;
  int found = 0;
  int ok = ca_store_read_one(store, &stmt, decode_grams, &grams, NULL, &found);
  if (ok) {
    values[18] = grams;
    ok = find_run(store, kFindRareGramsSql, values, f, rows);
  }
  OPENSSL_free(grams);
  return ok;
}

int ca_store_list_certificates(ca_store *store, const ca_cert_filter *f,
                               ca_cert_row **out, size_t *out_n) {
  char key_bits[16], before[24], after[24], c_na[24], c_kind[8], c_id[24],
      limit[24], prefix[24];
  snprintf(key_bits, sizeof(key_bits), "%u", f->key_bits);
  snprintf(before, sizeof(before), "%" PRId64, f->expires_before);
  snprintf(after, sizeof(after), "%" PRId64, f->expires_after);
  snprintf(c_na, sizeof(c_na), "%" PRId64, f->after.not_after);
  snprintf(c_kind, sizeof(c_kind), "%d", f->after.kind);
  snprintf(c_id, sizeof(c_id), "%" PRId64, f->after.id);
  snprintf(limit, sizeof(limit), "%zu", f->limit);
  const size_t prefix_rows = f->limit * FIND_PREFIX_ROWS_PER_ROW;
  snprintf(
      prefix, sizeof(prefix), "%zu",
      prefix_rows > FIND_PREFIX_MIN_ROWS ? prefix_rows : FIND_PREFIX_MIN_ROWS);
  const char *usage = f->usage == CA_USAGE_IDENTITY   ? "identity"
                      : f->usage == CA_USAGE_TRUST    ? "trust"
                      : f->usage == CA_USAGE_EXTERNAL ? "external"
                                                      : NULL;
  const char *values[19] = {f->profile,
                            f->cn,
                            f->status,
                            f->serial,
                            f->issuer,
                            usage,
                            f->key_type,
                            f->key_bits != 0 ? key_bits : NULL,
                            f->expires_before != 0 ? before : NULL,
                            f->expires_after != 0 ? after : NULL,
                            f->store,
                            f->cluster,
                            f->after.set ? c_na : NULL,
                            f->after.set ? c_kind : NULL,
                            f->after.set ? c_id : NULL,
                            limit,
                            f->with_der ? "true" : "false",
                            f->revocation,
                            prefix};
  ca_store_rows rows;
  if (f->cn == NULL && f->serial == NULL && f->status != NULL &&
      strcmp(f->status, "revoked") == 0) {
    CA_GUARD_RETURN(find_run(store, kFindRevokedSql, values, f, &rows));
  } else if (f->cn == NULL || f->serial != NULL) {
    CA_GUARD_RETURN(find_run(store, kFindSql, values, f, &rows));
  } else {
    CA_GUARD_RETURN(find_run(store, kFindPrefixSql, values, f, &rows));
    if (rows.n < f->limit) {
      // Too few among the first certificates: a rare text.
      ca_cert_rows_free(rows.rows, rows.n);
      CA_GUARD_RETURN(find_rare(store, f, values, &rows));
    }
  }
  *out = rows.rows;
  *out_n = rows.n;
  return 1;
}
