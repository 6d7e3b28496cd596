// X.501 Names (RFC 5280 4.1.2.4): validation, the subject of a leaf, and the
// RFC 4514 text form.
#ifndef PKI_CA_NAME_H
#define PKI_CA_NAME_H

#include <openssl/bytestring.h>

#include "ca/error.h"

// ca_name_check validates the Name element |name| (tag included): a SEQUENCE
// of non-empty SETs of AttributeTypeAndValue, at most
// CA_LIMIT_NAME_ATTRIBUTES attributes, each value a string type without a
// control character (NUL, CR, LF and the rest of C0, or DEL). When |out_cn|
// is not NULL it also requires exactly one commonName, a UTF8String,
// PrintableString or IA5String of at most CA_LIMIT_CN_LEN bytes, and sets
// |*out_cn| to a view of its contents. It returns 0 with
// CA_ERR_SUBJECT_INVALID or CA_ERR_SUBJECT_CN_MISSING.
int ca_name_check(const CBS *name, CBS *out_cn) CA_MUST_CHECK;

// ca_name_add_leaf_subject appends to |out| the Name element |name| (already
// checked) without its organizationalUnitName attributes when |keep_ou| is 0:
// OU is optional in RFC 5280, prohibited by the CA/Browser Forum baseline
// since 2022, and omitted by CUCM 14. RDNs left empty are dropped. Removing
// members of a DER SET OF keeps the rest in order, so no re-sorting is needed.
int ca_name_add_leaf_subject(CBB *out, const CBS *name,
                             int keep_ou) CA_MUST_CHECK;

// ca_name_format sets |*out| to a NUL-terminated RFC 4514 string of the Name
// element |name| (already checked), most significant RDN last, as
// "CN=host,O=Example,C=US". The caller frees |*out| with OPENSSL_free. It
// returns 0 with CA_ERR_SUBJECT_INVALID if the text would exceed
// CA_LIMIT_SUBJECT_TEXT_LEN, or CA_ERR_NO_MEMORY.
int ca_name_format(const CBS *name, char **out) CA_MUST_CHECK;

// The fields of a subject a client may ask for (all optional but the CN).
typedef struct ca_name_fields {
  const char *country;  // two letters
  const char *state;
  const char *locality;
  const char *organization;
  const char *organizational_unit;
  const char *common_name;
} ca_name_fields;

// ca_name_add_fields appends a Name with the non-empty fields of |fields|,
// most significant first (C, ST, L, O, OU, CN): countryName as a
// PrintableString of two letters, the rest as UTF8Strings of at most
// CA_LIMIT_CN_LEN bytes without control characters. It returns 0 with
// CA_ERR_SUBJECT_CN_MISSING or CA_ERR_SUBJECT_INVALID.
int ca_name_add_fields(CBB *out, const ca_name_fields *fields) CA_MUST_CHECK;

// ca_name_add_simple appends a Name holding the given attributes, each a
// UTF8String (PrintableString for countryName), in the order given:
// |country| (may be NULL), |organization| (may be NULL), |common_name|. Used
// for the names of pki's own CAs.
int ca_name_add_simple(CBB *out, const char *country, const char *organization,
                       const char *common_name) CA_MUST_CHECK;

#endif  // PKI_CA_NAME_H
