// The SQL migrations of migrations/, compiled in by a genrule.
#ifndef PKI_MIGRATIONS_MIGRATIONS_H
#define PKI_MIGRATIONS_MIGRATIONS_H

#include <stddef.h>

typedef struct pki_migration {
  int version;       // the file's leading number
  const char *name;  // the file name
  const char *sql;   // its contents, NUL-terminated
} pki_migration;

// pki_migrations lists every migration in ascending version order.
extern const pki_migration pki_migrations[];
extern const size_t pki_migration_count;

#endif  // PKI_MIGRATIONS_MIGRATIONS_H
