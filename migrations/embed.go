// Package migrations holds the SQL migrations of singlesession in goose's
// format (-- +goose Up / -- +goose Down), one file per version.
//
// pgxstore.Migrate applies them and records each applied version in the
// table singlesession_db_version, whose layout is goose's own, so teams that run
// their migrations with goose can apply the same files with
//
//	goose -dir migrations -table singlesession_db_version postgres "$DATABASE_URL" up
//
// and either tool sees what the other applied.
package migrations

import "embed"

// FS holds the migration files (00001_create_sessions.sql, ...) at its root.
//
//go:embed *.sql
var FS embed.FS

// VersionTable is the table in which applied versions are recorded.
const VersionTable = "singlesession_db_version"
