// Splitting a migration into statements (ca/store/sql_split.h). Only the
// migrations compiled into pki are split, never client input; the lexing
// follows PostgreSQL's (manual, "Lexical Structure") as far as a semicolon
// can hide: string and identifier quotes, dollar quotes, comments.
#include "ca/store/sql_split.h"

#include <ctype.h>
#include <string.h>

int ca_sql_no_transaction(const char *sql) {
  return strncmp(sql, CA_SQL_NO_TRANSACTION_MARKER,
                 strlen(CA_SQL_NO_TRANSACTION_MARKER)) == 0;
}

// skip_quoted returns the position after the quote closing the one at |i|
// ('...' or "..."; a doubled quote stands for itself), or the end.
static size_t skip_quoted(const char *sql, size_t i) {
  const char q = sql[i++];
  while (sql[i] != '\0') {
    if (sql[i] == q && sql[i + 1] == q) {
      i += 2;
    } else if (sql[i] == q) {
      return i + 1;
    } else {
      i++;
    }
  }
  return i;
}

// dollar_tag_len returns the length of the dollar-quote opener at |i|
// ($$ or $tag$, the tag an identifier), or 0 if there is none ($1 is a
// parameter, not a quote).
static size_t dollar_tag_len(const char *sql, size_t i) {
  size_t k = i + 1;
  if (isdigit((unsigned char)sql[k])) {
    return 0;
  }
  while (isalnum((unsigned char)sql[k]) || sql[k] == '_') {
    k++;
  }
  return sql[k] == '$' ? k + 1 - i : 0;
}

// skip_dollar returns the position after the dollar quote opened at |i|
// with a tag of |tag_len| bytes, or the end.
static size_t skip_dollar(const char *sql, size_t i, size_t tag_len) {
  const char *close;
  for (close = sql + i + tag_len; *close != '\0'; close++) {
    if (strncmp(close, sql + i, tag_len) == 0) {
      return (size_t)(close - sql) + tag_len;
    }
  }
  return (size_t)(close - sql);
}

// skip_block_comment returns the position after the comment opened at |i|
// (/* ... */, which nest in PostgreSQL), or the end.
static size_t skip_block_comment(const char *sql, size_t i) {
  int depth = 0;
  while (sql[i] != '\0') {
    if (sql[i] == '/' && sql[i + 1] == '*') {
      depth++;
      i += 2;
    } else if (sql[i] == '*' && sql[i + 1] == '/') {
      i += 2;
      if (--depth == 0) {
        return i;
      }
    } else {
      i++;
    }
  }
  return i;
}

int ca_sql_next_statement(const char *sql, size_t *pos, size_t *start,
                          size_t *len) {
  size_t i = *pos;
  int content = 0;
  while (sql[i] != '\0' && sql[i] != ';') {
    size_t next = i + 1;
    size_t tag = 0;
    if (sql[i] == '-' && sql[i + 1] == '-') {
      const char *eol = strchr(sql + i, '\n');
      next = eol != NULL ? (size_t)(eol - sql) + 1 : i + strlen(sql + i);
    } else if (sql[i] == '/' && sql[i + 1] == '*') {
      next = skip_block_comment(sql, i);
    } else if (isspace((unsigned char)sql[i])) {
      // Whitespace before the statement is not part of it.
    } else {
      if (!content) {
        content = 1;
        *start = i;
      }
      if (sql[i] == '\'' || sql[i] == '"') {
        next = skip_quoted(sql, i);
      } else if (sql[i] == '$' && (tag = dollar_tag_len(sql, i)) > 0) {
        next = skip_dollar(sql, i, tag);
      }
    }
    i = next;
  }
  if (content) {
    *len = i - *start;
  }
  *pos = sql[i] == ';' ? i + 1 : i;
  if (!content && sql[i] == ';') {
    // An empty statement (";;"): look further.
    return ca_sql_next_statement(sql, pos, start, len);
  }
  return content;
}
