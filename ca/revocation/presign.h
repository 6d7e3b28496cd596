// The background task that keeps the shared OCSP answers
// (ca/store/store_ocsp.h): it stores what the responder signed, and renews
// stored answers before they go stale, so that no node has to sign them on
// a request.
#ifndef PKI_CA_PRESIGN_H
#define PKI_CA_PRESIGN_H

#include <stddef.h>
#include <stdint.h>

#include "ca/error.h"
#include "ca/revocation/responder.h"
#include "ca/store/store.h"

typedef struct ca_presigner ca_presigner;

typedef struct ca_presign_config {
  int64_t flush_ms;    // how often signed answers are stored
  int64_t renew_s;     // how often stored answers are looked at for renewal
  size_t renew_batch;  // answers renewed per transaction
} ca_presign_config;

void ca_presign_config_init(ca_presign_config *config);

// ca_presigner_start starts the task for |responder| and |store| (both
// borrowed; they must outlive ca_presigner_stop).
int ca_presigner_start(ca_responder *responder, ca_store *store,
                       const ca_presign_config *config,
                       ca_presigner **out) CA_MUST_CHECK;

// ca_presigner_stop stores what is left to store, stops the task and frees
// it. NULL is a no-op.
void ca_presigner_stop(ca_presigner *presigner);

// ca_presign_flush stores the answers |responder| signed since the last
// call; the task calls it every |flush_ms|. It returns 0 with the store's
// error; the answers are then dropped (they are signed again on request).
int ca_presign_flush(ca_responder *responder, ca_store *store) CA_MUST_CHECK;

// ca_presign_renew renews every stored answer of |responder|'s signers
// that is due at |now|, |batch| per transaction, and sets |*out_renewed|.
int ca_presign_renew(ca_responder *responder, int64_t now, size_t batch,
                     size_t *out_renewed) CA_MUST_CHECK;

#endif  // PKI_CA_PRESIGN_H
