// Package migrations embeds the database schema's goose migrations, one
// directory per dialect (postgres, sqlite).
package migrations

import "embed"

// FS holds postgres/*.sql and sqlite/*.sql.
//
//go:embed postgres/*.sql sqlite/*.sql
var FS embed.FS
