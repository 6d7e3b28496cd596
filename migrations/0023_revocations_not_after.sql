-- pki:no-transaction
-- GET /v1/certificates?status=revoked reads the revoked certificates in
-- notAfter order from revocations itself (ca/store/store_find.c): since
-- migration 0018 the state is no longer a column of certificates, and a
-- walk of certificates' notAfter index with a probe of revocations per row
-- read 317,000 rows for a page at ten million certificates, 1% of them
-- revoked. The certificate's id breaks ties, as a page's cursor does.
-- Built CONCURRENTLY (the first line: each statement on its own, outside a
-- transaction block), so that revocations go on during the build; the
-- drop first, since an interrupted build leaves an INVALID index behind.
DROP INDEX CONCURRENTLY IF EXISTS revocations_not_after_idx;
CREATE INDEX CONCURRENTLY revocations_not_after_idx
  ON revocations (not_after, certificate_id);
