#include "ca/x509/reason.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct {
  int code;
  const char *name;
  const char *alias;
} kReasons[] = {
    {CA_REASON_UNSPECIFIED, "unspecified", "unspecified"},
    {CA_REASON_KEY_COMPROMISE, "keyCompromise", "key-compromise"},
    {CA_REASON_CA_COMPROMISE, "cACompromise", "ca-compromise"},
    {CA_REASON_AFFILIATION_CHANGED, "affiliationChanged",
     "affiliation-changed"},
    {CA_REASON_SUPERSEDED, "superseded", "superseded"},
    {CA_REASON_CESSATION_OF_OPERATION, "cessationOfOperation",
     "cessation-of-operation"},
    {CA_REASON_CERTIFICATE_HOLD, "certificateHold", "certificate-hold"},
    {CA_REASON_PRIVILEGE_WITHDRAWN, "privilegeWithdrawn",
     "privilege-withdrawn"},
    {CA_REASON_AA_COMPROMISE, "aACompromise", "aa-compromise"},
};
#define REASON_COUNT (sizeof(kReasons) / sizeof(kReasons[0]))

int ca_reason_valid(int code) {
  for (size_t i = 0; i < REASON_COUNT; i++) {
    if (kReasons[i].code == code) {
      return 1;
    }
  }
  return 0;
}

const char *ca_reason_name(int reason) {
  for (size_t i = 0; i < REASON_COUNT; i++) {
    if (kReasons[i].code == reason) {
      return kReasons[i].name;
    }
  }
  return "unknown";
}

int ca_reason_parse(ca_reason *out, const char *text) {
  for (size_t i = 0; i < REASON_COUNT; i++) {
    if (strcasecmp(text, kReasons[i].name) == 0 ||
        strcasecmp(text, kReasons[i].alias) == 0) {
      *out = (ca_reason)kReasons[i].code;
      return 1;
    }
  }
  // Digits only, and few: strtol would take " 1", "+1", and values that
  // wrap around when narrowed to int.
  const size_t len = strlen(text);
  int code = -1;
  if (len > 0 && len <= 2 && strspn(text, "0123456789") == len) {
    code = atoi(text);
  }
  CA_ENSURE_RETURN(
      ca_reason_valid(code), CA_ERR_PARAMETER_INVALID,
      "unknown revocation reason \"%.32s\" (keyCompromise, superseded, "
      "cessationOfOperation, certificateHold, ...)",
      text);
  *out = (ca_reason)code;
  return 1;
}
