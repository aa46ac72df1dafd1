package repository

import (
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/policyresults/policyresults/model"
)

// issueColumn is one column of policy_issues: its name, its PostgreSQL type,
// who writes it and how it moves between a row and a model.Issue.
type issueColumn struct {
	name   string
	pgType string
	flags  issueColumnFlags
	// dest is where database/sql scans the column's value into is.
	dest func(is *model.Issue) any
	// pgxDest is where pgx itself scans it (its own types, no
	// database/sql conversion); finish, when not nil, moves the value
	// into is after each row.
	pgxDest func(is *model.Issue) (dest any, finish func())
	// array is the column's values of rows as an unnest array.
	array func(rows []model.Issue) any
}

// issueColumnFlags say who writes a column and who reads it.
type issueColumnFlags uint8

const (
	// evaluated columns belong to the evaluations: the ingest overwrites
	// them on an issue it updates (issueUpdateColumns). Triage columns
	// (priority, assignee) and observed_at are never overwritten.
	evaluated issueColumnFlags = 1 << iota
	// textRef columns refer to the text dictionary; they are read only
	// where the ingest's diff writes them back (issueRefsSelect).
	textRef
	// acceptance columns are written by triage alone: the ingest's bulk
	// insert leaves them to the table's defaults (no acceptance).
	acceptance
)

// issueColumnTable is every column of policy_issues, in the order of
// issueSelect and then issueRefsSelect. It is the one place a column is
// declared: the select lists, the scanner, the bulk insert and the
// ingest's update columns derive from it.
var issueColumnTable = []issueColumn{
	value("org_id", "bigint", 0, func(is *model.Issue) *int64 { return &is.OrgID }),
	value("id", "text", 0, func(is *model.Issue) *string { return &is.ID }),
	value("entity_ref", "bigint", 0, func(is *model.Issue) *int64 { return &is.EntityRef }),
	value("scope", "text", 0, func(is *model.Issue) *string { return &is.Scope }),
	value("entity_type", "text", 0, func(is *model.Issue) *string { return &is.EntityType }),
	value("entity_project", "text", 0, func(is *model.Issue) *string { return &is.EntityProject }),
	value("entity_id", "text", evaluated, func(is *model.Issue) *string { return &is.EntityID }),
	nullInt("stack_version", evaluated, func(is *model.Issue) **int64 { return &is.StackVersion }),
	nullInt("resource_version", evaluated, func(is *model.Issue) **int64 { return &is.ResourceVersion }),
	value("policy_pack", "text", 0, func(is *model.Issue) *string { return &is.PolicyPack }),
	value("policy_pack_tag", "text", evaluated, func(is *model.Issue) *string { return &is.PolicyPackTag }),
	value("policy_name", "text", 0, func(is *model.Issue) *string { return &is.PolicyName }),
	value("resource_urn", "text", 0, func(is *model.Issue) *string { return &is.ResourceURN }),
	value("resource_provider", "text", evaluated, func(is *model.Issue) *string { return &is.ResourceProvider }),
	value("resource_type", "text", evaluated, func(is *model.Issue) *string { return &is.ResourceType }),
	value("resource_name", "text", evaluated, func(is *model.Issue) *string { return &is.ResourceName }),
	value("message", "text", evaluated, func(is *model.Issue) *string { return &is.Message }),
	timestamp("observed_at", 0, func(is *model.Issue) *time.Time { return &is.ObservedAt }),
	timestamp("last_modified", evaluated, func(is *model.Issue) *time.Time { return &is.LastModified }),
	value("level", "text", evaluated, func(is *model.Issue) *string { return &is.Level }),
	value("severity", "text", evaluated, func(is *model.Issue) *string { return &is.Severity }),
	number("severity_rank", "smallint", evaluated, func(is *model.Issue) *int { return &is.SeverityRank }),
	value("status", "text", evaluated, func(is *model.Issue) *string { return &is.Status }),
	number("status_rank", "smallint", evaluated, func(is *model.Issue) *int { return &is.StatusRank }),
	value("active", "boolean", evaluated, func(is *model.Issue) *bool { return &is.Active }),
	value("kind", "text", evaluated, func(is *model.Issue) *string { return &is.Kind }),
	value("priority", "text", 0, func(is *model.Issue) *string { return &is.Priority }),
	nullInt("assignee_id", 0, func(is *model.Issue) **int64 { return &is.AssigneeID }),
	value("assignee_login", "text", 0, func(is *model.Issue) *string { return &is.AssigneeLogin }),
	value("assignee_email", "text", 0, func(is *model.Issue) *string { return &is.AssigneeEmail }),
	value("policy_group_name", "text", evaluated, func(is *model.Issue) *string { return &is.PolicyGroupName }),
	value("policy_group_type", "text", evaluated, func(is *model.Issue) *string { return &is.PolicyGroupType }),
	number("revision", "integer", evaluated, func(is *model.Issue) *int { return &is.Revision }),
	nullTimestamp("accepted_until", acceptance, func(is *model.Issue) **time.Time { return &is.AcceptedUntil }),
	value("acceptance_reason", "text", acceptance, func(is *model.Issue) *string { return &is.AcceptanceReason }),
	value("name_ref", "bigint", evaluated|textRef, func(is *model.Issue) *int64 { return &is.NameRef }),
	value("message_ref", "bigint", evaluated|textRef, func(is *model.Issue) *int64 { return &is.MessageRef }),
	value("urn_prefix_ref", "bigint", evaluated|textRef, func(is *model.Issue) *int64 { return &is.URNPrefixRef }),
	value("urn_suffix_ref", "bigint", evaluated|textRef, func(is *model.Issue) *int64 { return &is.URNSuffixRef }),
}

// value is a column whose model field has the Go type of its array
// elements, scanned as database/sql converts it.
func value[T any](name, pgType string, flags issueColumnFlags, field func(*model.Issue) *T) issueColumn {
	return issueColumn{name: name, pgType: pgType, flags: flags,
		dest:    func(is *model.Issue) any { return field(is) },
		pgxDest: func(is *model.Issue) (any, func()) { return field(is), nil },
		array: func(rows []model.Issue) any {
			out := make([]T, len(rows))
			for i := range rows {
				out[i] = *field(&rows[i])
			}
			return out
		}}
}

// number is a column of an int field stored as a smaller PostgreSQL
// integer (int32 arrays).
func number(name, pgType string, flags issueColumnFlags, field func(*model.Issue) *int) issueColumn {
	return issueColumn{name: name, pgType: pgType, flags: flags,
		dest:    func(is *model.Issue) any { return field(is) },
		pgxDest: func(is *model.Issue) (any, func()) { return field(is), nil },
		array: func(rows []model.Issue) any {
			out := make([]int32, len(rows))
			for i := range rows {
				out[i] = int32(*field(&rows[i]))
			}
			return out
		}}
}

// nullInt is a nullable bigint column.
func nullInt(name string, flags issueColumnFlags, field func(*model.Issue) **int64) issueColumn {
	c := value(name, "bigint", flags, field)
	c.pgxDest = func(is *model.Issue) (any, func()) {
		n, scanned := field(is), &pgtype.Int8{}
		return scanned, func() {
			*n = nil
			if scanned.Valid {
				v := scanned.Int64
				*n = &v
			}
		}
	}
	return c
}

// timestamp is a timestamptz column, read in UTC as either driver hands it
// back.
func timestamp(name string, flags issueColumnFlags, field func(*model.Issue) *time.Time) issueColumn {
	return issueColumn{name: name, pgType: "timestamptz", flags: flags,
		dest: func(is *model.Issue) any { return timeField{field(is)} },
		pgxDest: func(is *model.Issue) (any, func()) {
			t := field(is)
			return t, func() { *t = t.UTC() }
		},
		array: func(rows []model.Issue) any {
			out := make([]time.Time, len(rows))
			for i := range rows {
				out[i] = field(&rows[i]).UTC()
			}
			return out
		}}
}

// nullTimestamp is a nullable timestamptz column.
func nullTimestamp(name string, flags issueColumnFlags, field func(*model.Issue) **time.Time) issueColumn {
	return issueColumn{name: name, pgType: "timestamptz", flags: flags,
		dest: func(is *model.Issue) any { return nullTimeField{field(is)} },
		pgxDest: func(is *model.Issue) (any, func()) {
			t, scanned := field(is), &pgtype.Timestamptz{}
			return scanned, func() {
				*t = nil
				if scanned.Valid {
					u := scanned.Time.UTC()
					*t = &u
				}
			}
		},
		array: func(rows []model.Issue) any {
			out := make([]*time.Time, len(rows))
			for i := range rows {
				if t := *field(&rows[i]); t != nil {
					u := t.UTC()
					out[i] = &u
				}
			}
			return out
		}}
}

// timeField scans a time into a model field, in UTC.
type timeField struct{ t *time.Time }

func (f timeField) Scan(src any) error {
	t, err := scanTime(src)
	*f.t = t
	return err
}

// nullTimeField scans a nullable time into a model field: nil for NULL.
type nullTimeField struct{ t **time.Time }

func (f nullTimeField) Scan(src any) error {
	if src == nil {
		*f.t = nil
		return nil
	}
	t, err := scanTime(src)
	if err != nil || t.IsZero() {
		*f.t = nil
		return err
	}
	*f.t = &t
	return nil
}

// The columns and lists derived from issueColumnTable.
var (
	// issueReadColumns are the columns of issueSelect, issueRefColumns
	// those of issueRefsSelect.
	issueReadColumns, issueRefColumns = issueColumnsWhere(0, textRef), issueColumnsWhere(textRef, 0)
	// issueInsertColumns are the columns the ingest's bulk insert writes.
	issueInsertColumns = issueColumnsWhere(0, acceptance)
	// issueUpdateColumns are the columns an evaluation owns.
	issueUpdateColumns = issueColumnNames(issueColumnsWhere(evaluated, 0))
	// issueColumns is the number of columns of policy_issues.
	issueColumns = len(issueColumnTable)

	// issueSelect lists the columns of an issue row.
	issueSelect = issueSelectList(issueReadColumns)
	// issueRefsSelect follows issueSelect where the text references are
	// read too (the ingest's diff writes them back).
	issueRefsSelect = ", " + issueSelectList(issueRefColumns)
)

// pgxIssueDests are the destinations of pgx's scan of an issueSelect row
// into is, and what moves the scanned values into is after each row.
func pgxIssueDests(is *model.Issue) (dests []any, finish []func()) {
	dests = make([]any, len(issueReadColumns))
	for i, c := range issueReadColumns {
		var f func()
		if dests[i], f = c.pgxDest(is); f != nil {
			finish = append(finish, f)
		}
	}
	return dests, finish
}

// issueColumnsWhere is the columns of issueColumnTable that have every flag
// of with and none of without, in order.
func issueColumnsWhere(with, without issueColumnFlags) []issueColumn {
	var out []issueColumn
	for _, c := range issueColumnTable {
		if c.flags&with == with && c.flags&without == 0 {
			out = append(out, c)
		}
	}
	return out
}

func issueColumnNames(cols []issueColumn) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = c.name
	}
	return out
}

// issueSelectList is cols qualified with the table's name, comma separated.
func issueSelectList(cols []issueColumn) string {
	names := issueColumnNames(cols)
	for i, n := range names {
		names[i] = "policy_issues." + n
	}
	return strings.Join(names, ", ")
}
