-- pki:no-transaction
-- The common names' GIN indexes move from certificates to a table of the
-- distinct names. On certificates, the trigram index (migration 0010) and
-- the 5-gram index (migration 0022) cost about 70 us of the database's CPU
-- per certificate with a name per certificate, the most of any part of a
-- row (README, "A name per CSR"): each merge of GIN's pending list updates
-- one posting list per distinct gram of the rows merged. Most of a UC CA's
-- issuance is renewal, whose name the CA has seen before: it now costs a
-- probe of this table's primary key, and a new node's name adds its grams
-- once. The finds (ca/store/store_find.c) look a text up among the names,
-- then read the certificates of the names found through
-- certificates_renewal_idx (lower(common_name), migration 0019).
--
-- Online on a large database: each statement runs on its own, outside a
-- transaction block, and may run twice (a start that stopped half-way
-- runs the file again).

-- The lower-cased common names of every certificate, once each. Names
-- compare as bytes (COLLATE "C"): the table is only probed for equality and
-- matched with LIKE and strpos, which compare bytes under any collation,
-- and the database's collation would cost a strcoll() per comparison.
CREATE TABLE IF NOT EXISTS certificate_names (
  name text COLLATE "C" PRIMARY KEY
);

-- A statement's new certificates add their names, once per statement (the
-- writer's COPY or INSERT of a batch), in sorted order. A name that another
-- transaction has added but not yet committed waits for that transaction
-- (ON CONFLICT's rule): sorted, two statements wait in one order, never a
-- cycle. Two transactions of several statements each adding the same new
-- names could still wait on each other; PostgreSQL then fails one of them
-- (deadlock_detected), whose batch fails whole and may be sent again.
CREATE OR REPLACE FUNCTION pki_certificate_names_add() RETURNS trigger
  LANGUAGE plpgsql
  AS $$
  BEGIN
    INSERT INTO certificate_names (name)
      SELECT DISTINCT lower(n.common_name) COLLATE "C" FROM new_rows n
      ORDER BY 1
      ON CONFLICT DO NOTHING;
    RETURN NULL;
  END
  $$;

-- CREATE OR REPLACE: a second run keeps the trigger in place throughout,
-- where a DROP and a CREATE would leave a moment without it. Its lock waits
-- for every insert in flight, so each certificate older than the trigger is
-- committed when the fill below reads it.
CREATE OR REPLACE TRIGGER certificates_names_add
  AFTER INSERT ON certificates REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION pki_certificate_names_add();

-- The names of the certificates that came before the trigger, 50,000
-- certificates to a transaction, so that a writer adding one of the same
-- names waits for one short transaction, not for the whole fill (about a
-- minute at ten million certificates).
DO $$
  DECLARE
    top bigint;
    low bigint := 0;
  BEGIN
    SELECT coalesce(max(id), 0) INTO top FROM certificates;
    WHILE low < top LOOP
      INSERT INTO certificate_names (name)
        SELECT DISTINCT lower(c.common_name) COLLATE "C" FROM certificates c
        WHERE c.id > low AND c.id <= low + 50000
        ORDER BY 1
        ON CONFLICT DO NOTHING;
      COMMIT;
      low := low + 50000;
    END LOOP;
  END
  $$;

-- The two GIN indexes, on the names, built once they are all there (a
-- build is faster than inserting into GIN name by name).
SET maintenance_work_mem = '256MB';

-- GET /v1/certificates?cn=TEXT of three or four characters.
DROP INDEX CONCURRENTLY IF EXISTS certificate_names_trgm_idx;
CREATE INDEX CONCURRENTLY certificate_names_trgm_idx
  ON certificate_names USING gin (name gin_trgm_ops);

-- Of five characters or more: migration 0022's 5-grams.
DROP INDEX CONCURRENTLY IF EXISTS certificate_names_grams_idx;
CREATE INDEX CONCURRENTLY certificate_names_grams_idx
  ON certificate_names USING gin ((pki_cn_grams(name)) COLLATE "C");

RESET maintenance_work_mem;

-- How many names hold each 5-gram (pg_stats of the index's expression),
-- which the finds read to leave the common grams out.
ANALYZE certificate_names;

-- The indexes they replace. Nodes of an older version still running find
-- by common name through a scan of certificates until they are upgraded.
DROP INDEX CONCURRENTLY IF EXISTS certificates_common_name_grams_idx;
DROP INDEX CONCURRENTLY IF EXISTS certificates_common_name_trgm_idx;
