-- +goose Up
-- The table of scs's postgresstore and pgxstore, unchanged, so an application
-- that already keeps its sessions there keeps the table and its rows.
CREATE TABLE IF NOT EXISTS sessions (
	token TEXT PRIMARY KEY,
	data BYTEA NOT NULL,
	expiry TIMESTAMPTZ NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_expiry_idx ON sessions (expiry);

-- +goose Down
-- Deliberately empty: the sessions table may predate singlesession and hold the
-- sessions of code that does not use it. Drop it by hand if you mean to.
