-- gate-db 1.0.0-r3, a broken release: the column is added, then the migration fails,
-- so its transaction (the column too) is rolled back and the member never serves.
ALTER TABLE items ADD COLUMN archived boolean NOT NULL DEFAULT false;
SELECT archive_items_before('2020-01-01');
