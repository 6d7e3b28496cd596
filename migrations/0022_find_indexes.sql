-- pki:no-transaction
-- Finds that the indexes of migration 0010 serve badly at ten million
-- certificates (README, "Ten million certificates"). Built with CREATE
-- INDEX CONCURRENTLY (the first line: each statement on its own, outside a
-- transaction block, ca/store/store_pg.c), so that nodes still running go
-- on issuing and revoking during the build; each statement may run twice
-- (a start that stopped half-way runs the file again), so each build drops
-- its possibly INVALID index first.

-- GET /v1/certificates?cn=TEXT of a rare name made of common trigrams
-- (cucm-sub03.cl11929: each of its trigrams is in thousands of names) read
-- the trigram index's long posting lists to find a few rows. Five
-- characters in a row are far more selective (11929 names one cluster),
-- so this index holds each common name's 5-grams: every run of five
-- characters of the lower-cased name. A name containing a text of five
-- characters or more contains each of the text's 5-grams; the index finds
-- the names holding them all, and the query keeps those that contain the
-- text itself (ca/store/store_find.c). Shorter texts keep the trigram
-- index. A name shorter than five characters has none (an empty array): no
-- such text matches it. IMMUTABLE as lower() is; it calls only pg_catalog's
-- functions, whatever the search_path. PL/pgSQL: a loop costs a third of
-- what a set-returning SQL query per name does.
CREATE OR REPLACE FUNCTION pki_cn_grams(name text) RETURNS text[]
  LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
  AS $$
  DECLARE
    s text := lower(name);
    grams text[] := '{}';
  BEGIN
    FOR i IN 1 .. length(s) - 4 LOOP
      grams := grams || substr(s, i, 5);
    END LOOP;
    RETURN grams;
  END
  $$;

-- A larger sort memory for this session's builds: fewer passes over ten
-- million names. Reset at the end.
SET maintenance_work_mem = '256MB';

DROP INDEX CONCURRENTLY IF EXISTS certificates_common_name_grams_idx;
-- The grams compare as bytes (COLLATE "C"): the index only tests them for
-- equality, and the database's collation would cost a strcoll() per
-- comparison, three times the build's time.
CREATE INDEX CONCURRENTLY certificates_common_name_grams_idx
  ON certificates USING gin ((pki_cn_grams(common_name)) COLLATE "C");

-- GET /v1/certificates?issuer=NAME (with key_bits, say): the certificates
-- of one issuer in notAfter order, the order find pages by; key_bits in
-- the key, so that a page of one issuer and key size skips the others in
-- the index without reading their rows. Before, a page walked the
-- notAfter index past the self-signed certificates that expire first.
DROP INDEX CONCURRENTLY IF EXISTS certificates_issuer_not_after_idx;
CREATE INDEX CONCURRENTLY certificates_issuer_not_after_idx
  ON certificates (issuer_id, not_after, key_bits);

RESET maintenance_work_mem;

-- Statistics of the new index's expression (how many names hold each
-- 5-gram), which PostgreSQL's estimates of the common-name filter read.
ANALYZE certificates;
