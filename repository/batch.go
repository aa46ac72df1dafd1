package repository

import (
	"context"
	"fmt"
	"strings"

	"gorm.io/gorm"

	"github.com/policyresults/policyresults/grid"
	"github.com/policyresults/policyresults/model"
	"github.com/policyresults/policyresults/policy"
	"github.com/policyresults/policyresults/repository/compliance"
	"github.com/policyresults/policyresults/repository/issuerows"
	"github.com/policyresults/policyresults/repository/store"
)

// The bounds of a batch update's selection.
const (
	// MaxBatchIDs is the most issue ids a batch update names.
	MaxBatchIDs = 1000
	// MaxBatchFilterMatches is the most issues a batch update's filter may
	// match.
	MaxBatchFilterMatches = 100000
)

// BatchUpdate is a person's triage change to many issues at once: the
// issues of IDs, or with ByFilter those Filter (the issue grid's filter,
// parsed against issuequery.IssueSchema) matches, which must number ExpectedCount.
type BatchUpdate struct {
	IDs           []string
	ByFilter      bool
	Filter        grid.Node
	ExpectedCount int
	IssueUpdate
}

// BatchResult says what a batch update matched and changed.
type BatchResult struct {
	// Matched is the number of issues selected (ExpectedCount).
	Matched int
	// Changed are the issues a field of which changed.
	Changed int
	// Unchanged are the issues that already held every value.
	Unchanged int
	// StatusUnchanged are the fixed issues selected, whose status (and
	// acceptance) was left as it was.
	StatusUnchanged int
	// BatchID is carried by every history entry the batch wrote.
	BatchID string
}

// BatchCountError refuses a batch whose selection does not number its
// ExpectedCount; nothing was written.
type BatchCountError struct {
	Matched, Expected int
}

func (e *BatchCountError) Error() string {
	return fmt.Sprintf("expectedCount: the selection matches %d issues, not %d; review the selection and send expectedCount %d",
		e.Matched, e.Expected, e.Matched)
}

// Is makes errors.Is(err, ErrConflict) true.
func (e *BatchCountError) Is(target error) bool { return target == ErrConflict }

// Validate refuses, without the database, an update BatchUpdateIssues
// would refuse: values no issue could take, nothing to change, a selection
// by neither or both of IDs and a filter. BatchUpdateIssues validates u
// itself; a caller that parses the filter validates u first.
func (u *BatchUpdate) Validate() error {
	if err := u.check(); err != nil {
		return err
	}
	if u.Status == nil && u.Priority == nil && u.Assignee == nil && u.Acceptance == nil {
		return invalid("status", "nothing to change: send at least one of status, priority, assignedTo, acceptedUntil")
	}
	if u.ExpectedCount < 0 {
		return invalid("expectedCount", "must be 0 or more, got %d", u.ExpectedCount)
	}
	switch {
	case len(u.IDs) > 0 && u.ByFilter:
		return invalid("ids", "send ids or filterModel, not both")
	case len(u.IDs) == 0 && !u.ByFilter:
		return invalid("ids", "send ids (1 to %d issue ids) or filterModel", MaxBatchIDs)
	case len(u.IDs) > MaxBatchIDs:
		return invalid("ids", "at most %d ids, got %d; select by filterModel for more", MaxBatchIDs, len(u.IDs))
	}
	return nil
}

// BatchUpdateIssues applies u to every issue its selection matches, in one
// transaction: all or nothing. Fixed issues keep their status and take no
// acceptance; their other fields change. Each changed issue's changes are
// recorded in its history with the batch's id, and the rollups follow in
// the same transaction. A selection that does not number u.ExpectedCount is
// a *BatchCountError.
func (r *Repository) BatchUpdateIssues(ctx context.Context, orgID int64, actor Actor, u BatchUpdate) (*BatchResult, error) {
	if err := u.Validate(); err != nil {
		return nil, err
	}
	hasFilter := u.ByFilter
	ids := make([]string, 0, len(u.IDs))
	seen := make(map[string]bool, len(u.IDs))
	for _, id := range u.IDs {
		id = strings.ToLower(id)
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	who := ""
	if u.Assignee != nil {
		who = strings.TrimSpace(*u.Assignee)
	}
	res := &BatchResult{BatchID: model.NewIssueID()}
	err := r.transaction(ctx, func(tx *gorm.DB) error {
		var user *model.User
		if who != "" {
			var err error
			if user, err = memberNamed(tx, orgID, who); err != nil {
				return err
			}
		}
		issues, err := r.batchSelection(tx, orgID, ids, u.Filter)
		if err != nil {
			return err
		}
		res.Matched = len(issues)
		if hasFilter && len(issues) > MaxBatchFilterMatches {
			return invalid("filterModel", "matches more than %d issues; narrow the filter", MaxBatchFilterMatches)
		}
		if len(issues) != u.ExpectedCount {
			return &BatchCountError{Matched: len(issues), Expected: u.ExpectedCount}
		}
		befores := make([]model.Issue, len(issues))
		copy(befores, issues)
		c := &issueChanges{orgID: orgID, cause: causeBatch, actor: actor.Name, batchID: res.BatchID, rollup: compliance.NewDelta()}
		rows := make([]triageRow, 0, len(issues))
		fixedU := u.IssueUpdate
		fixedU.Status, fixedU.Acceptance = nil, nil
		for i := range issues {
			is := &issues[i]
			iu := &u.IssueUpdate
			if is.Status == policy.StatusFixed && (u.Status != nil || u.Acceptance != nil) {
				res.StatusUnchanged++
				iu = &fixedU
			}
			updates, history, err := applyTriage(is, user, who, actor, iu, res.BatchID)
			if err != nil {
				return err
			}
			if updates == nil {
				res.Unchanged++
				continue
			}
			res.Changed++
			c.addTriage(&befores[i], is, history)
			rows = append(rows, triageRow{is: is, updates: updates})
		}
		if err := r.writeTriageRows(tx, orgID, rows); err != nil {
			return err
		}
		return r.record(tx, c)
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// batchSelection reads, locked on PostgreSQL in id order, the issues of the
// organisation a batch selects: those of ids, or those filter matches (at
// most one more than MaxBatchFilterMatches).
func (r *Repository) batchSelection(tx *gorm.DB, orgID int64, ids []string, filter grid.Node) ([]model.Issue, error) {
	lock := r.dialect.LockRowsOf("policy_issues")
	if filter == nil {
		var out []model.Issue
		for _, batch := range store.Chunk(ids, r.dialect.InListSize()) {
			got, err := issuerows.Scan(tx, "SELECT "+issuerows.Select+" FROM policy_issues WHERE policy_issues.org_id = ? AND policy_issues.id IN ?"+
				" ORDER BY policy_issues.id"+lock, orgID, batch)
			if err != nil {
				return nil, err
			}
			out = append(out, got...)
		}
		return out, nil
	}
	where, args, err := r.Issues.Condition(tx, orgID, filter)
	if err != nil {
		return nil, err
	}
	return issuerows.Scan(tx, "SELECT "+issuerows.Select+" FROM policy_issues WHERE "+where+
		" ORDER BY policy_issues.id LIMIT ?"+lock, append(args, MaxBatchFilterMatches+1)...)
}

// memberNamed finds the member of the organisation whose login or email is
// who (case-insensitively); an unknown one is a *ValidationError on
// assignedTo.
func memberNamed(tx *gorm.DB, orgID int64, who string) (*model.User, error) {
	var users []model.User
	err := tx.Raw(`SELECT users.id, users.login, users.email FROM users
		JOIN memberships m ON m.user_id = users.id AND m.org_id = ?
		WHERE lower(users.login) = lower(?) OR lower(users.email) = lower(?) ORDER BY users.id LIMIT 1`, orgID, who, who).Scan(&users).Error
	if err != nil {
		return nil, err
	}
	if len(users) == 0 {
		return nil, invalid("assignedTo", "%q is not a member of the organisation; give a member's login or email, or null to unassign", who)
	}
	return &users[0], nil
}
