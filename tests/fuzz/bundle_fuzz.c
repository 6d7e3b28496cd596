// Fuzz target: POST /v1/bulk/import bodies, the way
// api/server/handlers/handlers_bulk.c reads them: the bounded count and
// unpacking of the ImportRequest (api_import_request_unpack), the view of its
// bundle with every entry checked (api_bundle_view), each certificate read as
// an import reads it before its transaction (ca_trust_cert_read), the bundle
// consolidated with another cluster's (ca_bulk_consolidate), and a PKCS#12 file
// read with its password (ca_bulk_pkcs12_certificates). The database writes of
// an import are left out; what reaches them is what this target checks.
#include <openssl/mem.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/server/bundle.h"
#include "ca/exchange/bulk.h"
#include "ca/limits.h"
#include "ca/policy/trust.h"
#include "proto/pki.pb-c.h"
#include "tests/fuzz/fuzz.h"

static void check_merge(const ca_bundle *bundles, size_t total) {
  ca_bulk_merge m;
  if (!ca_bulk_consolidate(bundles, 2, &m)) {
    const ca_err_code code = ca_err_get()->code;
    FUZZ_ASSERT(code == CA_ERR_BUNDLES_TOO_FEW ||
                code == CA_ERR_BUNDLE_MALFORMED || code == CA_ERR_NO_MEMORY);
    return;
  }
  // Every entry is kept, dropped as a copy, or in a conflict.
  size_t in_conflicts = 0;
  for (size_t i = 0; i < m.n_conflicts; i++) {
    FUZZ_ASSERT(m.conflicts[i].n_entries >= 2);
    in_conflicts += m.conflicts[i].n_entries;
  }
  FUZZ_ASSERT(m.n_entries + m.duplicates + in_conflicts == total);
  FUZZ_ASSERT(m.n_clusters >= 2);
  ca_bulk_merge_cleanup(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  Pki__V1__ImportRequest *req = api_import_request_unpack(data, size);
  if (req == NULL) {
    const ca_err_code code = ca_err_get()->code;
    FUZZ_ASSERT(code == CA_ERR_BUNDLE_MALFORMED ||
                code == CA_ERR_OBJECT_TOO_LARGE ||
                code == CA_ERR_REQUEST_MALFORMED);
    return 0;
  }
  if (req->bundle != NULL) {
    ca_bundle_entry *entries = NULL;
    ca_bundle view;
    if (api_bundle_view(req->bundle, &entries, &view)) {
      FUZZ_ASSERT(view.n_entries <= CA_LIMIT_BUNDLE_ENTRIES);
      for (size_t i = 0; i < view.n_entries; i++) {
        ca_trust_cert cert;
        if (ca_trust_cert_read(entries[i].der, entries[i].der_len, &cert)) {
          ca_trust_cert_cleanup(&cert);
        }
        const char *stores[2];
        FUZZ_ASSERT(ca_trust_purpose_stores(entries[i].purpose, stores) <= 2);
      }
      static const uint8_t kOther[] = {0x30, 0x00};
      const ca_bundle_entry other = {.cluster = "fuzz-other",
                                     .node = "other.example.com",
                                     .purpose = "tomcat",
                                     .der = kOther,
                                     .der_len = sizeof(kOther)};
      const ca_bundle bundles[2] = {view, {"fuzz-other", &other, 1}};
      check_merge(bundles, view.n_entries + 1);
      OPENSSL_free(entries);
    } else {
      const ca_err_code code = ca_err_get()->code;
      FUZZ_ASSERT(code == CA_ERR_BUNDLE_MALFORMED ||
                  code == CA_ERR_OBJECT_TOO_LARGE || code == CA_ERR_NO_MEMORY);
    }
  }
  if (req->pkcs12.len > 0) {
    ca_trust_cert *certs;
    size_t n;
    if (ca_bulk_pkcs12_certificates(req->pkcs12.data, req->pkcs12.len,
                                    req->password, &certs, &n)) {
      FUZZ_ASSERT(n >= 1 && n <= CA_LIMIT_TRUST_UPLOAD_CERTS);
      ca_trust_certs_free(certs, n);
    }
  }
  pki__v1__import_request__free_unpacked(req, NULL);
  return 0;
}
