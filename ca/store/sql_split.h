// Splitting a migration file into its statements, for migrations that run
// outside a transaction (ca/store/store_pg.c, "Migrations").
#ifndef PKI_CA_STORE_SQL_SPLIT_H
#define PKI_CA_STORE_SQL_SPLIT_H

#include <stddef.h>

// The first line of a migration that must run outside a transaction block:
// one that uses CREATE INDEX CONCURRENTLY, which PostgreSQL refuses inside
// one.
#define CA_SQL_NO_TRANSACTION_MARKER "-- pki:no-transaction\n"

// ca_sql_no_transaction says whether |sql| begins with the marker.
int ca_sql_no_transaction(const char *sql);

// ca_sql_next_statement finds the statement that starts at or after
// |*pos| in |sql|: it sets |*start| and |*len| to it (without its
// semicolon) and moves |*pos| past it. It returns 0 when only whitespace
// and comments are left. A semicolon ends a statement only outside quotes
// ('...', "..."), dollar quotes ($$...$$, $tag$...$tag$) and comments
// (-- to the end of the line, /* ... */, nested).
int ca_sql_next_statement(const char *sql, size_t *pos, size_t *start,
                          size_t *len);

#endif  // PKI_CA_STORE_SQL_SPLIT_H
