-- Drops every secondary index of the issues: what a new issue costs without
-- them (scripts/index-cost.sh, the "none" set; scripts/ingest-bound.sh).
-- The primary and unique keys stay. For measurements only: the grid needs
-- these indexes.
DO $$ DECLARE r record; BEGIN
  FOR r IN SELECT indexrelid::regclass::text AS n FROM pg_index
           WHERE indrelid = 'policy_issues'::regclass AND NOT indisunique LOOP
    EXECUTE 'DROP INDEX ' || r.n;
  END LOOP;
END $$;
