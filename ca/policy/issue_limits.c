#include "ca/policy/issue_limits.h"

#include "ca/limits.h"

void ca_issue_limits_init(ca_issue_limits *limits) {
  limits->csr_bytes = CA_LIMIT_CSR_BYTES;
  limits->san_count = CA_LIMIT_SAN_COUNT;
}

int ca_issue_limits_check(const ca_issue_limits *limits) {
  CA_ENSURE_RETURN(
      limits->csr_bytes == 0 || (limits->csr_bytes >= CA_LIMIT_CSR_BYTES_MIN &&
                                 limits->csr_bytes <= CA_LIMIT_CSR_BYTES),
      CA_ERR_CONFIG, "the CSR limit must be %d to %d bytes",
      CA_LIMIT_CSR_BYTES_MIN, CA_LIMIT_CSR_BYTES);
  CA_ENSURE_RETURN(limits->san_count <= CA_LIMIT_SAN_COUNT, CA_ERR_CONFIG,
                   "the SAN limit must be 1 to %d names", CA_LIMIT_SAN_COUNT);
  return 1;
}

// A value past the ceiling is never applied: the ceilings size arrays
// (ca_san_list) and bound the parsers whatever the configuration says.
size_t ca_issue_limits_csr_bytes(const ca_issue_limits *limits) {
  return limits->csr_bytes == 0 || limits->csr_bytes > CA_LIMIT_CSR_BYTES
             ? CA_LIMIT_CSR_BYTES
             : limits->csr_bytes;
}

size_t ca_issue_limits_san_count(const ca_issue_limits *limits) {
  return limits->san_count == 0 || limits->san_count > CA_LIMIT_SAN_COUNT
             ? CA_LIMIT_SAN_COUNT
             : limits->san_count;
}
