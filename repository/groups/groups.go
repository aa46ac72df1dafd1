package groups

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/policyresults/policyresults/model"
	"github.com/policyresults/policyresults/policy"
	"github.com/policyresults/policyresults/repository/packs"
	"github.com/policyresults/policyresults/repository/store"
)

// Summary is a policy group with its member and pack counts.
type Summary struct {
	model.PolicyGroup
	NumStacks             int
	NumAccounts           int
	NumEnabledPolicyPacks int
}

// StackMember is a stack in a policy group.
type StackMember struct {
	Name           string // the stack name
	RoutingProject string // the project name
}

// AppliedPack is a pack applied to a group, resolved to a version.
type AppliedPack struct {
	Name        string
	DisplayName string
	// Version and VersionTag are the version applied: the pinned one, or the
	// latest published one when the group follows the latest (Pinned false).
	Version    int
	VersionTag string
	Pinned     bool
	Config     json.RawMessage
}

// Detail is a policy group with its members and applied packs.
type Detail struct {
	model.PolicyGroup
	Stacks       []StackMember
	Accounts     []string
	AppliedPacks []AppliedPack
}

// PackRef names a pack for a group: Version 0 means the version VersionTag
// names, and without a tag (or with "latest") the latest version.
type PackRef struct {
	Name       string
	Version    int
	VersionTag string
	Config     json.RawMessage
}

// Update is one change to a policy group; set one or more fields.
type Update struct {
	NewName               string
	AddStack              *StackMember
	RemoveStack           *StackMember
	AddPolicyPack         *PackRef
	RemovePolicyPack      *PackRef
	AddInsightsAccount    string
	RemoveInsightsAccount string
}

// ListPolicyGroups lists the organisation's policy groups by name, with
// counts.
func (s *Store) ListPolicyGroups(ctx context.Context, orgID int64) ([]Summary, error) {
	return s.policyGroups(s.db.WithContext(ctx), orgID, nil)
}

// policyGroups lists the organisation's policy groups by name, with counts;
// with an entity, only the groups it belongs to.
func (s *Store) policyGroups(db *gorm.DB, orgID int64, entityID *int64) ([]Summary, error) {
	var out []Summary
	q := db.Table("policy_groups g")
	if entityID != nil {
		q = q.Where("g.id IN (SELECT group_id FROM policy_group_entities WHERE org_id = ? AND entity_id = ?)", orgID, *entityID)
	}
	err := q.
		Select(`g.*,
			(SELECT COUNT(*) FROM policy_group_entities ge JOIN entities e ON e.org_id = ge.org_id AND e.id = ge.entity_id
			  WHERE ge.org_id = g.org_id AND ge.group_id = g.id AND e.type = ?) AS num_stacks,
			(SELECT COUNT(*) FROM policy_group_entities ge JOIN entities e ON e.org_id = ge.org_id AND e.id = ge.entity_id
			  WHERE ge.org_id = g.org_id AND ge.group_id = g.id AND e.type = ?) AS num_accounts,
			(SELECT COUNT(*) FROM policy_group_packs gp WHERE gp.org_id = g.org_id AND gp.group_id = g.id) AS num_enabled_policy_packs`,
			model.EntityStack, model.EntityAccount).
		Where("g.org_id = ?", orgID).Order("g.name").Scan(&out).Error
	if out == nil {
		out = []Summary{}
	}
	return out, err
}

// CreatePolicyGroup creates a policy group. entityType defaults to stacks;
// mode defaults to preventative for stacks and audit for accounts.
func (s *Store) CreatePolicyGroup(ctx context.Context, orgID int64, name, entityType, mode string) (*model.PolicyGroup, error) {
	if err := validGroupName("name", name); err != nil {
		return nil, err
	}
	if entityType == "" {
		entityType = model.GroupStacks
	}
	if entityType != model.GroupStacks && entityType != model.GroupAccounts {
		return nil, store.Invalid("entityType", "%q is not one of stacks, accounts", entityType)
	}
	if mode == "" {
		mode = model.ModePreventative
		if entityType == model.GroupAccounts {
			mode = model.ModeAudit
		}
	}
	if mode != model.ModeAudit && mode != model.ModePreventative {
		return nil, store.Invalid("mode", "%q is not one of audit, preventative", mode)
	}
	g := &model.PolicyGroup{OrgID: orgID, Name: name, EntityType: entityType, Mode: mode}
	if err := s.db.WithContext(ctx).Create(g).Error; err != nil {
		return nil, store.Translate(err, "policy group "+name+" already exists")
	}
	return g, nil
}

// policyGroupByName finds a group, locked for the transaction on PostgreSQL.
func (s *Store) policyGroupByName(tx *gorm.DB, orgID int64, name string) (*model.PolicyGroup, error) {
	var g model.PolicyGroup
	if err := s.dialect.LockSelected(tx).Where("org_id = ? AND name = ?", orgID, name).Take(&g).Error; err != nil {
		return nil, store.Translate(err, "")
	}
	return &g, nil
}

// PolicyGroupDetail returns a policy group with its stacks (by project and
// name), accounts and applied packs (by name).
func (s *Store) PolicyGroupDetail(ctx context.Context, orgID int64, name string) (*Detail, error) {
	db := s.db.WithContext(ctx)
	var g model.PolicyGroup
	if err := db.Where("org_id = ? AND name = ?", orgID, name).Take(&g).Error; err != nil {
		return nil, store.Translate(err, "")
	}
	d := &Detail{PolicyGroup: g, Stacks: []StackMember{}, Accounts: []string{}, AppliedPacks: []AppliedPack{}}
	var members []model.Entity
	if err := db.Table("entities e").Select("e.*").
		Joins("JOIN policy_group_entities ge ON ge.org_id = e.org_id AND ge.entity_id = e.id").
		Where("ge.org_id = ? AND ge.group_id = ?", orgID, g.ID).Order("e.type, e.project, e.name").Scan(&members).Error; err != nil {
		return nil, err
	}
	for _, e := range members {
		if e.Type == model.EntityStack {
			d.Stacks = append(d.Stacks, StackMember{Name: e.Name, RoutingProject: e.Project})
		} else {
			d.Accounts = append(d.Accounts, e.Project)
		}
	}
	var packs []struct {
		PackName    string
		Version     *int
		Config      *string
		DisplayName string
		Resolved    *int
		VersionTag  *string
	}
	// The applied version is the pinned one or the latest published one.
	if err := db.Table("policy_group_packs gp").
		Select(`gp.pack_name, gp.version, gp.config, p.display_name, v.version AS resolved, v.version_tag`).
		Joins("LEFT JOIN policy_packs p ON p.org_id = gp.org_id AND p.name = gp.pack_name").
		Joins(`LEFT JOIN policy_pack_versions v ON v.org_id = p.org_id AND v.pack_id = p.id AND v.version = COALESCE(gp.version,
			(SELECT MAX(v2.version) FROM policy_pack_versions v2 WHERE v2.org_id = p.org_id AND v2.pack_id = p.id AND v2.published = ?))`, true).
		Where("gp.org_id = ? AND gp.group_id = ?", orgID, g.ID).Order("gp.pack_name").Scan(&packs).Error; err != nil {
		return nil, err
	}
	for _, p := range packs {
		a := AppliedPack{Name: p.PackName, DisplayName: p.DisplayName, Pinned: p.Version != nil}
		if p.Resolved != nil {
			a.Version = *p.Resolved
		}
		if p.VersionTag != nil {
			a.VersionTag = *p.VersionTag
		}
		if p.Config != nil {
			a.Config = json.RawMessage(*p.Config)
		}
		d.AppliedPacks = append(d.AppliedPacks, a)
	}
	return d, nil
}

// UpdatePolicyGroup applies updates to a group in order, in one transaction:
// all or nothing. Adding a stack or account creates the entity if it is new
// (it also joins its default group). Errors name the update's field, prefixed
// by its index when there are several ("[2].addStack").
func (s *Store) UpdatePolicyGroup(ctx context.Context, orgID int64, name string, updates []Update) error {
	if len(updates) == 0 {
		return store.Invalid("", "no update given")
	}
	return s.store.Transaction(ctx, func(tx *gorm.DB) error {
		g, err := s.policyGroupByName(tx, orgID, name)
		if err != nil {
			return err
		}
		for i, u := range updates {
			prefix := ""
			if len(updates) > 1 {
				prefix = fmt.Sprintf("[%d].", i)
			}
			if err := s.applyGroupUpdate(tx, g, u, prefix); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *Store) applyGroupUpdate(tx *gorm.DB, g *model.PolicyGroup, u Update, prefix string) error {
	changed := false
	if u.NewName != "" {
		changed = true
		if err := s.renameGroup(tx, g, u.NewName, prefix+"newName"); err != nil {
			return err
		}
	}
	if stack := u.AddStack; stack != nil {
		changed = true
		field := prefix + "addStack"
		if g.EntityType != model.GroupStacks {
			return store.Invalid(field, "policy group %s holds accounts, not stacks", g.Name)
		}
		if err := validStack(field, stack.RoutingProject, stack.Name); err != nil {
			return err
		}
		e, err := s.EnsureEntity(tx, g.OrgID, model.EntityStack, stack.RoutingProject, stack.Name, "")
		if err != nil {
			return err
		}
		if err := joinGroup(tx, g.OrgID, g.ID, e.ID); err != nil {
			return err
		}
	}
	if stack := u.RemoveStack; stack != nil {
		changed = true
		if err := leaveGroup(tx, g, model.EntityStack, stack.RoutingProject, stack.Name, prefix+"removeStack"); err != nil {
			return err
		}
	}
	if p := u.AddPolicyPack; p != nil {
		changed = true
		if err := addGroupPack(tx, g, *p, prefix+"addPolicyPack"); err != nil {
			return err
		}
	}
	if p := u.RemovePolicyPack; p != nil {
		changed = true
		res := tx.Where("org_id = ? AND group_id = ? AND pack_name = ?", g.OrgID, g.ID, p.Name).Delete(&model.PolicyGroupPack{})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return store.Invalid(prefix+"removePolicyPack.name", "policy pack %q is not applied to policy group %s", p.Name, g.Name)
		}
	}
	if a := u.AddInsightsAccount; a != "" {
		changed = true
		field := prefix + "addInsightsAccount"
		if g.EntityType != model.GroupAccounts {
			return store.Invalid(field, "policy group %s holds stacks, not accounts", g.Name)
		}
		if !policy.AccountNamePattern.MatchString(a) {
			return store.Invalid(field+".name", "%q is not a valid account name", a)
		}
		e, err := s.EnsureEntity(tx, g.OrgID, model.EntityAccount, a, "", "")
		if err != nil {
			return err
		}
		if err := joinGroup(tx, g.OrgID, g.ID, e.ID); err != nil {
			return err
		}
	}
	if a := u.RemoveInsightsAccount; a != "" {
		changed = true
		if err := leaveGroup(tx, g, model.EntityAccount, a, "", prefix+"removeInsightsAccount"); err != nil {
			return err
		}
	}
	if !changed {
		return store.Invalid(strings.TrimSuffix(prefix, "."), "the update changes nothing; give newName, addStack, removeStack, addPolicyPack, removePolicyPack, addInsightsAccount or removeInsightsAccount")
	}
	return nil
}

// validGroupName checks a new group name. "metadata" is taken by
// GET /api/orgs/{orgName}/policygroups/metadata, which would hide a group of
// that name.
func validGroupName(field, name string) error {
	if !policy.GroupNamePattern.MatchString(name) {
		return store.Invalid(field, "%q is not a valid policy group name (letters, digits, '-', '_', '.'; at most 100)", name)
	}
	if name == "metadata" {
		return store.Invalid(field, `"metadata" is reserved (GET .../policygroups/metadata answers the groups' metadata); choose another name`)
	}
	return nil
}

func (s *Store) renameGroup(tx *gorm.DB, g *model.PolicyGroup, newName, field string) error {
	if g.IsOrgDefault {
		return store.Invalid(field, "default groups can't be renamed")
	}
	if err := validGroupName(field, newName); err != nil {
		return err
	}
	if newName == g.Name {
		return nil
	}
	if err := tx.Model(&model.PolicyGroup{}).Where("org_id = ? AND id = ?", g.OrgID, g.ID).Update("name", newName).Error; err != nil {
		return store.Translate(err, "policy group "+newName+" already exists")
	}
	// Issues carry their group's name for the grid; it is a label, not a
	// triage change, so neither revision nor history move.
	if err := tx.Model(&model.Issue{}).Where("org_id = ? AND policy_group_name = ?", g.OrgID, g.Name).
		Update("policy_group_name", newName).Error; err != nil {
		return err
	}
	g.Name = newName
	return nil
}

func validStack(field, project, stack string) error {
	if !policy.StackNamePattern.MatchString(project) {
		return store.Invalid(field+".routingProject", "%q is not a valid project name", project)
	}
	if !policy.StackNamePattern.MatchString(stack) {
		return store.Invalid(field+".name", "%q is not a valid stack name", stack)
	}
	return nil
}

func joinGroup(tx *gorm.DB, orgID, groupID, entityID int64) error {
	return tx.Clauses(clause.OnConflict{DoNothing: true}).
		Create(&model.PolicyGroupEntity{OrgID: orgID, GroupID: groupID, EntityID: entityID}).Error
}

func leaveGroup(tx *gorm.DB, g *model.PolicyGroup, entityType, project, name, field string) error {
	res := tx.Where(`org_id = ? AND group_id = ? AND entity_id IN
		(SELECT id FROM entities WHERE org_id = ? AND type = ? AND project = ? AND name = ?)`,
		g.OrgID, g.ID, g.OrgID, entityType, project, name).Delete(&model.PolicyGroupEntity{})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		what := project
		if entityType == model.EntityStack {
			what = project + "/" + name
		}
		return store.Invalid(field, "%s is not in policy group %s", what, g.Name)
	}
	return nil
}

func addGroupPack(tx *gorm.DB, g *model.PolicyGroup, p PackRef, field string) error {
	var pack model.PolicyPack
	if err := tx.Where("org_id = ? AND name = ?", g.OrgID, p.Name).Take(&pack).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return store.Invalid(field+".name", "policy pack %q does not exist", p.Name)
		}
		return err
	}
	if p.Version < 0 || p.Version > packs.MaxVersion {
		return store.Invalid(field+".version", "a version is a number from 1 to %d (0 means the latest)", packs.MaxVersion)
	}
	if p.Version == 0 && p.VersionTag != "" && p.VersionTag != "latest" {
		// The pulumi CLI's `policy enable ORG/PACK 1.2.0` names the version
		// by its tag only.
		_, v, err := packs.ResolveVersion(tx, g.OrgID, p.Name, p.VersionTag)
		var ve *store.ValidationError
		switch {
		case err == nil && v.Published:
			p.Version = v.Version
		case err == nil || errors.Is(err, store.ErrNotFound) || errors.As(err, &ve):
			return store.Invalid(field+".versionTag", "policy pack %s has no published version %q", p.Name, p.VersionTag)
		default:
			return err
		}
	}
	q := tx.Model(&model.PolicyPackVersion{}).Where("org_id = ? AND pack_id = ? AND published = ?", g.OrgID, pack.ID, true)
	if p.Version > 0 {
		q = q.Where("version = ?", p.Version)
	}
	var n int64
	if err := q.Count(&n).Error; err != nil {
		return err
	}
	if n == 0 {
		if p.Version > 0 {
			return store.Invalid(field+".version", "policy pack %s has no published version %d", p.Name, p.Version)
		}
		return store.Invalid(field+".name", "policy pack %s has no published version", p.Name)
	}
	row := model.PolicyGroupPack{OrgID: g.OrgID, GroupID: g.ID, PackName: p.Name}
	if p.Version > 0 {
		v := p.Version
		row.Version = &v
	}
	if c := bytes.TrimSpace(p.Config); len(c) > 0 && !bytes.Equal(c, []byte("null")) {
		if !json.Valid(c) {
			return store.Invalid(field+".config", "not valid JSON")
		}
		s := string(c)
		row.Config = &s
	}
	return tx.Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "org_id"}, {Name: "group_id"}, {Name: "pack_name"}},
		DoUpdates: clause.AssignmentColumns([]string{"version", "config"}),
	}).Create(&row).Error
}

// DeletePolicyGroup deletes a group. Default groups can't be deleted. The
// group's evaluation outcomes lose their group; its issues keep the name they
// were attributed to until their entity is evaluated again.
func (s *Store) DeletePolicyGroup(ctx context.Context, orgID int64, name string) error {
	return s.store.Transaction(ctx, func(tx *gorm.DB) error {
		g, err := s.policyGroupByName(tx, orgID, name)
		if err != nil {
			return err
		}
		if g.IsOrgDefault {
			return store.Invalid("policyGroup", "default groups can't be deleted")
		}
		for _, m := range []any{&model.PackEvaluation{}, &model.PolicyOutcome{}} {
			if err := tx.Model(m).Where("org_id = ? AND group_id = ?", orgID, g.ID).Update("group_id", nil).Error; err != nil {
				return err
			}
		}
		return tx.Where("org_id = ? AND id = ?", orgID, g.ID).Delete(&model.PolicyGroup{}).Error
	})
}

// EnsureEntity finds or creates an entity in transaction tx; a new entity
// joins the default group of its kind. Ingest calls it for the entity an
// evaluation concerns. The entity row is locked for the transaction on
// PostgreSQL, so concurrent evaluations of one entity apply one after the
// other.
func (s *Store) EnsureEntity(tx *gorm.DB, orgID int64, entityType, project, name, provider string) (*model.Entity, error) {
	var e model.Entity
	find := func() error {
		return s.dialect.LockSelected(tx).Where("org_id = ? AND type = ? AND project = ? AND name = ?", orgID, entityType, project, name).Take(&e).Error
	}
	err := find()
	if errors.Is(err, gorm.ErrRecordNotFound) {
		e = model.Entity{OrgID: orgID, Type: entityType, Project: project, Name: name, Provider: provider}
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&e)
		if res.Error != nil {
			return nil, res.Error
		}
		if res.RowsAffected == 1 {
			groupType := model.GroupStacks
			if entityType == model.EntityAccount {
				groupType = model.GroupAccounts
			}
			var def model.PolicyGroup
			err := tx.Where("org_id = ? AND is_org_default = ? AND entity_type = ?", orgID, true, groupType).Take(&def).Error
			switch {
			case err == nil:
				if err := joinGroup(tx, orgID, def.ID, e.ID); err != nil {
					return nil, err
				}
			case !errors.Is(err, gorm.ErrRecordNotFound):
				return nil, err
			}
		}
		err = find()
	}
	if err != nil {
		return nil, err
	}
	if provider != "" && provider != e.Provider {
		if err := tx.Model(&model.Entity{}).Where("org_id = ? AND id = ?", orgID, e.ID).Update("provider", provider).Error; err != nil {
			return nil, err
		}
		e.Provider = provider
	}
	return &e, nil
}
