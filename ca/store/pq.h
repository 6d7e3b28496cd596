// libpq, loaded in a lookup scope of its own.
//
// Why: BoringSSL and OpenSSL 3 export the same symbol names. libpq links
// OpenSSL 3 (libssl.so.3, libcrypto.so.3), and the dynamic linker lets an
// unversioned BoringSSL definition satisfy libssl's versioned references
// whenever BoringSSL comes first in the global scope, which it does in every
// pki binary. The first TLS connection to PostgreSQL then crashes inside
// libssl. Loading libpq with dlopen(RTLD_DEEPBIND) gives libpq, libssl and
// libcrypto.so.3 their own scope ahead of the global one, so each library
// binds to its own crypto.
//
// Sanitizer runtimes refuse RTLD_DEEPBIND. Sanitizer builds (tests only) load
// libpq without it and default PGSSLMODE to "disable": their PostgreSQL is a
// local throwaway cluster without TLS.
//
// Include this header instead of <libpq-fe.h>. The libpq API is then used as
// usual (PQexec(conn, sql)): each name below expands to a pointer resolved by
// ca_pq_load. Nothing in pki links -lpq.
#ifndef PKI_CA_PQ_H
#define PKI_CA_PQ_H

#include <libpq-fe.h>

#include "ca/error.h"

#define CA_PQ_SYMBOLS(X)  \
  X(PQconnectdb)          \
  X(PQconnectdbParams)    \
  X(PQstatus)             \
  X(PQerrorMessage)       \
  X(PQfinish)             \
  X(PQreset)              \
  X(PQexec)               \
  X(PQexecParams)         \
  X(PQresultStatus)       \
  X(PQresultErrorField)   \
  X(PQresultErrorMessage) \
  X(PQntuples)            \
  X(PQnfields)            \
  X(PQgetvalue)           \
  X(PQgetlength)          \
  X(PQgetisnull)          \
  X(PQclear)              \
  X(PQfreemem)            \
  X(PQunescapeBytea)      \
  X(PQtransactionStatus)  \
  X(PQsetNoticeProcessor) \
  X(PQserverVersion)      \
  X(PQlibVersion)         \
  X(PQsocket)             \
  X(PQconsumeInput)       \
  X(PQnotifies)           \
  X(PQenterPipelineMode)  \
  X(PQexitPipelineMode)   \
  X(PQpipelineSync)       \
  X(PQsendQueryParams)    \
  X(PQgetResult)          \
  X(PQputCopyData)        \
  X(PQputCopyEnd)         \
  X(PQconninfoParse)      \
  X(PQconninfoFree)

struct ca_pq_api {
#define CA_PQ_FIELD(name) __typeof__(name) *name;
  CA_PQ_SYMBOLS(CA_PQ_FIELD)
#undef CA_PQ_FIELD
};

extern struct ca_pq_api ca_pq_api;

// ca_pq_load loads libpq.so.5 and resolves every symbol above. It is
// idempotent and thread-safe. It returns 1 on success, or 0 with
// CA_ERR_INTERNAL when the library or a symbol is missing; no libpq function
// may be called until it has succeeded.
int ca_pq_load(void) CA_MUST_CHECK;

// ca/store/pq.c itself names the struct fields, so it sees no macros.
#if !defined(CA_PQ_IMPLEMENTATION)
#define PQconnectdb (ca_pq_api.PQconnectdb)
#define PQconnectdbParams (ca_pq_api.PQconnectdbParams)
#define PQstatus (ca_pq_api.PQstatus)
#define PQerrorMessage (ca_pq_api.PQerrorMessage)
#define PQfinish (ca_pq_api.PQfinish)
#define PQreset (ca_pq_api.PQreset)
#define PQexec (ca_pq_api.PQexec)
#define PQexecParams (ca_pq_api.PQexecParams)
#define PQresultStatus (ca_pq_api.PQresultStatus)
#define PQresultErrorField (ca_pq_api.PQresultErrorField)
#define PQresultErrorMessage (ca_pq_api.PQresultErrorMessage)
#define PQntuples (ca_pq_api.PQntuples)
#define PQnfields (ca_pq_api.PQnfields)
#define PQgetvalue (ca_pq_api.PQgetvalue)
#define PQgetlength (ca_pq_api.PQgetlength)
#define PQgetisnull (ca_pq_api.PQgetisnull)
#define PQclear (ca_pq_api.PQclear)
#define PQfreemem (ca_pq_api.PQfreemem)
#define PQunescapeBytea (ca_pq_api.PQunescapeBytea)
#define PQtransactionStatus (ca_pq_api.PQtransactionStatus)
#define PQsetNoticeProcessor (ca_pq_api.PQsetNoticeProcessor)
#define PQserverVersion (ca_pq_api.PQserverVersion)
#define PQlibVersion (ca_pq_api.PQlibVersion)
#define PQsocket (ca_pq_api.PQsocket)
#define PQconsumeInput (ca_pq_api.PQconsumeInput)
#define PQnotifies (ca_pq_api.PQnotifies)
#define PQenterPipelineMode (ca_pq_api.PQenterPipelineMode)
#define PQexitPipelineMode (ca_pq_api.PQexitPipelineMode)
#define PQpipelineSync (ca_pq_api.PQpipelineSync)
#define PQsendQueryParams (ca_pq_api.PQsendQueryParams)
#define PQgetResult (ca_pq_api.PQgetResult)
#define PQputCopyData (ca_pq_api.PQputCopyData)
#define PQputCopyEnd (ca_pq_api.PQputCopyEnd)
#define PQconninfoParse (ca_pq_api.PQconninfoParse)
#define PQconninfoFree (ca_pq_api.PQconninfoFree)
#endif  // !CA_PQ_IMPLEMENTATION

#endif  // PKI_CA_PQ_H
