-- +goose Up
-- One row per signed-in session: which user it belongs to. The row goes with
-- its session (ON DELETE CASCADE), whoever deletes the session.
CREATE TABLE singlesession_links (
	token TEXT PRIMARY KEY REFERENCES sessions (token) ON DELETE CASCADE,
	user_id TEXT NOT NULL,
	created TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX singlesession_links_user_id_idx ON singlesession_links (user_id);

-- +goose Down
DROP TABLE singlesession_links;
