-- +goose Up
-- The operators' grants of pgxstore's Directory: one row per user and grant. An
-- application that implements singlesession.Directory itself leaves this
-- table empty.
CREATE TABLE singlesession_grants (
	user_id TEXT NOT NULL,
	permission TEXT NOT NULL CHECK (permission IN ('admin', 'single_session.logout', 'single_session.logout_all')),
	created TIMESTAMPTZ NOT NULL DEFAULT now(),
	PRIMARY KEY (user_id, permission)
);

-- +goose Down
DROP TABLE singlesession_grants;
