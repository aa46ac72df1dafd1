package issuerows

import (
	"database/sql"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/policyresults/policyresults/model"
)

// sqliteTimeLayouts are the ways SQLite hands back a time stored as text
// (aggregates lose the column's declared type, so the driver does not parse
// them).
var sqliteTimeLayouts = []string{
	"2006-01-02 15:04:05.999999999-07:00",
	time.RFC3339Nano,
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
}

// ScanTime reads a time as either driver hands it back, in UTC.
func ScanTime(v any) (time.Time, error) {
	switch v := v.(type) {
	case time.Time:
		return v.UTC(), nil
	case []byte:
		return ScanTime(string(v))
	case string:
		for _, l := range sqliteTimeLayouts {
			if t, err := time.Parse(l, v); err == nil {
				return t.UTC(), nil
			}
		}
		return time.Time{}, fmt.Errorf("%q is not a time", v)
	}
	return time.Time{}, fmt.Errorf("unexpected time type %T", v)
}

// Scanner scans rows of Select (and RefsSelect) without
// reflection (the export streams a million of them).
type Scanner struct {
	dest []any
	is   model.Issue
}

// NewScanner scans rows of Select, followed by RefsSelect's columns
// withRefs, then by columns scanned into extra.
func NewScanner(withRefs bool, extra ...any) *Scanner {
	s := &Scanner{}
	cols := readColumns
	if withRefs {
		cols = table
	}
	s.dest = make([]any, len(cols), len(cols)+len(extra))
	for i, c := range cols {
		s.dest[i] = c.dest(&s.is)
	}
	s.dest = append(s.dest, extra...)
	return s
}

// Scan reads the current row; the result is valid until the next scan.
func (s *Scanner) Scan(rows *sql.Rows) (*model.Issue, error) {
	if err := rows.Scan(s.dest...); err != nil {
		return nil, err
	}
	return &s.is, nil
}

// Each runs a query of Select (or Select and
// RefsSelect) and passes its rows to each,
// read with an Scanner; the issue passed is reused for the next row.
func Each(db *gorm.DB, query string, args []any, each func(*model.Issue) error) error {
	rows, err := db.Raw(query, args...).Rows()
	if err != nil {
		return err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	sc := NewScanner(len(cols) > len(readColumns))
	for rows.Next() {
		is, err := sc.Scan(rows)
		if err != nil {
			return err
		}
		if err := each(is); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Scan is Each collecting the rows (a grid page read through
// GORM's reflection cost a fifth of the server's CPU time).
func Scan(tx *gorm.DB, query string, args ...any) ([]model.Issue, error) {
	var out []model.Issue
	err := Each(tx, query, args, func(is *model.Issue) error {
		out = append(out, *is)
		return nil
	})
	return out, err
}
