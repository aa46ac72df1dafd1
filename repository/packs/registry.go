package packs

import (
	"context"

	"github.com/policyresults/policyresults/model"
	"github.com/policyresults/policyresults/repository/store"
	"gorm.io/gorm"
)

// RegistryPack is a published pack version as the registry lists it.
type RegistryPack struct {
	OrgID int64
	// ID is the version's id (a UUID), the registry's id of the pack.
	ID         string
	Name       string
	Version    int
	VersionTag string
	// DisplayName is the version's display name, else the pack's.
	DisplayName string
}

// registryPacks selects published versions with their packs; the caller
// adds the conditions and the order.
func registryPacks(db *gorm.DB) *gorm.DB {
	return db.Table("policy_pack_versions v").
		Select(`p.org_id, v.uuid AS id, p.name, v.version, v.version_tag,
			COALESCE(NULLIF(v.display_name, ''), NULLIF(p.display_name, ''), p.name) AS display_name`).
		Joins("JOIN policy_packs p ON p.org_id = v.org_id AND p.id = v.pack_id").
		Where("v.published = ?", true)
}

// RegistryPacks lists, for the organisations, the latest published version
// of each pack by organisation name then pack name (byte order); with ids,
// the published versions with these ids instead, in the same order.
func (s *Store) RegistryPacks(ctx context.Context, orgIDs []int64, ids []string) ([]RegistryPack, error) {
	out := []RegistryPack{}
	if len(orgIDs) == 0 {
		return out, nil
	}
	q := registryPacks(s.db.WithContext(ctx)).
		Joins("JOIN organizations o ON o.id = p.org_id").
		Where("p.org_id IN ?", orgIDs)
	if ids != nil {
		q = q.Where("v.uuid IN ?", ids)
	} else {
		q = q.Where(`v.version = (SELECT MAX(v2.version) FROM policy_pack_versions v2
			WHERE v2.org_id = v.org_id AND v2.pack_id = v.pack_id AND v2.published = ?)`, true)
	}
	err := q.Order(s.dialect.TextOrder("o.name") + ", " + s.dialect.TextOrder("p.name") + ", v.version DESC").Scan(&out).Error
	return out, err
}

// RegistryPackVersions lists a pack's published versions, newest first;
// store.ErrNotFound when the organisation has no pack of that name.
func (s *Store) RegistryPackVersions(ctx context.Context, orgID int64, name string) ([]RegistryPack, error) {
	db := s.db.WithContext(ctx)
	var pack model.PolicyPack
	if err := db.Where("org_id = ? AND name = ?", orgID, name).Take(&pack).Error; err != nil {
		return nil, store.Translate(err, "")
	}
	out := []RegistryPack{}
	err := registryPacks(db).Where("v.org_id = ? AND v.pack_id = ?", orgID, pack.ID).Order("v.version DESC").Scan(&out).Error
	return out, err
}
