#include "ca/issue/self_signed.h"

#include <openssl/bytestring.h>
#include <openssl/mem.h>
#include <openssl/nid.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ca/oid.h"
#include "ca/policy/profile.h"
#include "ca/x509/key.h"
#include "ca/x509/san.h"
#include "ca/x509/x509.h"

// The mean calendar year: a validity of N years read back from notBefore
// and notAfter rounds to N whatever the leap days.
#define YEAR_SECONDS (365 * 86400 + 86400 / 4)

int ca_self_signed_make(const ca_authority *authority, ca_keypool *pool,
                        const ca_self_signed_request *request, int64_t now,
                        ca_issued *out) {
  memset(out, 0, sizeof(*out));
  ca_key_spec spec;
  const uint32_t years = request->validity_years != 0
                             ? request->validity_years
                             : CA_SELF_SIGNED_DEFAULT_YEARS;
  const ca_profile *profile =
      ca_profile_find(&authority->profiles, request->profile);
  CA_GUARD_PTR(profile);
  // Checked before a key is spent on the request.
  CA_ENSURE(
      ca_self_signed_years_allowed(profile, years), CA_ERR_VALIDITY_UNSUPPORTED,
      "a self-signed %s identity is valid %s years, not %u", profile->name,
      profile->self_signed_only ? "5, 10, 15 or 20" : "5, 10 or 20", years);
  const char *key_type = request->key_type;
  if (key_type == NULL || key_type[0] == '\0') {
    key_type = profile->key_type == CA_KEY_EC ? "EC-P256" : "RSA-2048";
  }
  CA_GUARD(ca_key_spec_parse(&spec, key_type));
  // The CN as CUCM writes it for this purpose (ITLRecovery:
  // ITLRECOVERY_<host>, the host given as the CN); without SANs asked for,
  // the SAN is the host. A missing CN is refused further on, as for others.
  ca_name_fields subject = *request->subject;
  char cn[CA_LIMIT_CN_LEN + 1], host[CA_LIMIT_CN_LEN + 1];
  const char *host_san[1] = {host};
  const int prefixed = profile->cn_prefix != NULL &&
                       subject.common_name != NULL &&
                       subject.common_name[0] != '\0';
  if (prefixed) {
    CA_GUARD(
        ca_profile_common_name(profile, subject.common_name, cn, sizeof(cn)));
    subject.common_name = cn;
    // The host: the CN given, without the prefix if it came with it.
    CBS name;
    CBS_init(&name, (const uint8_t *)cn, strlen(cn));
    ca_profile_cn_host(profile, &name);
    memcpy(host, CBS_data(&name), CBS_len(&name));
    host[CBS_len(&name)] = '\0';
  }
  const int host_san_only = prefixed && request->san_count == 0;
  const ca_issue_request issue = {
      .profile = request->profile,
      .generate = &spec,
      .subject = &subject,
      .sans = host_san_only ? host_san : request->sans,
      .san_count = host_san_only ? 1 : request->san_count,
      .self_signed_years = years,
  };
  return ca_issue_generate(authority, NULL, pool, &issue, now, out);
err:
  ca_err_copy(&out->err);
  return 0;
}

// record_and_commit inserts |issued| and its audit row in one transaction.
static int record_and_commit(ca_store *store, ca_store_tx *tx,
                             const ca_issued *issued, const char *cluster,
                             int64_t replaces_id, const char *requester,
                             const char *source, const char *action,
                             const char *detail) {
  ca_new_cert_row record;
  memset(&record, 0, sizeof(record));
  record.serial = issued->serial_hex;
  record.profile = issued->profile->name;
  record.subject = issued->subject;
  record.common_name = issued->common_name;
  record.sans = issued->sans;
  record.san_count = issued->san_count;
  record.key_type = issued->key.type;
  record.key_bits = issued->key.bits;
  record.not_before = issued->not_before;
  record.not_after = issued->not_after;
  record.der = issued->der;
  record.der_len = issued->der_len;
  record.requester = requester;
  record.csr_sha256 = issued->csr_sha256;
  record.key_generated = 1;
  record.cluster = cluster != NULL && cluster[0] != '\0' ? cluster : NULL;
  record.self_signed = 1;
  record.replaces_id = replaces_id;
  uint8_t collided = 0;
  if (tx == NULL) {
    CA_GUARD(ca_store_begin(store, &tx));
  }
  // Serials of self-signed rows are unique among themselves (a partial
  // unique index): a clash of two 128-bit random serials fails the
  // transaction as CA_ERR_CONFLICT rather than being recorded twice.
  CA_GUARD(ca_store_tx_insert_certificates(tx, &record, 1, &collided));
  CA_ENSURE(!collided, CA_ERR_SERIAL_EXHAUSTED, "serial %s exists already",
            issued->serial_hex);
  CA_GUARD(ca_store_tx_audit(tx, requester, action, issued->serial_hex, source,
                             "ok", detail));
  CA_GUARD(ca_store_commit(&tx));
  return 1;
err:
  ca_store_rollback(tx);
  return 0;
}

// fail_issued replaces what |out| holds by the thread's error.
static void fail_issued(ca_issued *out) {
  ca_err saved;
  ca_err_copy(&saved);
  ca_issued_fail(out, &saved);
  ca_err_restore(&saved);
}

int ca_self_signed_create(const ca_authority *authority, ca_store *store,
                          ca_keypool *pool,
                          const ca_self_signed_request *request,
                          const char *requester, const char *source,
                          ca_issued *out) {
  if (!ca_self_signed_make(authority, pool, request, (int64_t)time(NULL),
                           out)) {
    ca_err_restore(&out->err);
    return 0;
  }
  char key_name[16], detail[160];
  ca_key_spec_name(
      &(ca_key_spec){out->key.type, out->key.bits, out->key.curve_nid},
      key_name, sizeof(key_name));
  snprintf(detail, sizeof(detail), "profile=%s key=%s cluster=%.64s",
           out->profile->name, key_name,
           request->cluster != NULL && request->cluster[0] != '\0'
               ? request->cluster
               : "-");
  if (!record_and_commit(store, NULL, out, request->cluster, 0, requester,
                         source, "self-signed", detail)) {
    fail_issued(out);
    return 0;
  }
  return 1;
}

// --- Regeneration ---

// The fields of the old certificate's subject, NUL-terminated.
typedef struct subject_text {
  char country[CA_LIMIT_CN_LEN + 1];
  char state[CA_LIMIT_CN_LEN + 1];
  char locality[CA_LIMIT_CN_LEN + 1];
  char organization[CA_LIMIT_CN_LEN + 1];
  char organizational_unit[CA_LIMIT_CN_LEN + 1];
  char common_name[CA_LIMIT_CN_LEN + 1];
} subject_text;

// read_subject reads back the Name that ca_name_add_fields wrote: one
// attribute per RDN among C, ST, L, O, OU and CN, each at most once.
static int read_subject(const CBS *name, subject_text *out) {
  CBS in = *name, rdns;
  memset(out, 0, sizeof(*out));
  static const struct {
    const uint8_t *oid;
    size_t oid_len;
    size_t offset;
  } kFields[] = {
      {kOidCountryName, sizeof(kOidCountryName),
       offsetof(subject_text, country)},
      {kOidStateOrProvinceName, sizeof(kOidStateOrProvinceName),
       offsetof(subject_text, state)},
      {kOidLocalityName, sizeof(kOidLocalityName),
       offsetof(subject_text, locality)},
      {kOidOrganizationName, sizeof(kOidOrganizationName),
       offsetof(subject_text, organization)},
      {kOidOrganizationalUnitName, sizeof(kOidOrganizationalUnitName),
       offsetof(subject_text, organizational_unit)},
      {kOidCommonName, sizeof(kOidCommonName),
       offsetof(subject_text, common_name)},
  };
  CA_ENSURE_RETURN(
      CBS_get_asn1(&in, &rdns, CBS_ASN1_SEQUENCE) && CBS_len(&in) == 0,
      CA_ERR_CERT_MALFORMED, "subject is not a Name");
  while (CBS_len(&rdns) > 0) {
    CBS rdn, ava, oid, value;
    unsigned tag;
    CA_ENSURE_RETURN(
        CBS_get_asn1(&rdns, &rdn, CBS_ASN1_SET) &&
            CBS_get_asn1(&rdn, &ava, CBS_ASN1_SEQUENCE) && CBS_len(&rdn) == 0 &&
            CBS_get_asn1(&ava, &oid, CBS_ASN1_OBJECT) &&
            CBS_get_any_asn1(&ava, &value, &tag) && CBS_len(&ava) == 0,
        CA_ERR_CERT_MALFORMED, "subject attribute malformed");
    size_t i = 0;
    while (i < sizeof(kFields) / sizeof(kFields[0]) &&
           !CBS_mem_equal(&oid, kFields[i].oid, kFields[i].oid_len)) {
      i++;
    }
    CA_ENSURE_RETURN(i < sizeof(kFields) / sizeof(kFields[0]),
                     CA_ERR_CERT_MALFORMED,
                     "subject attribute not one pki writes");
    char *field = (char *)out + kFields[i].offset;
    CA_ENSURE_RETURN(field[0] == '\0' && CBS_len(&value) > 0 &&
                         CBS_len(&value) <= CA_LIMIT_CN_LEN &&
                         memchr(CBS_data(&value), 0, CBS_len(&value)) == NULL,
                     CA_ERR_CERT_MALFORMED,
                     "subject attribute repeated or too long");
    memcpy(field, CBS_data(&value), CBS_len(&value));
  }
  return 1;
}

// What the successor of a certificate is made of; its strings point into
// itself.
typedef struct successor {
  subject_text subject_text;
  ca_name_fields subject;
  ca_san_list sans;
  char san_text[CA_LIMIT_SAN_COUNT][CA_LIMIT_DNS_NAME_LEN + 8];
  const char *san_ptrs[CA_LIMIT_SAN_COUNT];
  char key_type[16];
} successor;

// successor_of reads the subject and SANs of the old certificate |row|.
static int successor_of(const ca_self_signed_row *row, successor *out) {
  ca_x509 cert;
  CBS san;
  int critical;
  CA_GUARD_RETURN(ca_x509_parse(&cert, row->der, row->der_len));
  CA_GUARD_RETURN(read_subject(&cert.subject, &out->subject_text));
  const subject_text *t = &out->subject_text;
  out->subject = (ca_name_fields){
      .country = t->country,
      .state = t->state,
      .locality = t->locality,
      .organization = t->organization,
      .organizational_unit = t->organizational_unit,
      .common_name = t->common_name,
  };
  CA_ENSURE_RETURN(
      ca_x509_find_extension(&cert, kOidSubjectAltName,
                             sizeof(kOidSubjectAltName), &san, &critical),
      CA_ERR_CERT_MALFORMED, "the certificate has no subjectAltName");
  CA_GUARD_RETURN(ca_san_parse(&out->sans, &san));
  for (size_t i = 0; i < out->sans.count; i++) {
    CA_ENSURE_RETURN(ca_san_format(&out->sans.items[i], out->san_text[i],
                                   sizeof(out->san_text[i])),
                     CA_ERR_INTERNAL, "cannot format a SAN");
    out->san_ptrs[i] = out->san_text[i];
  }
  ca_key_spec spec = {0, 0, 0};
  if (strcmp(row->key_type, "EC") == 0) {
    spec.type = CA_KEY_EC;
    spec.curve_nid =
        row->key_bits == 384 ? NID_secp384r1 : NID_X9_62_prime256v1;
  } else {
    spec.type = CA_KEY_RSA;
    spec.rsa_bits = row->key_bits;
  }
  ca_key_spec_name(&spec, out->key_type, sizeof(out->key_type));
  return 1;
}

// lock_old locks the row of |serial| in |tx| and checks that it may be
// regenerated.
static int lock_old(ca_store_tx *tx, const char *serial,
                    ca_self_signed_row *row) {
  int found;
  CA_GUARD_RETURN(ca_store_tx_lock_for_regenerate(tx, serial, row, &found));
  CA_ENSURE_RETURN(found, CA_ERR_NOT_FOUND, "no certificate with serial %s",
                   serial);
  CA_ENSURE_RETURN(row->self_signed, CA_ERR_NOT_SELF_SIGNED,
                   "serial %s was issued by a pki CA: issue it again instead",
                   serial);
  CA_ENSURE_RETURN(row->replaced_by == NULL, CA_ERR_CONFLICT,
                   "serial %s was already replaced by %s: regenerate that one",
                   serial, row->replaced_by);
  return 1;
}

int ca_self_signed_regenerate(const ca_authority *authority, ca_store *store,
                              ca_keypool *pool, const char *serial,
                              uint32_t validity_years, const char *key_type,
                              const char *requester, const char *source,
                              ca_issued *out,
                              char out_replaced[CA_SERIAL_HEX_LEN]) {
  int ret = 0;
  ca_store_tx *tx = NULL;
  ca_self_signed_row row;
  memset(&row, 0, sizeof(row));
  memset(out, 0, sizeof(*out));
  successor *next = calloc(1, sizeof(*next));
  ca_serial parsed;
  CA_ENSURE_ALLOC(next);
  CA_GUARD(ca_serial_from_hex(serial, strlen(serial), &parsed));
  ca_serial_to_hex(&parsed, out_replaced);

  // First look, without holding the row while a key is generated (seconds
  // for RSA-4096): refusals come before any key is spent.
  CA_GUARD(ca_store_begin(store, &tx));
  CA_GUARD(lock_old(tx, out_replaced, &row));
  ca_store_rollback(tx);
  tx = NULL;
  CA_GUARD(successor_of(&row, next));
  uint32_t years = validity_years;
  if (years == 0) {
    // As long as the old one: 5, 10 or 20 years.
    years = (uint32_t)((row.not_after - row.not_before + YEAR_SECONDS / 2) /
                       YEAR_SECONDS);
  }
  const ca_self_signed_request request = {
      .profile = row.profile,
      .subject = &next->subject,
      .sans = next->san_ptrs,
      .san_count = next->sans.count,
      // A key of another type or size must still suit the profile:
      // ca_self_signed_make checks it as for a new identity.
      .key_type =
          key_type != NULL && key_type[0] != '\0' ? key_type : next->key_type,
      .validity_years = years,
      .cluster = row.cluster,
  };
  if (!ca_self_signed_make(authority, pool, &request, (int64_t)time(NULL),
                           out)) {
    ca_err_restore(&out->err);
    goto err;
  }

  // Then record it, after checking again under the row's lock that nobody
  // regenerated it meanwhile.
  const int64_t old_id = row.id;
  ca_self_signed_row_cleanup(&row);
  CA_GUARD(ca_store_begin(store, &tx));
  CA_GUARD(lock_old(tx, out_replaced, &row));
  CA_ENSURE(row.id == old_id, CA_ERR_CONFLICT,
            "serial %s changed while it was regenerated", out_replaced);
  char detail[96];
  snprintf(detail, sizeof(detail), "replaces %s", out_replaced);
  ca_store_tx *recording = tx;
  tx = NULL;
  CA_GUARD(record_and_commit(store, recording, out, row.cluster, row.id,
                             requester, source, "regenerate", detail));
  ret = 1;
err:
  ca_store_rollback(tx);  // NULL once handed to record_and_commit
  ca_self_signed_row_cleanup(&row);
  free(next);
  if (!ret) {
    fail_issued(out);
  }
  return ret;
}
