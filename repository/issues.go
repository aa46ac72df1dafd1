package repository

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// IssueByID finds an issue of an organisation.
func (r *Repository) IssueByID(ctx context.Context, orgID int64, id string) (*Issue, error) {
	var is Issue
	err := r.db.WithContext(ctx).Where("org_id = ? AND id = ?", orgID, strings.ToLower(id)).First(&is).Error
	if err != nil {
		return nil, translate(err, "")
	}
	return &is, nil
}

// IssueUpdate is a person's triage change; nil fields are left alone.
type IssueUpdate struct {
	Status   *string
	Priority *string
	// Assignee is a member's login or email; a pointer to "" unassigns.
	Assignee *string
	// IfRevision, when set, must equal the issue's revision (its ETag).
	IfRevision *int
}

var validPriorities = map[string]bool{"p0": true, "p1": true, "p2": true, "p3": true, "p4": true}

// UpdateIssue applies a triage change in one transaction, records each real
// change in the issue's history and bumps its revision. A change that
// changes nothing writes nothing.
func (r *Repository) UpdateIssue(ctx context.Context, orgID int64, id string, actor Actor, u IssueUpdate) (*Issue, error) {
	if u.Status != nil {
		switch *u.Status {
		case StatusOpen, StatusInProgress, StatusByDesign, StatusIgnored:
		case StatusFixed:
			return nil, invalid("status", "fixed cannot be set manually; an issue becomes fixed when a later evaluation no longer reports it")
		default:
			return nil, invalid("status", "%q is not allowed; allowed values: open, in_progress, by_design, ignored", *u.Status)
		}
	}
	if u.Priority != nil && !validPriorities[*u.Priority] {
		return nil, invalid("priority", "%q is not allowed; allowed values: p0, p1, p2, p3, p4", *u.Priority)
	}
	var out *Issue
	err := r.transaction(ctx, func(tx *gorm.DB) error {
		var is Issue
		q := tx.Where("org_id = ? AND id = ?", orgID, strings.ToLower(id))
		if r.dialect == Postgres {
			q = q.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		if err := q.First(&is).Error; err != nil {
			return translate(err, "")
		}
		if u.IfRevision != nil && *u.IfRevision != is.Revision {
			return ErrPreconditionFailed
		}
		before := is
		now := time.Now().UTC().Truncate(time.Microsecond)
		var changes []HistoryEntry
		record := func(field, oldV, newV string) {
			o, n := oldV, newV
			entry := HistoryEntry{OrgID: orgID, IssueID: is.ID, At: now, Actor: actor.Name, ActorType: actor.Type, Field: field}
			if o != "" {
				entry.OldValue = &o
			}
			if n != "" {
				entry.NewValue = &n
			}
			changes = append(changes, entry)
		}
		updates := map[string]any{}
		if u.Status != nil && *u.Status != is.Status {
			record("status", is.Status, *u.Status)
			is.Status, is.StatusRank, is.Active = *u.Status, StatusRank(*u.Status), IsActive(*u.Status)
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
			if who := strings.TrimSpace(*u.Assignee); who != "" {
				var user User
				err := tx.Joins("JOIN memberships m ON m.user_id = users.id AND m.org_id = ?", orgID).
					Where("lower(users.login) = lower(?) OR lower(users.email) = lower(?)", who, who).
					First(&user).Error
				if errors.Is(err, gorm.ErrRecordNotFound) {
					return invalid("assignedTo", "%q is not a member of the organisation; give a member's login or email, or null to unassign", who)
				}
				if err != nil {
					return err
				}
				newID, newLogin, newEmail = &user.ID, user.Login, user.Email
			}
			if newLogin != is.AssigneeLogin {
				record("assignedTo", is.AssigneeLogin, newLogin)
				is.AssigneeID, is.AssigneeLogin, is.AssigneeEmail = newID, newLogin, newEmail
				updates["assignee_id"], updates["assignee_login"], updates["assignee_email"] = newID, newLogin, newEmail
			}
		}
		if len(updates) == 0 {
			out = &is
			return nil
		}
		is.Revision++
		is.LastModified = now
		updates["revision"], updates["last_modified"] = is.Revision, now
		if err := tx.Model(&Issue{}).Where("org_id = ? AND id = ?", orgID, is.ID).Updates(updates).Error; err != nil {
			return err
		}
		if err := tx.Create(&changes).Error; err != nil {
			return err
		}
		rollup := newRollupDelta()
		rollup.change(&before, &is)
		if err := r.applyRollups(tx, orgID, rollup); err != nil {
			return err
		}
		out = &is
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// IssueHistory lists an issue's changes, newest first.
func (r *Repository) IssueHistory(ctx context.Context, orgID int64, id string) ([]HistoryEntry, error) {
	if _, err := r.IssueByID(ctx, orgID, id); err != nil {
		return nil, err
	}
	var out []HistoryEntry
	err := r.db.WithContext(ctx).Where("org_id = ? AND issue_id = ?", orgID, strings.ToLower(id)).
		Order("at DESC, id DESC").Find(&out).Error
	return out, err
}

// ETag is the entity tag of an issue revision.
func (is *Issue) ETag() string { return `"` + strconv.Itoa(is.Revision) + `"` }

// ParseETag reads an If-Match value written by ETag; ok is false for "*" or
// an unparseable tag.
func ParseETag(s string) (revision int, ok bool) {
	s = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), "W/"))
	s = strings.Trim(s, `"`)
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, false
	}
	return n, true
}

// ActiveIssueIDs lists up to limit active issues of an organisation in a
// stable order (entity, pack, policy, resource), for tools that work through
// issues.
func (r *Repository) ActiveIssueIDs(ctx context.Context, orgID int64, limit int) ([]string, error) {
	var ids []string
	err := r.db.WithContext(ctx).Model(&Issue{}).Where("org_id = ? AND active", orgID).
		Order("entity_project, entity_id, policy_pack, policy_name, resource_urn").Limit(limit).Pluck("id", &ids).Error
	return ids, err
}
