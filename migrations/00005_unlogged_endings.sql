-- +goose Up
-- Why ended sessions ended is advice, not data: the table is UNLOGGED, so
-- that recording it writes no WAL (a login that ends 1,000 sessions wrote
-- 556 KB of WAL with it logged, 131 KB without). A crash of PostgreSQL
-- empties it: browsers signed out before the crash then see the login page
-- without the reason. Standbys do not have it (a Find run on a standby
-- could not read it; pgxstore runs on the primary). ALTER TABLE rewrites
-- the table, under an exclusive lock, once.
ALTER TABLE singlesession_endings SET UNLOGGED;

-- +goose Down
ALTER TABLE singlesession_endings SET LOGGED;
