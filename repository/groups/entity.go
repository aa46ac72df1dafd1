package groups

import (
	"context"
	"encoding/json"

	"github.com/policyresults/policyresults/model"
	"github.com/policyresults/policyresults/repository/store"
	"gorm.io/gorm"
)

// RequiredPack is a policy pack that applies to an entity through one of its
// policy groups, at the version the group applies, with the group's
// configuration.
type RequiredPack struct {
	Name        string
	DisplayName string
	Version     int
	VersionTag  string
	Config      json.RawMessage
}

// entityID finds a stack (project, name) or an Insights account (project is
// the account name, name empty) of an organisation; store.ErrNotFound if
// policyresults never saw it.
func entityID(db *gorm.DB, orgID int64, entityType, project, name string) (int64, error) {
	var id int64
	err := db.Model(&model.Entity{}).Select("id").
		Where("org_id = ? AND type = ? AND project = ? AND name = ?", orgID, entityType, project, name).Take(&id).Error
	return id, store.Translate(err, "")
}

// EntityPolicyGroups lists, by name, the policy groups a stack or account
// belongs to, with the counts ListPolicyGroups answers.
func (s *Store) EntityPolicyGroups(ctx context.Context, orgID int64, entityType, project, name string) ([]Summary, error) {
	db := s.db.WithContext(ctx)
	id, err := entityID(db, orgID, entityType, project, name)
	if err != nil {
		return nil, err
	}
	return s.policyGroups(db, orgID, &id)
}

// EntityPolicyPacks lists the packs the policy groups of a stack or account
// apply (only groups of mode, when given), by name then version: each at the
// version its group pins, else at the latest published one; packs without a
// published version are left out. A pack two groups apply at the same
// version comes once, with the configuration of the group evaluations
// attribute it to first: groups other than the default one first, then by
// name.
func (s *Store) EntityPolicyPacks(ctx context.Context, orgID int64, entityType, project, name, mode string) ([]RequiredPack, error) {
	if mode != "" && mode != model.ModeAudit && mode != model.ModePreventative {
		return nil, store.Invalid("mode", "%q is not one of audit, preventative", mode)
	}
	db := s.db.WithContext(ctx)
	id, err := entityID(db, orgID, entityType, project, name)
	if err != nil {
		return nil, err
	}
	modeCond, args := "", []any{true, true, orgID, id}
	if mode != "" {
		modeCond, args = " AND g.mode = ?", append(args, mode)
	}
	var rows []struct {
		Name        string
		DisplayName string
		Version     int
		VersionTag  string
		Config      *string
	}
	err = db.Raw(`SELECT p.name, COALESCE(NULLIF(v.display_name, ''), p.display_name) AS display_name, v.version, v.version_tag, gp.config
		FROM policy_group_entities ge
		JOIN policy_groups g ON g.org_id = ge.org_id AND g.id = ge.group_id
		JOIN policy_group_packs gp ON gp.org_id = g.org_id AND gp.group_id = g.id
		JOIN policy_packs p ON p.org_id = gp.org_id AND p.name = gp.pack_name
		JOIN policy_pack_versions v ON v.org_id = p.org_id AND v.pack_id = p.id AND v.published = ? AND v.version = COALESCE(gp.version,
			(SELECT MAX(v2.version) FROM policy_pack_versions v2 WHERE v2.org_id = p.org_id AND v2.pack_id = p.id AND v2.published = ?))
		WHERE ge.org_id = ? AND ge.entity_id = ?`+modeCond+`
		ORDER BY `+s.dialect.TextOrder("p.name")+`, v.version, g.is_org_default, `+s.dialect.TextOrder("g.name"),
		args...).Scan(&rows).Error
	if err != nil {
		return nil, err
	}
	out := []RequiredPack{}
	for _, row := range rows {
		if n := len(out); n > 0 && out[n-1].Name == row.Name && out[n-1].Version == row.Version {
			continue
		}
		p := RequiredPack{Name: row.Name, DisplayName: row.DisplayName, Version: row.Version, VersionTag: row.VersionTag}
		if row.Config != nil {
			p.Config = json.RawMessage(*row.Config)
		}
		out = append(out, p)
	}
	return out, nil
}
