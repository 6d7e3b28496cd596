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

// A JSON request body (api/json/json_codec.h), besides its route's byte
// limit. pki's messages nest three deep; with their arrays, 32 levels is
// far beyond any real request and keeps recursion shallow. jansson's tree
// takes tens of bytes per value, so the values are counted before it is
// built: a batch of CA_LIMIT_BATCH_ITEMS_MAX items of about six values
// each fits, and the tree of a body of tiny values stays near 100 MiB.
#define CA_LIMIT_JSON_DEPTH 32
#define CA_LIMIT_JSON_VALUES (1024 * 1024)

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

// An OCSP response pki reads as a client (revocation checks of trusted
// certificates): a response holds one answer and perhaps a responder's
// certificate; 64 KiB leaves room for a chain.
#define CA_LIMIT_OCSP_RESPONSE_BYTES (64 * 1024)

// Certificates read from the certs field of one OCSP response.
#define CA_LIMIT_OCSP_RESPONSE_CERTS 8

// A CRL pki fetches from a distribution point to check a trusted
// certificate: large CAs publish CRLs of a few MiB.
#define CA_LIMIT_REVCHECK_CRL_BYTES (16 * 1024 * 1024)

// Extensions read in one OCSP request.
#define CA_LIMIT_OCSP_EXTENSIONS 16

// A trust-store upload: a PKCS#7 of a CA bundle holds tens of certificates
// of a few KiB each; 1 MiB and 64 certificates leave room and bound the work.
#define CA_LIMIT_TRUST_UPLOAD_BYTES (1024 * 1024)
#define CA_LIMIT_TRUST_UPLOAD_CERTS 64

// One certificate from elsewhere: real ones are under 8 KiB.
#define CA_LIMIT_TRUST_CERT_BYTES (64 * 1024)

// Bytes of another CA's common name kept for display and search.
#define CA_LIMIT_CN_TEXT_LEN 256

// An operator's note on a trust entry or a registered identity: a line,
// not a document.
#define CA_LIMIT_DESCRIPTION_LEN 256

// A registered identity: the leaf and its chain. Real chains are two to
// four certificates; ten bound the verification work.
#define CA_LIMIT_IDENTITY_CERTS 10

// Registered identities listed at once: one per node and purpose.
#define CA_LIMIT_IDENTITY_LIST 10000

// Entries listed from one trust store at once: the stores of a cluster
// hold tens to a few hundred certificates.
#define CA_LIMIT_TRUST_LIST 10000

// --- Bulk export, consolidate, import ---

// A cluster name: CUCM cluster IDs are short; 64 keeps DIR/<cluster>.bundle
// a sane file name.
#define CA_LIMIT_CLUSTER_LEN 64

// A bundle, or all bundles of one consolidate call: a cluster exports tens
// to a few hundred certificates of a few KiB each; 16 MiB holds thousands
// and bounds what one call may make pkid decode.
#define CA_LIMIT_BUNDLE_BYTES (16 * 1024 * 1024)

// Entries of one bundle, and of all bundles of a consolidate call: counted
// before decoding (protobuf-c allocates per element). 40 nodes x 5
// purposes per cluster, times dozens of clusters, stays well below.
#define CA_LIMIT_BUNDLE_ENTRIES 20000

// Bundles in one consolidate call: EMCC federations have a few clusters.
#define CA_LIMIT_BUNDLES 64

// A text field of a bundle entry (node, purpose, issuer, serial): node
// names are host names (at most 253 bytes).
#define CA_LIMIT_BUNDLE_TEXT_LEN 256

// A PKCS#12 file to import: CUCM's bulk export of a cluster's certificates
// is tens of KiB; it shares the trust upload's bound.
#define CA_LIMIT_PKCS12_BYTES CA_LIMIT_TRUST_UPLOAD_BYTES

// Key-derivation iterations of one PKCS#12 file, summed over its MAC and
// every encrypted part: each costs a hash, and the count is the sender's
// choice, so one upload could otherwise keep a thread busy for minutes.
// OpenSSL writes 2,048 per part, Java 10,000; a million in all is about a
// quarter of a second of SHA-256 here.
#define CA_LIMIT_PKCS12_ITERATIONS 1000000

// Nesting of a PKCS#12 file that is walked for its iteration counts: the
// PFX, its AuthenticatedSafe, SafeContents, bags and certificates are under
// 16 levels deep.
#define CA_LIMIT_PKCS12_DEPTH 16

// A PKCS#12 password: PKCS#12 passwords are BMPStrings of what a person
// types.
#define CA_LIMIT_PKCS12_PASSWORD_LEN 256

// --- Expiry monitor ---

// Destinations of each kind (e-mail addresses, webhook URLs): a handful of
// team addresses and chat hooks; more is a distribution list's job.
#define CA_LIMIT_MONITOR_DESTINATIONS 16

// RFC 5321 4.5.3.1.3: a path is at most 256 octets with its brackets, so
// an address is at most 254.
#define CA_LIMIT_EMAIL_LEN 254

// A webhook URL: chat services' hook URLs stay under 300 bytes; 2,048 is
// what browsers and proxies reliably carry.
#define CA_LIMIT_WEBHOOK_URL_LEN 2048

// Certificates listed by one check or one GET /v1/monitor/expiring: a
// deployment of thousands of nodes fits; a notice longer than that would
// not be read anyway.
#define CA_LIMIT_MONITOR_ROWS 10000

// Expired certificates keep being reported this many days after notAfter,
// then the monitor assumes the node was retired.
#define CA_LIMIT_MONITOR_EXPIRED_DAYS 30

// Notices sent are kept this many days (the audit of what was sent), then
// pruned by the next check; more than the longest window (30 days).
#define CA_LIMIT_MONITOR_NOTICE_DAYS 90

// --- Self-signed identities ---

// Self-signed identities being made at once (each on a thread of its own,
// off the HTTP threads): an RSA-4096 key generated on demand holds a core
// for seconds, and the machine has few; more wait for a retry (QUEUE_FULL).
#define CA_LIMIT_SELF_SIGNED_JOBS 4

// --- Issued export (bulk export --issued) ---

// Certificates per page of an --issued export. A certificate pki issues
// holds at most CA_LIMIT_SAN_COUNT names of at most 253 bytes (about 26
// KiB with its key and extensions); 500 of them stay under
// CA_LIMIT_BUNDLE_BYTES, so every page is a bundle any pki can import, and
// each page is one bounded query and one bounded reply whatever the size of
// the CA.
#define CA_LIMIT_ISSUED_PAGE 500

// CA certificates in a pkid --adopt-cas file: pki has four CAs; a chain
// file per CA repeats the roots, so twice as many blocks are taken.
#define CA_LIMIT_ADOPT_CAS 8

// A pkid --adopt-cas file: eight CA certificates of a few KiB in PEM.
#define CA_LIMIT_ADOPT_FILE_BYTES (256 * 1024)

// --- Encrypted CA keys (pkid --key-passphrase-file, PKI_KEY_PASSPHRASE) ---

// PBKDF2 iterations of the keys pkid encrypts. BoringSSL's PBES2 writer
// uses the default PRF of RFC 8018, HMAC-SHA1, for which OWASP's 2023
// guidance is 1,300,000 iterations (about 0.3 s). A key is decrypted once
// per start (and per responder key), so the cost is paid rarely.
#define CA_LIMIT_KEY_PBKDF2_ITERATIONS 1300000

// The largest PBKDF2 count accepted on read: the count comes from the file,
// and an absurd one would hold pkid at start for hours. Ten million leaves
// room for keys encrypted with a stronger count elsewhere.
#define CA_LIMIT_KEY_PBKDF2_ITERATIONS_MAX 10000000

// A key passphrase: ample for a generated one, and bounded like every input.
#define CA_LIMIT_KEY_PASSPHRASE_BYTES 1024

// A refused request's body that is still read (and dropped) so that the
// client gets its 4xx answer rather than a connection reset; past this the
// connection is cut at once. Several times the largest single-item limit.
#define CA_LIMIT_REFUSED_BODY_DRAIN_BYTES (4 * 1024 * 1024)

// --- Access: tokens, roles, the admin allowlist ---

// The name of a caller in the audit log: "token:ID:NAME" or "cert:CN".
#define CA_LIMIT_PRINCIPAL_NAME_LEN 96

// A token's name, chosen by whoever makes it: a label such as
// "cucm-publisher" or "ops-alice".
#define CA_LIMIT_TOKEN_NAME_LEN 64

// Profiles one issuer token may name: pki has seven.
#define CA_LIMIT_TOKEN_PROFILES 16

// A profile name as tokens carry it: the built-in ones are under 20 bytes.
#define CA_LIMIT_PROFILE_NAME_LEN 32

// Networks on the admin allowlist: a few management subnets and hosts.
#define CA_LIMIT_ALLOWLIST 256

// Tokens listed at once: one per node and person of a deployment.
#define CA_LIMIT_TOKEN_LIST 10000

// Tokens whose lookup is cached per node, and for how long: a request then
// costs no query, and a revocation reaches every node at once through a
// notification or, if that is lost, within the lifetime of the entry.
#define CA_LIMIT_TOKEN_CACHE 1024
#define CA_LIMIT_TOKEN_CACHE_SECONDS 30

// --- Reconnection to PostgreSQL (ca/store/store_pg.c) ---

// The first wait after the database is found unreachable before the pool
// tries again: a restart or failover takes at least this long, and a
// shorter wait would only add failed connection attempts.
#define CA_LIMIT_DB_RETRY_MIN_MS 100

// The longest wait between two attempts during an outage: the wait doubles
// from CA_LIMIT_DB_RETRY_MIN_MS so that a long outage costs the server one
// connection attempt per pool every 5 s, while pkid serves again at most
// 5 s after the database is back.
#define CA_LIMIT_DB_RETRY_MAX_MS 5000

// --- Run-time limits (pkid --max-*, --connection-timeout, --request-timeout)
// ---
//
// CA_LIMIT_BODY_BYTES, CA_LIMIT_BATCH_ITEMS, CA_LIMIT_CSR_BYTES and
// CA_LIMIT_SAN_COUNT above are the defaults of --max-body-bytes,
// --max-batch-items, --max-csr-bytes and --max-sans. CA_LIMIT_CSR_BYTES and
// CA_LIMIT_SAN_COUNT are also their ceilings: the CSR parser, the fuzz
// targets and pkictl are bounded by the one, and ca_san_list and ca_issued
// hold arrays of the other, so a larger value could not be honoured safely.
// The flags may only lower them. Below, the ranges of the other flags.

// The smallest --max-csr-bytes: a P-256 request with a one-label name is
// about 230 bytes of DER; a lower limit would refuse every request.
#define CA_LIMIT_CSR_BYTES_MIN 256

// --max-body-bytes: at least one item of a batch with its framing; at most
// 256 MiB, since a body is held whole in memory until it is decoded, and
// --max-connections of them may arrive at once.
#define CA_LIMIT_BODY_BYTES_MIN 4096
#define CA_LIMIT_BODY_BYTES_MAX (256 * 1024 * 1024)

// --max-batch-items: the answer of a batch is built in memory, about 4 KiB
// per certificate with its chain, so 100,000 items make a 400 MiB answer
// (pkictl reads at most 512 MiB). Larger sets are sent as several batches.
#define CA_LIMIT_BATCH_ITEMS_MAX 100000

// Connections held open at once by a listener (--max-connections; default
// 1024). Each holds a file descriptor and --max-header-bytes of memory:
// 65,536 is past any sane RLIMIT_NOFILE.
#define CA_LIMIT_CONNECTIONS_DEFAULT 1024
#define CA_LIMIT_CONNECTIONS_MAX 65536

// Connections from one client address (--max-connections-per-ip). 0, the
// default, counts none: several pkid clients often reach it through one
// load balancer or NAT address, which a per-address limit would starve.
// --max-connections still bounds them all.
#define CA_LIMIT_CONNECTIONS_PER_IP_DEFAULT 0

// Seconds a connection may stay idle (no byte received or sent) before it
// is closed (--connection-timeout). The OCSP listener uses the smaller of
// this and CA_LIMIT_OCSP_CONNECTION_TIMEOUT_S: OCSP clients ask and leave.
#define CA_LIMIT_CONNECTION_TIMEOUT_S 60
#define CA_LIMIT_OCSP_CONNECTION_TIMEOUT_S 30
#define CA_LIMIT_TIMEOUT_MAX_S 3600

// Seconds from a request's headers to the last byte of its body
// (--request-timeout). The idle timeout alone lets a client that sends one
// byte just before each timeout hold a connection and a body buffer for
// ever. 60 s reads a 32 MiB batch at 4 Mbit/s.
#define CA_LIMIT_REQUEST_TIMEOUT_S 60

// Memory of one connection for its request line, headers and read buffer
// (--max-header-bytes; libmicrohttpd's MHD_OPTION_CONNECTION_MEMORY_LIMIT,
// whose own default is also 32 KiB). Headers that do not fit are answered
// 431 by libmicrohttpd. At least 4 KiB, or ordinary requests would not fit;
// at most 1 MiB, since every connection may claim it.
#define CA_LIMIT_HEADER_BYTES (32 * 1024)
#define CA_LIMIT_HEADER_BYTES_MIN (4 * 1024)
#define CA_LIMIT_HEADER_BYTES_MAX (1024 * 1024)

// Request bodies held in memory at once by one listener, reserved from the
// declared Content-Length before a body is read, or as a chunked body
// grows (--max-buffered-bytes); past it a request is answered 503
// BUFFERS_FULL. Without it the bound is --max-connections times
// --max-body-bytes (32 GiB at the defaults). 256 MiB holds eight bodies of
// the default --max-body-bytes: the signing queue's worth of full batches
// (--queue-items 40,000 is four of 10,000) and as many again being
// received; more bodies would only wait for the queue. It equals the
// largest --max-body-bytes, so the default always takes the largest body;
// a value below --max-body-bytes is refused. At least 64 KiB (four OCSP
// requests of the largest size), at most 16 GiB.
#define CA_LIMIT_BUFFERED_BYTES (256ull * 1024 * 1024)
#define CA_LIMIT_BUFFERED_BYTES_MIN (64ull * 1024)
#define CA_LIMIT_BUFFERED_BYTES_MAX (16ull * 1024 * 1024 * 1024)

// --- Log lines about connections (api/server/log.h) ---

// Lines of one kind (a failed TLS handshake, a client cut off at
// --request-timeout, a storage error answered to a client) written per
// interval; past them the lines are counted, and one line says how many
// were suppressed once the interval is over. Any client can make pkid log
// such a line, and without a bound a few hundred connections fill the log
// and bury what matters; five per ten seconds still shows what happens.
#define CA_LIMIT_LOG_BURST 5
#define CA_LIMIT_LOG_INTERVAL_S 10

#endif  // PKI_CA_LIMITS_H
