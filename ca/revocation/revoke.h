// Revocation: revoking (one certificate or a batch), putting on hold and
// releasing a certificate.
//
// Each change is one transaction: the certificates' rows, one audit row per
// certificate, a NOTIFY per certificate on channel CA_REVOCATION_CHANNEL
// (payload "ISSUER_ID:SERIAL") that tells every node's OCSP responder to
// forget what it cached of that certificate, and a crl_pending row per CA
// touched. No CRL is made in it: the CRL writer (crl_writer.h) of one node
// coalesces every change of a CA into its next CRL, due by |crl_due_at| of
// the result.
#ifndef PKI_CA_REVOKE_H
#define PKI_CA_REVOKE_H

#include <stdint.h>

#include "ca/error.h"
#include "ca/issue/authority.h"
#include "ca/revocation/crl.h"
#include "ca/revocation/crl_writer.h"
#include "ca/store/store.h"

#define CA_REVOCATION_CHANNEL "pki_revocation"

typedef struct ca_revocation {
  const char *serial;  // hex, as the client wrote it
  const char *issuer;  // CA name, or NULL to find the serial anywhere
  int reason;          // ca_reason
  int64_t when;        // revocation time; 0 for now
  const char *actor;   // for the audit log
  const char *source;
  int64_t crl_interval_s;  // the writer's; 0: CA_CRL_DEFAULT_INTERVAL_SECONDS
} ca_revocation;

// The certificate's state after the change.
typedef struct ca_revocation_result {
  char serial[CA_SERIAL_HEX_LEN];
  const ca_issuer *issuer;  // borrowed from the authority
  int revoked;
  int64_t revoked_at;
  int reason;
  // The number of the CRL that carries the change: 0, since that CRL is
  // made after the change commits, by the CRL writer; it is known once
  // GET /v1/crl lists the change.
  uint64_t crl_number;
  // When the CRL carrying the change is due (Unix seconds): the change's
  // commit plus the writer's interval plus CA_CRL_WRITER_SLACK_SECONDS.
  int64_t crl_due_at;
  // In a batch: CA_OK when the change was made, else why this item was
  // refused (nothing changed for it).
  ca_err err;
} ca_revocation_result;

// ca_revoke revokes a certificate. A good certificate becomes revoked for
// |reason|; one on hold (certificateHold) may be revoked for good with
// another reason; every other revocation is final. It returns 0 with
// CA_ERR_NOT_FOUND, CA_ERR_AMBIGUOUS (a serial under several CAs: name the
// issuer), CA_ERR_CONFLICT (a self-signed identity: nothing of pki can
// publish its revocation), CA_ERR_ALREADY_REVOKED, CA_ERR_PARAMETER_INVALID
// (bad reason or time) or CA_ERR_STORAGE_UNAVAILABLE; nothing changes then.
int ca_revoke(const ca_authority *authority, ca_store *store,
              const ca_revocation *request,
              ca_revocation_result *out) CA_MUST_CHECK;

// One item of a batch revocation: the fields of ca_revocation that differ
// from item to item.
typedef struct ca_revocation_item {
  const char *serial;
  const char *issuer;  // NULL or "": any CA
  int reason;
  int64_t when;  // 0: now
  // For the item's audit row: NULL takes the batch's. A group of single
  // revocations (revoke_group.h) commits several clients' items together.
  const char *actor;
  const char *source;
} ca_revocation_item;

typedef struct ca_revocation_batch {
  const ca_revocation_item *items;
  size_t n;
  const char *actor;
  const char *source;
  int64_t crl_interval_s;  // as in ca_revocation
} ca_revocation_batch;

// ca_revoke_batch revokes the |batch->n| items in ONE transaction, each as
// ca_revoke would, in order: an item sees what the items before it did (a
// serial twice: the second is CA_ERR_ALREADY_REVOKED, or
// CA_ERR_PARAMETER_INVALID when the first only put it on hold, since a
// certificate changes once per transaction). An item refused is refused
// alone: |results[i].err| says why and nothing
// changes for it, while the other items commit. It returns 1 when the
// transaction committed (|*out_revoked| items revoked, maybe 0), and 0 with
// CA_ERR_STORAGE_UNAVAILABLE (or CA_ERR_NO_MEMORY) when nothing at all was
// written. |results| holds |batch->n| elements.
int ca_revoke_batch(const ca_authority *authority, ca_store *store,
                    const ca_revocation_batch *batch,
                    ca_revocation_result *results,
                    size_t *out_revoked) CA_MUST_CHECK;

// ca_unhold releases a certificate on hold: it is good again. It returns 0
// with CA_ERR_NOT_ON_HOLD for any other state, or the lookup errors of
// ca_revoke.
int ca_unhold(const ca_authority *authority, ca_store *store,
              const ca_revocation *request,
              ca_revocation_result *out) CA_MUST_CHECK;

#endif  // PKI_CA_REVOKE_H
