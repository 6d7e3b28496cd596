// ca/store/sql_split.c: the statements of a migration that runs outside a
// transaction, with semicolons hidden in quotes, dollar quotes and
// comments left inside their statement.
#include "ca/store/sql_split.h"

#include <stdio.h>
#include <string.h>

#include "tests/support/test.h"

// split writes the statements of |sql| into |out|, joined by "|".
static int split(const char *sql, char *out, size_t out_len) {
  size_t pos = 0, start = 0, len = 0, o = 0;
  int n = 0;
  out[0] = '\0';
  while (ca_sql_next_statement(sql, &pos, &start, &len)) {
    o += (size_t)snprintf(out + o, out_len - o, "%s%.*s", n > 0 ? "|" : "",
                          (int)len, sql + start);
    n++;
  }
  return n;
}

TEST(statements) {
  char out[512];
  CHECK_EQ_INT(
      split("CREATE TABLE a (x int);\nDROP TABLE b;\n", out, sizeof(out)), 2);
  CHECK_EQ_STR(out, "CREATE TABLE a (x int)|DROP TABLE b");
  CHECK_EQ_INT(split("SELECT 1", out, sizeof(out)), 1);
  CHECK_EQ_STR(out, "SELECT 1");
  CHECK_EQ_INT(split("", out, sizeof(out)), 0);
  CHECK_EQ_INT(split("  \n-- only a comment; really\n/* and; this */\n", out,
                     sizeof(out)),
               0);
  CHECK_EQ_INT(split(";;SELECT 1;;", out, sizeof(out)), 1);
  CHECK_EQ_STR(out, "SELECT 1");
}

TEST(hidden_semicolons) {
  char out[512];
  CHECK_EQ_INT(split("SELECT 'a;b', 'it''s;';SELECT \"x;y\"", out, sizeof(out)),
               2);
  CHECK_EQ_STR(out, "SELECT 'a;b', 'it''s;'|SELECT \"x;y\"");
  CHECK_EQ_INT(
      split("CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1; $$;"
            "DO $body$ BEGIN PERFORM 1; END $body$;",
            out, sizeof(out)),
      2);
  CHECK_EQ_STR(out,
               "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1; "
               "$$|DO $body$ BEGIN PERFORM 1; END $body$");
  // $1 is a parameter, not a dollar quote.
  CHECK_EQ_INT(split("SELECT $1;SELECT 2", out, sizeof(out)), 2);
  CHECK_EQ_INT(split("SELECT 1 /* a; /* nested; */ b; */ + 1;SELECT 2", out,
                     sizeof(out)),
               2);
  CHECK_EQ_STR(out, "SELECT 1 /* a; /* nested; */ b; */ + 1|SELECT 2");
  CHECK_EQ_INT(split("SELECT 1 -- one; two\n + 1;", out, sizeof(out)), 1);
  CHECK_EQ_STR(out, "SELECT 1 -- one; two\n + 1");
  // Unterminated quotes end at the end of the text, never past it.
  CHECK_EQ_INT(split("SELECT 'open;", out, sizeof(out)), 1);
  CHECK_EQ_INT(split("SELECT $$open;", out, sizeof(out)), 1);
  CHECK_EQ_INT(split("SELECT 1 /* open;", out, sizeof(out)), 1);
}

TEST(marker) {
  CHECK(ca_sql_no_transaction("-- pki:no-transaction\nCREATE INDEX ..."));
  CHECK(!ca_sql_no_transaction("-- pki schema\n-- pki:no-transaction\n"));
  CHECK(!ca_sql_no_transaction("CREATE TABLE a (x int);"));
}

int main(void) {
  RUN(statements);
  RUN(hidden_semicolons);
  RUN(marker);
  printf("%d checks, %d failed\n", test_checks, test_failures);
  return test_failures != 0;
}
