package repository

import (
	"database/sql"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/policyresults/policyresults/grid"
	"github.com/policyresults/policyresults/model"
	"gorm.io/gorm"
)

// scanColumnValue converts a scanned value to the Go type of the column's kind:
// string, int64 or float64, time.Time (UTC), bool; NULL stays nil.
func scanColumnValue(col grid.ColumnDef, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch col.Kind {
	case grid.KindText, grid.KindEnum:
		switch v := v.(type) {
		case string:
			return v, nil
		case []byte:
			return string(v), nil
		}
		return fmt.Sprint(v), nil
	case grid.KindNumber:
		return scanNumber(v)
	case grid.KindDate:
		return scanTime(v)
	case grid.KindBool:
		switch v := v.(type) {
		case bool:
			return v, nil
		case int64:
			return v != 0, nil
		}
	}
	return nil, fmt.Errorf("unexpected value %T for a %s column", v, col.Kind)
}

func scanInt(v any) (int64, error) {
	n, err := scanNumber(v)
	if err != nil {
		return 0, err
	}
	switch n := n.(type) {
	case int64:
		return n, nil
	case float64:
		return int64(n), nil
	}
	return 0, fmt.Errorf("unexpected number %v", n)
}

func scanNumber(v any) (any, error) {
	switch v := v.(type) {
	case int64:
		return v, nil
	case int32:
		return int64(v), nil
	case int16:
		return int64(v), nil
	case int:
		return int64(v), nil
	case float64:
		if v == math.Trunc(v) && math.Abs(v) < 1<<53 {
			return int64(v), nil
		}
		return v, nil
	case []byte:
		return scanNumber(string(v))
	case string:
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return n, nil
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a number", v)
		}
		return f, nil
	}
	return nil, fmt.Errorf("unexpected number type %T", v)
}

// sqliteTimeLayouts are the ways SQLite hands back a time stored as text
// (aggregates lose the column's declared type, so the driver does not parse
// them).
var sqliteTimeLayouts = []string{
	"2006-01-02 15:04:05.999999999-07:00",
	time.RFC3339Nano,
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
}

func scanTime(v any) (time.Time, error) {
	switch v := v.(type) {
	case time.Time:
		return v.UTC(), nil
	case []byte:
		return scanTime(string(v))
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

// issueSelect lists the columns of an issue row.
const issueSelect = `policy_issues.org_id, policy_issues.id, policy_issues.entity_ref, policy_issues.scope,
	policy_issues.entity_type, policy_issues.entity_project, policy_issues.entity_id, policy_issues.stack_version,
	policy_issues.resource_version, policy_issues.policy_pack, policy_issues.policy_pack_tag, policy_issues.policy_name,
	policy_issues.resource_urn, policy_issues.resource_provider, policy_issues.resource_type, policy_issues.resource_name,
	policy_issues.message, policy_issues.observed_at, policy_issues.last_modified, policy_issues.level,
	policy_issues.severity, policy_issues.severity_rank, policy_issues.status, policy_issues.status_rank,
	policy_issues.active, policy_issues.kind, policy_issues.priority, policy_issues.assignee_id,
	policy_issues.assignee_login, policy_issues.assignee_email, policy_issues.policy_group_name,
	policy_issues.policy_group_type, policy_issues.revision, policy_issues.accepted_until,
	policy_issues.acceptance_reason`

// issueRefsSelect follows issueSelect where the text references are read
// too (the ingest's diff writes them back).
const issueRefsSelect = `, policy_issues.name_ref, policy_issues.message_ref, policy_issues.urn_prefix_ref,
	policy_issues.urn_suffix_ref`

// issueScanner scans rows of issueSelect (and issueRefsSelect) without
// reflection (the export streams a million of them).
type issueScanner struct {
	observed, modified timeValue
	accepted           nullTimeValue
	dest               []any
	is                 model.Issue
}

func newIssueScanner(withRefs bool) *issueScanner {
	s := &issueScanner{}
	is := &s.is
	s.dest = []any{&is.OrgID, &is.ID, &is.EntityRef, &is.Scope, &is.EntityType, &is.EntityProject, &is.EntityID,
		&is.StackVersion, &is.ResourceVersion, &is.PolicyPack, &is.PolicyPackTag, &is.PolicyName, &is.ResourceURN,
		&is.ResourceProvider, &is.ResourceType, &is.ResourceName, &is.Message, &s.observed, &s.modified, &is.Level,
		&is.Severity, &is.SeverityRank, &is.Status, &is.StatusRank, &is.Active, &is.Kind, &is.Priority, &is.AssigneeID,
		&is.AssigneeLogin, &is.AssigneeEmail, &is.PolicyGroupName, &is.PolicyGroupType, &is.Revision,
		&s.accepted, &is.AcceptanceReason}
	if withRefs {
		s.dest = append(s.dest, &is.NameRef, &is.MessageRef, &is.URNPrefixRef, &is.URNSuffixRef)
	}
	return s
}

// scan reads the current row; the result is valid until the next scan.
func (s *issueScanner) scan(rows *sql.Rows) (*model.Issue, error) {
	s.is.StackVersion, s.is.ResourceVersion, s.is.AssigneeID = nil, nil, nil
	if err := rows.Scan(s.dest...); err != nil {
		return nil, err
	}
	s.is.ObservedAt, s.is.LastModified = s.observed.t, s.modified.t
	s.is.AcceptedUntil = s.accepted.ptr()
	return &s.is, nil
}

// issueColumnsRead is the number of columns of issueSelect.
var issueColumnsRead = len(newIssueScanner(false).dest)

// eachIssue runs a query of issueSelect (or issueSelect and
// issueRefsSelect) and passes its rows to each,
// read with an issueScanner; the issue passed is reused for the next row.
func eachIssue(db *gorm.DB, query string, args []any, each func(*model.Issue) error) error {
	rows, err := db.Raw(query, args...).Rows()
	if err != nil {
		return err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	sc := newIssueScanner(len(cols) > issueColumnsRead)
	for rows.Next() {
		is, err := sc.scan(rows)
		if err != nil {
			return err
		}
		if err := each(is); err != nil {
			return err
		}
	}
	return rows.Err()
}

// scanIssues is eachIssue collecting the rows (a grid page read through
// GORM's reflection cost a fifth of the server's CPU time).
func scanIssues(tx *gorm.DB, query string, args ...any) ([]model.Issue, error) {
	var out []model.Issue
	err := eachIssue(tx, query, args, func(is *model.Issue) error {
		out = append(out, *is)
		return nil
	})
	return out, err
}

// timeValue scans a time as either driver hands it back.
type timeValue struct{ t time.Time }

// ptr is the time scanned, nil for NULL.
func (v *nullTimeValue) ptr() *time.Time {
	if v.t.IsZero() {
		return nil
	}
	t := v.t
	return &t
}

func (v *timeValue) Scan(src any) error {
	t, err := scanTime(src)
	v.t = t
	return err
}
