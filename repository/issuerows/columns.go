// Package issuerows holds the columns of policy_issues, declared once, and
// everything that reads or writes an issue's row as a whole from them: the
// select lists, the scanners (database/sql's and pgx's), the ingest's bulk
// inserts and the API's field order. The issue grid, the ingest, triage and
// the export build on it.
package issuerows

import (
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/policyresults/policyresults/grid"
	"github.com/policyresults/policyresults/model"
	"github.com/policyresults/policyresults/policy"
)

// column is one column of policy_issues: its name, its PostgreSQL type,
// who writes it and how it moves between a row and a model.Issue.
type column struct {
	name   string
	pgType string
	flags  columnFlags
	// dest is where database/sql scans the column's value into is.
	dest func(is *model.Issue) any
	// pgxDest is where pgx itself scans it (its own types, no
	// database/sql conversion); finish, when not nil, moves the value
	// into is after each row.
	pgxDest func(is *model.Issue) (dest any, finish func())
	// array is the column's values of rows as an unnest array.
	array func(rows []model.Issue) any
	// arg is the column's value of is as a statement's argument.
	arg func(is *model.Issue) any

	// grid is the column's field id and definition in the API and the
	// issue grid; its Field is "" for a column the API does not show.
	grid GridColumn
}

// GridColumn is a column of policy_issues the API shows, as the issue grid
// defines it; its expressions are column names of policy_issues,
// unqualified.
type GridColumn struct {
	// Name is the column's name.
	Name string
	// Field is its API field id (PolicyIssue's, and its id in the issue
	// grid).
	Field string
	// Def is its definition for the grid parser.
	Def grid.ColumnDef
	// Rank, for an enum, is the column whose value is the index in
	// Def.Values of the row's value (the grid sorts by it).
	Rank string
	// RankMatch, for an enum, is the rank column set conditions match
	// instead of the value: where an index holds the rank but not the value.
	RankMatch string
	// MatchAlso lists more columns a filter condition on the column also
	// matches (assignedTo: the login or the email).
	MatchAlso []string
}

// api shows the column in the API as field, a column of the issue grid of
// definition def.
func (c column) api(field string, def grid.ColumnDef) column {
	c.grid.Field, c.grid.Def = field, def
	return c
}

// rankedBy orders the enum column by the column rank, whose value is the
// index of the row's value in the enum's values.
func (c column) rankedBy(rank string) column {
	c.grid.Rank = rank
	return c
}

// matchingRank makes the set conditions of an enum column ranked by rank
// match the values' ranks: the sort indexes hold severity_rank but not
// severity, so a severity filter read through them stays index-only instead
// of a scan and sort of the matches (see docs/performance.md and
// rankCondition).
func (c column) matchingRank(rank string) column {
	c.grid.Rank, c.grid.RankMatch = rank, rank
	return c
}

// matchingAlso makes the grid's filter conditions on the column match the
// column also too (see GridColumn.MatchAlso).
func (c column) matchingAlso(also string) column {
	c.grid.MatchAlso = append(c.grid.MatchAlso, also)
	return c
}

// The definitions of the issue grid's columns.
var (
	gridText         = grid.ColumnDef{Kind: grid.KindText, Set: true}
	gridDate         = grid.ColumnDef{Kind: grid.KindDate, Set: true}
	gridNullableDate = grid.ColumnDef{Kind: grid.KindDate, Set: true, Nullable: true}
	gridVersion      = grid.ColumnDef{Kind: grid.KindNumber, Set: true, Nullable: true}
	gridMode         = gridEnum(model.ModeAudit, model.ModePreventative)
)

// gridEnum is an enum of the issue grid; a ranked one lists its values in
// rank order.
func gridEnum(values ...string) grid.ColumnDef {
	return grid.ColumnDef{Kind: grid.KindEnum, Values: values, Set: true}
}

// columnFlags say who writes a column and who reads it.
type columnFlags uint8

const (
	// evaluated columns belong to the evaluations: the ingest overwrites
	// them on an issue it updates (updateColumns). Triage columns
	// (priority, assignee) and observed_at are never overwritten.
	evaluated columnFlags = 1 << iota
	// textRef columns refer to the text dictionary; they are read only
	// where the ingest's diff writes them back (RefsSelect).
	textRef
	// acceptance columns are written by triage alone: the ingest's bulk
	// insert leaves them to the table's defaults (no acceptance).
	acceptance
)

// table is every column of policy_issues, in the order of
// Select and then RefsSelect. It is the one place a column is
// declared: the select lists, the scanners, the bulk insert, the ingest's
// update columns, the issue grid's columns and the API's field order
// (Fields) derive from it.
//
// The grid's columns are every scalar field of the API's PolicyIssue plus
// assignedTo, which matches the assignee's login or email and sorts,
// groups and facets by login. Enums compare exactly and sort by meaning:
// severity by severity_rank (unset < low < medium < high < critical),
// status by status_rank (open, in_progress, by_design, ignored, fixed),
// priority p0 before p4.
var table = []column{
	value("org_id", "bigint", 0, func(is *model.Issue) *int64 { return &is.OrgID }),
	value("id", "text", 0, func(is *model.Issue) *string { return &is.ID }).
		api("id", gridText),
	value("entity_ref", "bigint", 0, func(is *model.Issue) *int64 { return &is.EntityRef }),
	value("scope", "text", 0, func(is *model.Issue) *string { return &is.Scope }),
	value("entity_type", "text", 0, func(is *model.Issue) *string { return &is.EntityType }).
		api("entityType", gridEnum("stack", "insights-account")),
	value("entity_project", "text", 0, func(is *model.Issue) *string { return &is.EntityProject }).
		api("entityProject", gridText),
	value("entity_id", "text", evaluated, func(is *model.Issue) *string { return &is.EntityID }).
		api("entityId", gridText),
	nullInt("stack_version", evaluated, func(is *model.Issue) **int64 { return &is.StackVersion }).
		api("stackVersion", gridVersion),
	nullInt("resource_version", evaluated, func(is *model.Issue) **int64 { return &is.ResourceVersion }).
		api("resourceVersion", gridVersion),
	value("policy_pack", "text", 0, func(is *model.Issue) *string { return &is.PolicyPack }).
		api("policyPack", gridText),
	value("policy_pack_tag", "text", evaluated, func(is *model.Issue) *string { return &is.PolicyPackTag }).
		api("policyPackTag", gridText),
	value("policy_name", "text", 0, func(is *model.Issue) *string { return &is.PolicyName }).
		api("policyName", gridText),
	value("resource_urn", "text", 0, func(is *model.Issue) *string { return &is.ResourceURN }).
		api("resourceURN", gridText),
	value("resource_provider", "text", evaluated, func(is *model.Issue) *string { return &is.ResourceProvider }).
		api("resourceProvider", gridText),
	value("resource_type", "text", evaluated, func(is *model.Issue) *string { return &is.ResourceType }).
		api("resourceType", gridText),
	value("resource_name", "text", evaluated, func(is *model.Issue) *string { return &is.ResourceName }).
		api("resourceName", gridText),
	value("message", "text", evaluated, func(is *model.Issue) *string { return &is.Message }).
		api("message", gridText),
	timestamp("observed_at", 0, func(is *model.Issue) *time.Time { return &is.ObservedAt }).
		api("observedAt", gridDate),
	timestamp("last_modified", evaluated, func(is *model.Issue) *time.Time { return &is.LastModified }).
		api("lastModified", gridDate),
	value("level", "text", evaluated, func(is *model.Issue) *string { return &is.Level }).
		api("level", gridText),
	value("severity", "text", evaluated, func(is *model.Issue) *string { return &is.Severity }).
		api("severity", gridEnum("", "low", "medium", "high", "critical")).
		matchingRank("severity_rank"),
	number("severity_rank", "smallint", evaluated, func(is *model.Issue) *int { return &is.SeverityRank }),
	value("status", "text", evaluated, func(is *model.Issue) *string { return &is.Status }).
		api("status", gridEnum(policy.StatusOpen, policy.StatusInProgress, policy.StatusByDesign, policy.StatusIgnored,
			policy.StatusFixed)).rankedBy("status_rank"),
	number("status_rank", "smallint", evaluated, func(is *model.Issue) *int { return &is.StatusRank }),
	value("active", "boolean", evaluated, func(is *model.Issue) *bool { return &is.Active }),
	value("kind", "text", evaluated, func(is *model.Issue) *string { return &is.Kind }).
		api("kind", gridMode),
	value("priority", "text", 0, func(is *model.Issue) *string { return &is.Priority }).
		api("priority", gridEnum("p0", "p1", "p2", "p3", "p4")),
	nullInt("assignee_id", 0, func(is *model.Issue) **int64 { return &is.AssigneeID }),
	value("assignee_login", "text", 0, func(is *model.Issue) *string { return &is.AssigneeLogin }).
		api("assignedTo", gridText).matchingAlso("assignee_email"),
	value("assignee_email", "text", 0, func(is *model.Issue) *string { return &is.AssigneeEmail }),
	value("policy_group_name", "text", evaluated, func(is *model.Issue) *string { return &is.PolicyGroupName }).
		api("policyGroupName", gridText),
	value("policy_group_type", "text", evaluated, func(is *model.Issue) *string { return &is.PolicyGroupType }).
		api("policyGroupType", gridMode),
	number("revision", "integer", evaluated, func(is *model.Issue) *int { return &is.Revision }),
	nullTimestamp("accepted_until", acceptance, func(is *model.Issue) **time.Time { return &is.AcceptedUntil }).
		api("acceptedUntil", gridNullableDate),
	value("acceptance_reason", "text", acceptance, func(is *model.Issue) *string { return &is.AcceptanceReason }).
		api("acceptanceReason", gridText),
	value("name_ref", "bigint", evaluated|textRef, func(is *model.Issue) *int64 { return &is.NameRef }),
	value("message_ref", "bigint", evaluated|textRef, func(is *model.Issue) *int64 { return &is.MessageRef }),
	value("urn_prefix_ref", "bigint", evaluated|textRef, func(is *model.Issue) *int64 { return &is.URNPrefixRef }),
	value("urn_suffix_ref", "bigint", evaluated|textRef, func(is *model.Issue) *int64 { return &is.URNSuffixRef }),
}

// value is a column whose model field has the Go type of its array
// elements, scanned as database/sql converts it.
func value[T any](name, pgType string, flags columnFlags, field func(*model.Issue) *T) column {
	return column{name: name, pgType: pgType, flags: flags,
		dest:    func(is *model.Issue) any { return field(is) },
		pgxDest: func(is *model.Issue) (any, func()) { return field(is), nil },
		arg:     func(is *model.Issue) any { return *field(is) },
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
func number(name, pgType string, flags columnFlags, field func(*model.Issue) *int) column {
	return column{name: name, pgType: pgType, flags: flags,
		dest:    func(is *model.Issue) any { return field(is) },
		pgxDest: func(is *model.Issue) (any, func()) { return field(is), nil },
		arg:     func(is *model.Issue) any { return *field(is) },
		array: func(rows []model.Issue) any {
			out := make([]int32, len(rows))
			for i := range rows {
				out[i] = int32(*field(&rows[i]))
			}
			return out
		}}
}

// nullInt is a nullable bigint column.
func nullInt(name string, flags columnFlags, field func(*model.Issue) **int64) column {
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
func timestamp(name string, flags columnFlags, field func(*model.Issue) *time.Time) column {
	return column{name: name, pgType: "timestamptz", flags: flags,
		dest: func(is *model.Issue) any { return timeField{field(is)} },
		arg:  func(is *model.Issue) any { return *field(is) },
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
func nullTimestamp(name string, flags columnFlags, field func(*model.Issue) **time.Time) column {
	return column{name: name, pgType: "timestamptz", flags: flags,
		dest: func(is *model.Issue) any { return nullTimeField{field(is)} },
		arg:  func(is *model.Issue) any { return *field(is) },
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
	t, err := ScanTime(src)
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
	t, err := ScanTime(src)
	if err != nil || t.IsZero() {
		*f.t = nil
		return err
	}
	*f.t = &t
	return nil
}

// The columns and lists derived from table.
var (
	// readColumns are the columns of Select, refColumns
	// those of RefsSelect.
	readColumns, refColumns = columnsWhere(0, textRef), columnsWhere(textRef, 0)
	// insertColumns are the columns the ingest's bulk insert writes.
	insertColumns = columnsWhere(0, acceptance)
	// updateColumns are the columns an evaluation owns.
	updateColumns = columnNames(columnsWhere(evaluated, 0))
	// Count is the number of columns of policy_issues.
	Count = len(table)

	// Select lists the columns of an issue row.
	Select = selectList(readColumns)
	// RefsSelect follows Select where the text references are
	// read too (the ingest's diff writes them back).
	RefsSelect = ", " + selectList(refColumns)
)

// PgxDests are the destinations of pgx's scan of a Select row
// into is, and what moves the scanned values into is after each row.
func PgxDests(is *model.Issue) (dests []any, finish []func()) {
	dests = make([]any, len(readColumns))
	for i, c := range readColumns {
		var f func()
		if dests[i], f = c.pgxDest(is); f != nil {
			finish = append(finish, f)
		}
	}
	return dests, finish
}

// Fields are the API field ids of the issues' columns, in the table's
// order (the columns of the CSV export).
var Fields = func() []string {
	var out []string
	for _, c := range GridColumns {
		out = append(out, c.Field)
	}
	return out
}()

// GridColumns are the columns the API shows, in the table's order.
var GridColumns = func() []GridColumn {
	var out []GridColumn
	for _, c := range table {
		if c.grid.Field != "" {
			g := c.grid
			g.Name = c.name
			out = append(out, g)
		}
	}
	return out
}()

// columnsWhere is the columns of table that have every flag
// of with and none of without, in order.
func columnsWhere(with, without columnFlags) []column {
	var out []column
	for _, c := range table {
		if c.flags&with == with && c.flags&without == 0 {
			out = append(out, c)
		}
	}
	return out
}

func columnNames(cols []column) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = c.name
	}
	return out
}

// selectList is cols qualified with the table's name, comma separated.
func selectList(cols []column) string {
	names := columnNames(cols)
	for i, n := range names {
		names[i] = "policy_issues." + n
	}
	return strings.Join(names, ", ")
}
