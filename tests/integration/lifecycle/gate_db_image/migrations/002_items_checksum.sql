-- gate-db 1.0.0-r2: every item gets a checksum of its contents, backfilled for the
-- rows already there, then required.
ALTER TABLE items ADD COLUMN checksum text;
UPDATE items SET checksum = md5(step || ':' || note);
ALTER TABLE items ALTER COLUMN checksum SET NOT NULL;
CREATE INDEX items_checksum ON items (checksum);
