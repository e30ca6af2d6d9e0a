-- +goose Up
-- What a signed-in session records (its opaque ID, the client's address and
-- User-Agent at login, when it was last seen), and why ended sessions ended.
-- The ID is generated from the token exactly as singlesession.SessionID
-- computes it (scs's tokens are base64url, so ::bytea takes them as they
-- are); existing links get it too, and last_seen = created, so signed-in
-- users stay signed in.
ALTER TABLE singlesession_links
	ADD COLUMN id TEXT NOT NULL GENERATED ALWAYS AS (
		substr(translate(encode(sha256(('singlesession:' || token)::bytea), 'base64'), '+/', '-_'), 1, 12)) STORED,
	ADD COLUMN ip TEXT NOT NULL DEFAULT '',
	ADD COLUMN user_agent TEXT NOT NULL DEFAULT '',
	ADD COLUMN last_seen TIMESTAMPTZ NOT NULL DEFAULT now();
UPDATE singlesession_links SET last_seen = created;

-- One row per session that the library ended for a reason, keyed by a hash
-- of its token (never the token), until the session would have expired.
CREATE TABLE singlesession_endings (
	key TEXT PRIMARY KEY,
	reason TEXT NOT NULL,
	at TIMESTAMPTZ NOT NULL,
	user_agent TEXT NOT NULL,
	expiry TIMESTAMPTZ NOT NULL
);
CREATE INDEX singlesession_endings_expiry_idx ON singlesession_endings (expiry);

-- +goose Down
DROP TABLE singlesession_endings;
ALTER TABLE singlesession_links
	DROP COLUMN id,
	DROP COLUMN ip,
	DROP COLUMN user_agent,
	DROP COLUMN last_seen;
