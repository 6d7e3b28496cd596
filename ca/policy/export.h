// Which certificate purposes a bulk export carries: the purposes whose
// certificates peers in other clusters put into their trust stores.
#ifndef PKI_CA_EXPORT_H
#define PKI_CA_EXPORT_H

#include "ca/error.h"

// The purposes of ?type=all, in export order. CallManager-ECDSA belongs to
// the CallManager family and lands in the same stores, so it goes too.
#define CA_BULK_ALL_PURPOSES_COUNT 5

// ca_bulk_all_purposes returns the CA_BULK_ALL_PURPOSES_COUNT purposes of
// an export of type "all" (static strings): tomcat, tomcat-ECDSA,
// CallManager, CallManager-ECDSA, CAPF.
const char *const *ca_bulk_all_purposes(void);

// ca_bulk_export_purpose returns the canonical spelling of an exportable
// purpose |name| (one of ca_bulk_all_purposes, without regard to case), or
// NULL with CA_ERR_PARAMETER_INVALID.
const char *ca_bulk_export_purpose(const char *name);

#endif  // PKI_CA_EXPORT_H
