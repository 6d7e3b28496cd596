// Every limit of pki in one place, each with its reason.
//
// Limits on untrusted input are applied before any work that depends on the
// input's size: a length the client declared is checked here before it sizes
// an allocation, and is never trusted beyond that.
#ifndef PKI_CA_LIMITS_H
#define PKI_CA_LIMITS_H

// A PKCS#10 request of an RSA-4096 key with a dozen SANs is under 2 KiB in DER
// and 3 KiB in PEM; 64 KiB leaves room for long subjects and attributes while
// keeping a 10,000-item batch under 1 GiB in the worst case.
#define CA_LIMIT_CSR_BYTES (64 * 1024)

// The largest RSA modulus whose CSR signature we verify at all. Profiles
// accept at most 4096 bits; checking 8192 before the (costly) verification
// lets an oversized key be refused cheaply with a precise error.
#define CA_LIMIT_RSA_MAX_BITS 8192

// SANs per request. CUCM multi-server certificates cover a cluster of up to
// 21 nodes with FQDN, short name and address each; 100 is generous.
#define CA_LIMIT_SAN_COUNT 100

// RFC 1035: a domain name is at most 253 octets in text form, a label 63.
#define CA_LIMIT_DNS_NAME_LEN 253
#define CA_LIMIT_DNS_LABEL_LEN 63

// RFC 5280 appendix A: ub-common-name INTEGER ::= 64.
#define CA_LIMIT_CN_LEN 64

// Attributes in one subject Name; real subjects carry fewer than 10.
#define CA_LIMIT_NAME_ATTRIBUTES 32

// The formatted (RFC 4514) subject stored in the database. Each attribute
// value is bounded by the CSR size; escaping at most quadruples a byte.
#define CA_LIMIT_SUBJECT_TEXT_LEN 4096

// Items in one batch request (issue #2: "up to 10,000 items").
#define CA_LIMIT_BATCH_ITEMS 10000

// An HTTP request body. A 10,000-item batch of typical 1.5 KiB CSRs is about
// 15 MiB; 32 MiB allows larger CSRs without letting one client pin the
// memory of the service.
#define CA_LIMIT_BODY_BYTES (32 * 1024 * 1024)

// The body of the PEM endpoint (POST /v1/sign): one CSR in PEM.
#define CA_LIMIT_PEM_BODY_BYTES (2 * CA_LIMIT_CSR_BYTES)

// Certificates returned by one list call.
#define CA_LIMIT_LIST_PAGE 1000
#define CA_LIMIT_LIST_DEFAULT 100

// Validity requested by a client, in days: nothing pki issues outlives its
// 20-year root, so larger values can only be mistakes.
#define CA_LIMIT_VALIDITY_DAYS (20 * 366)

// Attempts to draw a fresh serial after a collision before giving up. With
// 128 random bits a single collision is already never expected; repeated ones
// mean a broken random source, which must not be papered over.
#define CA_LIMIT_SERIAL_ATTEMPTS 4

// Rows sent in one multi-row INSERT: 14 parameters each stays well below
// PostgreSQL's 65,535 parameters per statement.
#define CA_LIMIT_INSERT_ROWS 500

// Length of a query-string value or path segment we look at.
#define CA_LIMIT_QUERY_VALUE_LEN 256

// An OCSP request: RFC 5019 clients send under 255 bytes; a request with a
// nonce and several CertIDs stays well under 2 KiB. 16 KiB refuses only
// abuse.
#define CA_LIMIT_OCSP_REQUEST_BYTES (16 * 1024)

// CertIDs answered in one OCSP response: clients ask for one; a few more
// are allowed for chains.
#define CA_LIMIT_OCSP_CERT_IDS 16

// RFC 8954 2.1: a nonce "can be up to 32 octets"; responders "SHOULD
// reject" longer ones.
#define CA_LIMIT_OCSP_NONCE_BYTES 32

// Extensions read in one OCSP request.
#define CA_LIMIT_OCSP_EXTENSIONS 16

// --- Self-signed identities ---

// Self-signed identities being made at once (each on a thread of its own,
// off the HTTP threads): an RSA-4096 key generated on demand holds a core
// for seconds, and the machine has few; more wait for a retry (QUEUE_FULL).
#define CA_LIMIT_SELF_SIGNED_JOBS 4

// A cluster name as recorded with a certificate: CUCM cluster IDs are short
// ("StandAloneCluster"); 64 bytes is generous and bounds the audit detail.
#define CA_LIMIT_CLUSTER_LEN 64

#endif  // PKI_CA_LIMITS_H
