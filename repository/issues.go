package repository

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/policyresults/policyresults/model"
	"github.com/policyresults/policyresults/policy"
	"github.com/policyresults/policyresults/repository/compliance"
	"github.com/policyresults/policyresults/repository/issuerows"
	"github.com/policyresults/policyresults/repository/store"
)

// IssueByID finds an issue of an organisation.
func (r *Repository) IssueByID(ctx context.Context, orgID int64, id string) (*model.Issue, error) {
	var is model.Issue
	err := r.db.WithContext(ctx).Where("org_id = ? AND id = ?", orgID, strings.ToLower(id)).First(&is).Error
	if err != nil {
		return nil, translate(err, "")
	}
	return &is, nil
}

// IssueDetails is an issue with its policy as the registry holds it: the
// version of the issue's pack that carries the issue's tag (a "v" before the
// number ignored; the published, then the newest, of several) and the policy
// of the issue's name in that version. Pack and Version are nil when the
// registry holds no such version, Policy when the version lacks the policy.
type IssueDetails struct {
	Issue   model.Issue
	Pack    *model.PolicyPack
	Version *model.PolicyPackVersion
	Policy  *model.Policy
}

// IssueDetailsByID finds an issue of an organisation with its policy, in one
// statement.
func (r *Repository) IssueDetailsByID(ctx context.Context, orgID int64, id string) (*IssueDetails, error) {
	d, _, err := r.issueDetails(r.db.WithContext(ctx), orgID, id, false, "")
	return d, err
}

// issueDetails reads an issue and its registry record; lock takes the
// issue's row lock (PostgreSQL) for a triage transaction, and a member
// (login or email) is looked up among the organisation's members in the same
// statement (nil when none matches).
func (r *Repository) issueDetails(db *gorm.DB, orgID int64, id string, lock bool, member string) (*IssueDetails, *model.User, error) {
	query := "SELECT " + issuerows.Select + issueRegistrySelect
	var args []any
	if member != "" {
		query += ", who.id, who.login, who.email"
	}
	query += " FROM policy_issues" + issueRegistryJoin
	if member != "" {
		query += ` LEFT JOIN (SELECT users.id, users.login, users.email FROM users
			JOIN memberships m ON m.user_id = users.id AND m.org_id = ?
			WHERE lower(users.login) = lower(?) OR lower(users.email) = lower(?) ORDER BY users.id LIMIT 1) who ON 1 = 1`
		args = append(args, orgID, member, member)
	}
	query += " WHERE policy_issues.org_id = ? AND policy_issues.id = ?"
	args = append(args, orgID, strings.ToLower(id))
	if lock {
		query += r.dialect.LockRowsOf("policy_issues")
	}
	rows, err := db.Raw(query, args...).Rows()
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return nil, nil, err
		}
		return nil, nil, ErrNotFound
	}
	reg := &registryScanner{}
	extra := reg.dest()
	var whoID sql.NullInt64
	var whoLogin, whoEmail sql.NullString
	if member != "" {
		extra = append(extra, &whoID, &whoLogin, &whoEmail)
	}
	is, err := issuerows.NewScanner(false, extra...).Scan(rows)
	if err != nil {
		return nil, nil, err
	}
	d := &IssueDetails{Issue: *is}
	reg.fill(d)
	var user *model.User
	if whoID.Valid {
		user = &model.User{ID: whoID.Int64, Login: whoLogin.String, Email: whoEmail.String}
	}
	return d, user, rows.Err()
}

// IssueUpdate is a person's triage change; nil fields are left alone.
type IssueUpdate struct {
	Status   *string
	Priority *string
	// Assignee is a member's login or email; a pointer to "" unassigns.
	Assignee *string
	// IfRevision, when set, must equal the issue's revision (its ETag).
	IfRevision *int
	// Acceptance, when set, sets or ends the issue's risk acceptance.
	Acceptance *Acceptance
	// Now is the time of the change (default time.Now).
	Now time.Time
	// MaxAcceptance bounds how far after Now an acceptance may end
	// (default DefaultMaxAcceptance).
	MaxAcceptance time.Duration
}

// UpdateIssue applies a triage change atomically, records each real change
// in the issue's history and bumps its revision. A change that changes
// nothing writes nothing. It answers the issue as changed, with its policy
// (IssueDetails).
//
// On PostgreSQL a change that keeps the issue active (or inactive) is read
// without a transaction and written in one statement that applies only if
// the issue still holds the values read (compare and set; read again if
// not): three round trips with the authentication instead of five. A change
// between active and inactive recounts the compliance cells and the
// entity's counts, in a transaction that locks the issue first.
func (r *Repository) UpdateIssue(ctx context.Context, orgID int64, id string, actor Actor, u IssueUpdate) (*IssueDetails, error) {
	if err := u.check(); err != nil {
		return nil, err
	}
	var who string
	if u.Assignee != nil {
		who = strings.TrimSpace(*u.Assignee)
	}
	if r.dialect.Arrays() {
		db := r.db.WithContext(ctx)
		for range 3 {
			d, user, err := r.issueDetails(db, orgID, id, false, who)
			if err != nil {
				return nil, err
			}
			t, err := triage(d, user, who, actor, u)
			if err != nil {
				return nil, err
			}
			if t == nil {
				return d, nil
			}
			if t.before.Active != d.Issue.Active {
				break
			}
			applied, err := writeTriagePG(db, t)
			if err != nil {
				return nil, err
			}
			if applied {
				// The statement carried the whole change (recordCTEs).
				if err := r.record(db, &t.rec); err != nil {
					return nil, err
				}
				return d, nil
			}
		}
	}
	var out *IssueDetails
	err := r.transaction(ctx, func(tx *gorm.DB) error {
		d, user, err := r.issueDetails(tx, orgID, id, true, who)
		if err != nil {
			return err
		}
		out = d
		t, err := triage(d, user, who, actor, u)
		if err != nil || t == nil {
			return err
		}
		if r.dialect.Arrays() {
			applied, err := writeTriagePG(tx, t)
			if err != nil {
				return err
			}
			if !applied {
				return fmt.Errorf("issue %s changed under its row lock", t.before.ID)
			}
		} else if err := tx.Model(&model.Issue{}).Where("org_id = ? AND id = ?", orgID, t.before.ID).Updates(t.updates).Error; err != nil {
			return err
		}
		return r.record(tx, &t.rec)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// triageChange is what a triage change writes.
type triageChange struct {
	before  model.Issue
	updates map[string]any // column → new value
	// rec is the change's history and rollup delta, for record.
	rec issueChanges
}

// check refuses the values of u no issue could take.
func (u *IssueUpdate) check() error {
	if err := policy.CheckTriage(u.Status, u.Priority); err != nil {
		return store.Refused(err)
	}
	if u.Now.IsZero() {
		u.Now = time.Now()
	}
	u.Now = u.Now.UTC().Truncate(time.Microsecond)
	if u.MaxAcceptance <= 0 {
		u.MaxAcceptance = DefaultMaxAcceptance
	}
	return u.Acceptance.check(u.Now, u.MaxAcceptance)
}

// triage applies u to the issue d read (user is the member who names, when
// found) and says what to write; nil when nothing changes.
func triage(d *IssueDetails, user *model.User, who string, actor Actor, u IssueUpdate) (*triageChange, error) {
	is := &d.Issue
	if u.IfRevision != nil && *u.IfRevision != is.Revision {
		return nil, ErrPreconditionFailed
	}
	t := &triageChange{before: *is}
	t.rec = issueChanges{orgID: is.OrgID, cause: causePerson, actor: actor.Name}
	updates, history, err := applyTriage(is, user, who, actor, &u, "")
	if err != nil || len(updates) == 0 {
		return nil, err
	}
	t.updates = updates
	t.rec.rollup = compliance.NewDelta()
	t.rec.addTriage(&t.before, is, history)
	return t, nil
}

// applyTriage applies u (checked) to is: it answers the columns to write
// (nil when nothing changes) and the history entries, each with batchID
// when not "". A change bumps the revision and lastModified.
func applyTriage(is *model.Issue, user *model.User, who string, actor Actor, u *IssueUpdate, batchID string) (map[string]any, []model.HistoryEntry, error) {
	updates := map[string]any{}
	var history []model.HistoryEntry
	now := u.Now
	record := func(field, oldV, newV string) {
		o, n := oldV, newV
		entry := model.HistoryEntry{OrgID: is.OrgID, IssueID: is.ID, At: now, Actor: actor.Name, ActorType: actor.Type, Field: field}
		if o != "" {
			entry.OldValue = &o
		}
		if n != "" {
			entry.NewValue = &n
		}
		if batchID != "" {
			entry.BatchID = &batchID
		}
		history = append(history, entry)
	}
	if u.Status != nil && *u.Status != is.Status {
		record("status", is.Status, *u.Status)
		is.Status, is.StatusRank, is.Active = *u.Status, policy.StatusRank(*u.Status), policy.IsActive(*u.Status)
		updates["status"], updates["status_rank"], updates["active"] = is.Status, is.StatusRank, is.Active
	}
	if u.Priority != nil && *u.Priority != is.Priority {
		record("priority", is.Priority, *u.Priority)
		is.Priority = *u.Priority
		updates["priority"] = is.Priority
	}
	if u.Assignee != nil {
		var newID *int64
		newLogin, newEmail := "", ""
		if who != "" {
			if user == nil {
				return nil, nil, invalid("assignedTo", "%q is not a member of the organisation; give a member's login or email, or null to unassign", who)
			}
			newID, newLogin, newEmail = &user.ID, user.Login, user.Email
		}
		if newLogin != is.AssigneeLogin {
			record("assignedTo", is.AssigneeLogin, newLogin)
			is.AssigneeID, is.AssigneeLogin, is.AssigneeEmail = newID, newLogin, newEmail
			updates["assignee_id"], updates["assignee_login"], updates["assignee_email"] = newID, newLogin, newEmail
		}
	}
	until, reason, err := u.Acceptance.of(is)
	if err != nil {
		return nil, nil, err
	}
	if !equalTime(until, is.AcceptedUntil) {
		record("acceptedUntil", formatAcceptance(is.AcceptedUntil), formatAcceptance(until))
		is.AcceptedUntil = until
		updates["accepted_until"] = until
	}
	if reason != is.AcceptanceReason {
		record("acceptanceReason", is.AcceptanceReason, reason)
		is.AcceptanceReason = reason
		updates["acceptance_reason"] = reason
	}
	if len(updates) == 0 {
		return nil, nil, nil
	}
	is.Revision++
	is.LastModified = now
	updates["revision"], updates["last_modified"] = is.Revision, now
	return updates, history, nil
}

// writeTriagePG writes a triage change's new values, its history entries
// and its change to the issue counts (recordCTEs) in one statement, if the
// issue still holds every value the change was computed from (its revision
// and the columns of the issue counts); it says whether it did. It takes the
// history and the counts out of the change's record.
func writeTriagePG(db *gorm.DB, t *triageChange) (bool, error) {
	var args []any
	param := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	columns := make([]string, 0, len(t.updates))
	for col := range t.updates {
		columns = append(columns, col)
	}
	slices.Sort(columns)
	set := make([]string, len(columns))
	for i, col := range columns {
		set[i] = col + " = " + param(t.updates[col])
	}
	b := &t.before
	// The values read are compared with IS NOT DISTINCT FROM, which no
	// index can answer: as equalities they had tempted the generic plan
	// of this prepared statement into an index on kind and entity type
	// (reading half the issues) instead of the primary key.
	held := []string{"revision", "active"}
	values := []string{param(b.Revision), param(b.Active)}
	for i, v := range compliance.CountKeyOf(b).Fields() {
		held, values = append(held, compliance.CountKeyColumns[i]), append(values, param(v))
	}
	where := "org_id = " + param(b.OrgID) + " AND id = " + param(b.ID) +
		" AND (" + strings.Join(held, ", ") + ") IS NOT DISTINCT FROM (" + strings.Join(values, ", ") + ")"
	var q strings.Builder
	q.WriteString("WITH updated AS (UPDATE policy_issues SET " + strings.Join(set, ", ") + " WHERE " + where + " RETURNING 1)")

	args = recordCTEs(&t.rec, &q, args, "WHERE EXISTS (SELECT 1 FROM updated)")
	q.WriteString(" SELECT count(*) FROM updated")
	var applied int
	if err := db.Raw(q.String(), args...).Row().Scan(&applied); err != nil {
		return false, err
	}
	return applied == 1, nil
}

// IssueHistory lists an issue's changes, newest first.
func (r *Repository) IssueHistory(ctx context.Context, orgID int64, id string) ([]model.HistoryEntry, error) {
	if _, err := r.IssueByID(ctx, orgID, id); err != nil {
		return nil, err
	}
	var out []model.HistoryEntry
	err := r.db.WithContext(ctx).Where("org_id = ? AND issue_id = ?", orgID, strings.ToLower(id)).
		Order("at DESC, id DESC").Find(&out).Error
	return out, err
}

// ActiveIssueIDs lists up to limit active issues of an organisation in a
// stable order (entity, pack, policy, resource), for tools that work through
// issues.
func (r *Repository) ActiveIssueIDs(ctx context.Context, orgID int64, limit int) ([]string, error) {
	var ids []string
	err := r.db.WithContext(ctx).Model(&model.Issue{}).Where("org_id = ? AND active", orgID).
		Order("entity_project, entity_id, policy_pack, policy_name, resource_urn").Limit(limit).Pluck("id", &ids).Error
	return ids, err
}
