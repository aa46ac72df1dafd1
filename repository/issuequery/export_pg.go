package issuequery

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/stdlib"

	"github.com/policyresults/policyresults/model"
	"github.com/policyresults/policyresults/repository/issuerows"
)

// exportPG streams an export query on PostgreSQL through pgx itself rather
// than database/sql: a million rows through database/sql box every value
// in an interface and convert it again, which cost as much CPU as the rest
// of the export.
func (r *Store) exportPG(ctx context.Context, query string, args []any, each func(*model.Issue) error) error {
	sqlDB, err := r.db.DB()
	if err != nil {
		return err
	}
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(driverConn any) error {
		sc, ok := driverConn.(*stdlib.Conn)
		if !ok {
			return errors.New("export: the PostgreSQL connection is not a pgx connection")
		}
		rows, err := sc.Conn().Query(ctx, dollarPlaceholders(query), args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		var is model.Issue
		dest, finish := issuerows.PgxDests(&is)
		for rows.Next() {
			if err := rows.Scan(dest...); err != nil {
				return err
			}
			for _, f := range finish {
				f()
			}
			if err := each(&is); err != nil {
				return err
			}
		}
		return rows.Err()
	})
}

// dollarPlaceholders numbers the ? placeholders of a query the repository
// wrote ($1, $2, ...); its SQL text holds no ? in literals.
func dollarPlaceholders(query string) string {
	var b strings.Builder
	n := 0
	for _, c := range query {
		if c == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}
