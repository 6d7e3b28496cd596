-- A certificate's issuer_id names an issuer: checked once per statement
-- instead of once per row. The foreign key of migration 0001 ran a query
-- of its own (an executor started and stopped) for every row of the
-- writer's COPY: 7 us of the database's CPU per certificate, the most of
-- any one part of the row after the indexes (README, "Performance"). The
-- triggers below keep what it guaranteed:
--   - an inserted or updated row names an existing issuer, or none (a
--     self-signed row; the CHECK of migration 0005 ties that to
--     self_signed): one query over the statement's new rows;
--   - the issuers those rows name are locked FOR KEY SHARE until the
--     transaction ends, as the foreign key locked them, so that a delete
--     running beside it waits and then sees the new rows;
--   - an issuer that certificates name is not deleted, nor its id changed
--     (pkid does neither; this keeps an operator's hand from doing it).
-- The error is the foreign key's: SQLSTATE 23503, foreign_key_violation.
-- Every statement is quick (catalog changes under a short lock), so the
-- migration runs online in one transaction.
ALTER TABLE certificates DROP CONSTRAINT IF EXISTS certificates_issuer_id_fkey;

CREATE OR REPLACE FUNCTION pki_certificates_issuer_exists() RETURNS trigger
  LANGUAGE plpgsql
  AS $$
  DECLARE
    missing bigint;
  BEGIN
    PERFORM 1 FROM issuers i
      WHERE i.id IN (SELECT DISTINCT n.issuer_id FROM new_rows n)
      FOR KEY SHARE OF i;
    SELECT n.issuer_id INTO missing FROM new_rows n
      WHERE n.issuer_id IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM issuers i WHERE i.id = n.issuer_id)
      LIMIT 1;
    IF FOUND THEN
      RAISE EXCEPTION 'certificates: issuer_id % names no issuer', missing
        USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
  END
  $$;

DROP TRIGGER IF EXISTS certificates_issuer_exists_insert ON certificates;
CREATE TRIGGER certificates_issuer_exists_insert
  AFTER INSERT ON certificates REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION pki_certificates_issuer_exists();
DROP TRIGGER IF EXISTS certificates_issuer_exists_update ON certificates;
CREATE TRIGGER certificates_issuer_exists_update
  AFTER UPDATE ON certificates REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION pki_certificates_issuer_exists();

-- The other side. A BEFORE trigger runs once the row to delete or update
-- is locked, so after any transaction that holds it FOR KEY SHARE (the
-- check above) has ended: its certificates are then seen.
CREATE OR REPLACE FUNCTION pki_issuers_keep_named() RETURNS trigger
  LANGUAGE plpgsql
  AS $$
  BEGIN
    IF TG_OP = 'UPDATE' AND NEW.id = OLD.id THEN
      RETURN NEW;
    END IF;
    IF EXISTS (SELECT 1 FROM certificates c WHERE c.issuer_id = OLD.id) THEN
      RAISE EXCEPTION 'issuers: certificates name issuer %', OLD.id
        USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
  END
  $$;

DROP TRIGGER IF EXISTS issuers_keep_named ON issuers;
CREATE TRIGGER issuers_keep_named
  BEFORE DELETE OR UPDATE OF id ON issuers
  FOR EACH ROW EXECUTE FUNCTION pki_issuers_keep_named();
