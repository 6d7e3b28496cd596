#include "ca/policy/export.h"

#include <stddef.h>
#include <strings.h>

static const char *const kAllPurposes[CA_BULK_ALL_PURPOSES_COUNT] = {
    "tomcat", "tomcat-ECDSA", "CallManager", "CallManager-ECDSA", "CAPF",
};

const char *const *ca_bulk_all_purposes(void) {
  return kAllPurposes;
}

const char *ca_bulk_export_purpose(const char *name) {
  for (size_t i = 0; i < CA_BULK_ALL_PURPOSES_COUNT; i++) {
    if (strcasecmp(name, kAllPurposes[i]) == 0) {
      return kAllPurposes[i];
    }
  }
  CA_SET_ERROR(CA_ERR_PARAMETER_INVALID,
               "type must be tomcat, tomcat-ECDSA, CallManager, "
               "CallManager-ECDSA, CAPF or all");
  return NULL;
}
