package packs

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/policyresults/policyresults/model"
	"github.com/policyresults/policyresults/policy"
	"github.com/policyresults/policyresults/repository/accounts"
	"github.com/policyresults/policyresults/repository/store"
)

// MaxArchiveSize bounds a stored pack archive (64 MiB).
const MaxArchiveSize = 64 << 20

// MaxVersion is the highest version number of a pack: the schema stores
// version numbers as 32-bit integers (openapi.yaml states it as the maximum
// of every version number a request carries).
const MaxVersion = math.MaxInt32

// Input is a new version of a policy pack.
type Input struct {
	Name        string
	DisplayName string
	// VersionTag is the version's semantic version (1.2.0; a leading "v" is
	// dropped). Empty means the version number is used as the tag.
	VersionTag  string
	Description string
	Policies    []model.PolicyInput
	// UploadExpiresAt, when set, issues the version a presigned upload
	// credential (NewPackVersion.UploadCredential) that authorizes its
	// archive upload until then.
	UploadExpiresAt time.Time
}

// NewPackVersion is a version CreatePolicyPackVersion registered.
type NewPackVersion struct {
	Version int
	UUID    string
	// UploadCredential is the presigned upload credential issued when
	// Input.UploadExpiresAt was set; it is shown once and only its
	// hash is stored.
	UploadCredential string
}

// Summary is a pack with its published versions, oldest first.
type Summary struct {
	Name        string
	DisplayName string
	Versions    []int
	VersionTags []string
}

// Detail is one version of a pack with its policies.
type Detail struct {
	Pack     model.PolicyPack
	Version  model.PolicyPackVersion
	Policies []model.PolicyInput
	// Applied reports whether a policy group applies this version (pinned,
	// or as the latest version).
	Applied bool
}

// policyRow turns validated metadata into a row of the policies table.
func policyRow(orgID, versionID int64, p model.PolicyInput) model.Policy {
	row := model.Policy{
		OrgID: orgID, VersionID: versionID, Name: p.Name, DisplayName: p.DisplayName,
		Description: p.Description, EnforcementLevel: p.EnforcementLevel, Message: p.Message,
		Severity: p.Severity, RemediationSteps: p.RemediationSteps, URL: p.URL,
	}
	if len(p.ConfigSchema) > 0 && !bytes.Equal(bytes.TrimSpace(p.ConfigSchema), []byte("null")) {
		s := string(p.ConfigSchema)
		row.ConfigSchema = &s
	}
	if p.Framework != nil {
		b, _ := json.Marshal(p.Framework)
		s := string(b)
		row.Framework = &s
	}
	if p.Tags != nil {
		b, _ := json.Marshal(p.Tags)
		s := string(b)
		row.Tags = &s
	}
	return row
}

// CreatePolicyPackVersion registers a new version of a pack (creating the
// pack if new) with its policies, unpublished until CompletePolicyPackPublish.
// Version numbers count 1, 2, 3… per pack. A tag already published is a
// ConflictError; an unpublished version with the same tag (an interrupted
// publish) is replaced, keeping its number, and an upload credential issued
// for it before no longer authorizes anything.
func (s *Store) CreatePolicyPackVersion(ctx context.Context, orgID int64, in Input) (NewPackVersion, error) {
	if !policy.PackNamePattern.MatchString(in.Name) {
		return NewPackVersion{}, store.Invalid("name", "%q is not a valid policy pack name (letters, digits, '-', '_', '.'; at most 100)", in.Name)
	}
	tag, err := policy.NewVersionTag(in.VersionTag)
	if err != nil {
		return NewPackVersion{}, store.Refused(err)
	}
	if len(in.Policies) == 0 {
		return NewPackVersion{}, store.Invalid("policies", "a policy pack needs at least one policy")
	}
	seen := make(map[string]bool, len(in.Policies))
	for i := range in.Policies {
		field := fmt.Sprintf("policies[%d]", i)
		if err := in.Policies[i].Check(field); err != nil {
			return NewPackVersion{}, store.Refused(err)
		}
		if seen[in.Policies[i].Name] {
			return NewPackVersion{}, store.Invalid(field+".name", "policy %q appears twice", in.Policies[i].Name)
		}
		seen[in.Policies[i].Name] = true
	}
	out := NewPackVersion{UUID: uuid.NewString()}
	var credentialHash *string
	var expiresAt *time.Time
	if !in.UploadExpiresAt.IsZero() {
		out.UploadCredential = newUploadCredential()
		h, t := accounts.HashToken(out.UploadCredential), in.UploadExpiresAt.UTC()
		credentialHash, expiresAt = &h, &t
	}
	err = s.store.Transaction(ctx, func(tx *gorm.DB) error {
		pack, err := s.ensurePack(tx, orgID, in.Name, in.DisplayName)
		if err != nil {
			return err
		}
		var existing model.PolicyPackVersion
		found := false
		if tag != "" {
			err := tx.Where("org_id = ? AND pack_id = ? AND version_tag = ?", orgID, pack.ID, tag).Take(&existing).Error
			switch {
			case err == nil:
				found = true
			case !errors.Is(err, gorm.ErrRecordNotFound):
				return err
			}
		}
		var v model.PolicyPackVersion
		switch {
		case found && existing.Published:
			return &store.ConflictError{Message: fmt.Sprintf("policy pack %s version %s is already published", in.Name, tag)}
		case found:
			v = existing
			if err := tx.Where("org_id = ? AND version_id = ?", orgID, v.ID).Delete(&model.Policy{}).Error; err != nil {
				return err
			}
			if err := tx.Where("org_id = ? AND version_id = ?", orgID, v.ID).Delete(&model.PolicyPackArchive{}).Error; err != nil {
				return err
			}
			if err := tx.Model(&model.PolicyPackVersion{}).Where("org_id = ? AND id = ?", orgID, v.ID).Updates(map[string]any{
				"uuid": out.UUID, "display_name": in.DisplayName, "description": in.Description, "archive_size": 0,
				"upload_credential_hash": credentialHash, "upload_expires_at": expiresAt,
			}).Error; err != nil {
				return err
			}
		default:
			last, err := scanMax(tx.Model(&model.PolicyPackVersion{}).Where("org_id = ? AND pack_id = ?", orgID, pack.ID).
				Select("MAX(version)"))
			if err != nil {
				return err
			}
			v = model.PolicyPackVersion{OrgID: orgID, UUID: out.UUID, PackID: pack.ID, Version: last + 1,
				VersionTag: tag, DisplayName: in.DisplayName, Description: in.Description,
				UploadCredentialHash: credentialHash, UploadExpiresAt: expiresAt}
			if v.VersionTag == "" {
				v.VersionTag = strconv.Itoa(v.Version)
			}
			if err := tx.Create(&v).Error; err != nil {
				return store.Translate(err, fmt.Sprintf("policy pack %s version %s already exists", in.Name, v.VersionTag))
			}
		}
		rows := make([]model.Policy, len(in.Policies))
		for i, p := range in.Policies {
			rows[i] = policyRow(orgID, v.ID, p)
		}
		if err := tx.CreateInBatches(rows, 500).Error; err != nil {
			return err
		}
		out.Version = v.Version
		return nil
	})
	if err != nil {
		return NewPackVersion{}, err
	}
	return out, nil
}

// ensurePack finds or creates a pack, locking it so concurrent publishes of
// the same pack number their versions one after the other.
func (s *Store) ensurePack(tx *gorm.DB, orgID int64, name, displayName string) (*model.PolicyPack, error) {
	var pack model.PolicyPack
	err := s.dialect.LockSelected(tx).Where("org_id = ? AND name = ?", orgID, name).Take(&pack).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		pack = model.PolicyPack{OrgID: orgID, Name: name, DisplayName: displayName}
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&pack).Error; err != nil {
			return nil, err
		}
		err = s.dialect.LockSelected(tx).Where("org_id = ? AND name = ?", orgID, name).Take(&pack).Error
	}
	if err != nil {
		return nil, err
	}
	if displayName != "" && displayName != pack.DisplayName {
		if err := tx.Model(&model.PolicyPack{}).Where("org_id = ? AND id = ?", orgID, pack.ID).
			Update("display_name", displayName).Error; err != nil {
			return nil, err
		}
		pack.DisplayName = displayName
	}
	return &pack, nil
}

// packVersion finds a version of a named pack by number.
func packVersion(tx *gorm.DB, orgID int64, name string, version int) (*model.PolicyPack, *model.PolicyPackVersion, error) {
	return ResolveVersion(tx, orgID, name, strconv.Itoa(version))
}

// StorePolicyPackArchive stores (or replaces) the archive of an unpublished
// pack version.
func (s *Store) StorePolicyPackArchive(ctx context.Context, orgID int64, name string, version int, data []byte) error {
	return s.storeArchive(ctx, orgID, name, version, data, nil)
}

// storeArchive stores the archive of an unpublished pack version once
// authorize, if set, accepts the version, in the same transaction.
func (s *Store) storeArchive(ctx context.Context, orgID int64, name string, version int, data []byte, authorize func(*model.PolicyPackVersion) error) error {
	if len(data) > MaxArchiveSize {
		return store.Invalid("archive", "the archive is %d bytes; the limit is %d", len(data), MaxArchiveSize)
	}
	if len(data) == 0 {
		return store.Invalid("archive", "the archive is empty")
	}
	return s.store.Transaction(ctx, func(tx *gorm.DB) error {
		_, v, err := packVersion(tx, orgID, name, version)
		if err != nil {
			return err
		}
		// Read the row again under its lock, so that a publish completing
		// meanwhile is seen here rather than followed by a new archive.
		if err := s.dialect.LockSelected(tx).Where("org_id = ? AND id = ?", orgID, v.ID).Take(v).Error; err != nil {
			return store.Translate(err, "")
		}
		if authorize != nil {
			if err := authorize(v); err != nil {
				return err
			}
		}
		if v.Published {
			return &store.ConflictError{Message: fmt.Sprintf("policy pack %s version %d is already published", name, version)}
		}
		a := model.PolicyPackArchive{OrgID: orgID, VersionID: v.ID, Data: data}
		if err := tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "org_id"}, {Name: "version_id"}},
			DoUpdates: clause.AssignmentColumns([]string{"data"}),
		}).Create(&a).Error; err != nil {
			return err
		}
		return tx.Model(&model.PolicyPackVersion{}).Where("org_id = ? AND id = ?", orgID, v.ID).
			Update("archive_size", len(data)).Error
	})
}

// CompletePolicyPackPublish publishes a pack version whose archive has been
// uploaded. Completing a published version again is a no-op.
func (s *Store) CompletePolicyPackPublish(ctx context.Context, orgID int64, name string, version int) error {
	return s.CompletePolicyPackVersion(ctx, orgID, name, strconv.Itoa(version))
}

// CompletePolicyPackVersion is CompletePolicyPackPublish for a version named
// by number or by tag, as the registry and the `pulumi` CLI name it.
func (s *Store) CompletePolicyPackVersion(ctx context.Context, orgID int64, name, version string) error {
	return s.store.Transaction(ctx, func(tx *gorm.DB) error {
		_, v, err := ResolveVersion(tx, orgID, name, version)
		if err != nil {
			return err
		}
		if v.Published {
			return nil
		}
		var n int64
		if err := tx.Model(&model.PolicyPackArchive{}).Where("org_id = ? AND version_id = ?", orgID, v.ID).Count(&n).Error; err != nil {
			return err
		}
		if n == 0 {
			// The request names the version; the archive is no field of it.
			return store.Invalid("version", "policy pack %s version %s has no archive; upload it before completing the publish", name, version)
		}
		return tx.Model(&model.PolicyPackVersion{}).Where("org_id = ? AND id = ?", orgID, v.ID).Update("published", true).Error
	})
}

// ListPolicyPacks lists the organisation's packs that have a published
// version, by name, each with its published versions; a non-empty name keeps
// only that pack.
func (s *Store) ListPolicyPacks(ctx context.Context, orgID int64, name string) ([]Summary, error) {
	var rows []struct {
		Name        string
		DisplayName string
		Version     int
		VersionTag  string
	}
	q := s.db.WithContext(ctx).Table("policy_packs p").
		Select("p.name, p.display_name, v.version, v.version_tag").
		Joins("JOIN policy_pack_versions v ON v.org_id = p.org_id AND v.pack_id = p.id").
		Where("p.org_id = ? AND v.published = ?", orgID, true)
	if name != "" {
		q = q.Where("p.name = ?", name)
	}
	err := q.Order("p.name, v.version").Scan(&rows).Error
	if err != nil {
		return nil, err
	}
	out := []Summary{}
	for _, row := range rows {
		if len(out) == 0 || out[len(out)-1].Name != row.Name {
			out = append(out, Summary{Name: row.Name, DisplayName: row.DisplayName, Versions: []int{}, VersionTags: []string{}})
		}
		sum := &out[len(out)-1]
		sum.Versions = append(sum.Versions, row.Version)
		sum.VersionTags = append(sum.VersionTags, row.VersionTag)
	}
	return out, nil
}

// ResolveVersion finds the version a path names: "latest" (the highest
// published version), a version number, or a version tag (the `pulumi` CLI
// names versions by their tags, "v1.2.0" meaning "1.2.0"). Tags are semantic
// versions and a version published without one has its number as tag, so the
// three never overlap.
func ResolveVersion(tx *gorm.DB, orgID int64, name, version string) (*model.PolicyPack, *model.PolicyPackVersion, error) {
	var pick func(*gorm.DB) *gorm.DB
	if n, err := strconv.Atoi(version); err == nil {
		if n < 1 || n > MaxVersion {
			return nil, nil, store.Invalid("version", "%q is not a version number (they count from 1 to %d)", version, MaxVersion)
		}
		pick = func(q *gorm.DB) *gorm.DB { return q.Where("version = ?", n) }
	} else if version == "latest" {
		pick = func(q *gorm.DB) *gorm.DB { return q.Where("published = ?", true).Order("version DESC") }
	} else {
		tag := policy.NormalizeTag(version)
		if !policy.SemVer.MatchString(tag) {
			return nil, nil, store.Invalid("version", "%q is not a version number, a version tag such as 1.2.0, or \"latest\"", version)
		}
		pick = func(q *gorm.DB) *gorm.DB { return q.Where("version_tag = ?", tag) }
	}
	var pack model.PolicyPack
	if err := tx.Where("org_id = ? AND name = ?", orgID, name).Take(&pack).Error; err != nil {
		return nil, nil, store.Translate(err, "")
	}
	var v model.PolicyPackVersion
	if err := pick(tx.Where("org_id = ? AND pack_id = ?", orgID, pack.ID)).Take(&v).Error; err != nil {
		return nil, nil, store.Translate(err, "")
	}
	return &pack, &v, nil
}

// latestPublished is the highest published version number of a pack, 0 if
// none.
func latestPublished(tx *gorm.DB, orgID, packID int64) (int, error) {
	return scanMax(tx.Model(&model.PolicyPackVersion{}).Where("org_id = ? AND pack_id = ? AND published = ?", orgID, packID, true).
		Select("MAX(version)"))
}

// scanMax reads a single nullable integer (a MAX) from a query; NULL is 0.
func scanMax(q *gorm.DB) (int, error) {
	var n sql.NullInt64
	if err := q.Row().Scan(&n); err != nil {
		return 0, err
	}
	return int(n.Int64), nil
}

// versionApplied reports whether a group applies this version of a pack:
// pinned to it, or following the latest version while it is the latest.
func versionApplied(tx *gorm.DB, orgID int64, pack *model.PolicyPack, v *model.PolicyPackVersion) (bool, error) {
	latest, err := latestPublished(tx, orgID, pack.ID)
	if err != nil {
		return false, err
	}
	q := tx.Model(&model.PolicyGroupPack{}).Where("org_id = ? AND pack_name = ?", orgID, pack.Name)
	if v.Published && v.Version == latest {
		q = q.Where("version = ? OR version IS NULL", v.Version)
	} else {
		q = q.Where("version = ?", v.Version)
	}
	var n int64
	if err := q.Count(&n).Error; err != nil {
		return false, err
	}
	return n > 0, nil
}

// PolicyPackVersion returns a version of a pack ("latest" or a number) with
// its policies, by name.
func (s *Store) PolicyPackVersion(ctx context.Context, orgID int64, name, version string) (*Detail, error) {
	db := s.db.WithContext(ctx)
	pack, v, err := ResolveVersion(db, orgID, name, version)
	if err != nil {
		return nil, err
	}
	var policies []model.Policy
	if err := db.Where("org_id = ? AND version_id = ?", orgID, v.ID).Order("name").Find(&policies).Error; err != nil {
		return nil, err
	}
	applied, err := versionApplied(db, orgID, pack, v)
	if err != nil {
		return nil, err
	}
	d := &Detail{Pack: *pack, Version: *v, Policies: make([]model.PolicyInput, len(policies)), Applied: applied}
	for i := range policies {
		d.Policies[i] = policies[i].Metadata()
	}
	return d, nil
}

// DeletePolicyPack deletes a pack with all its versions. A pack applied to a
// policy group is a ConflictError.
func (s *Store) DeletePolicyPack(ctx context.Context, orgID int64, name string) error {
	return s.store.Transaction(ctx, func(tx *gorm.DB) error {
		var pack model.PolicyPack
		if err := s.dialect.LockSelected(tx).Where("org_id = ? AND name = ?", orgID, name).Take(&pack).Error; err != nil {
			return store.Translate(err, "")
		}
		var groups []string
		if err := tx.Table("policy_group_packs gp").Select("g.name").
			Joins("JOIN policy_groups g ON g.org_id = gp.org_id AND g.id = gp.group_id").
			Where("gp.org_id = ? AND gp.pack_name = ?", orgID, name).Order("g.name").Scan(&groups).Error; err != nil {
			return err
		}
		if len(groups) > 0 {
			return &store.ConflictError{Message: fmt.Sprintf("policy pack %s is applied to policy groups %s; remove it from them first", name, strings.Join(groups, ", "))}
		}
		return tx.Where("org_id = ? AND id = ?", orgID, pack.ID).Delete(&model.PolicyPack{}).Error
	})
}

// DeletePolicyPackVersion deletes one version of a pack ("latest" or a
// number); deleting its last version deletes the pack. A version applied to a
// policy group (pinned, or as the latest) is a ConflictError.
func (s *Store) DeletePolicyPackVersion(ctx context.Context, orgID int64, name, version string) error {
	return s.store.Transaction(ctx, func(tx *gorm.DB) error {
		pack, v, err := ResolveVersion(tx, orgID, name, version)
		if err != nil {
			return err
		}
		applied, err := versionApplied(tx, orgID, pack, v)
		if err != nil {
			return err
		}
		if applied {
			return &store.ConflictError{Message: fmt.Sprintf("policy pack %s version %d is applied to a policy group; remove it from the group first", name, v.Version)}
		}
		if err := tx.Where("org_id = ? AND id = ?", orgID, v.ID).Delete(&model.PolicyPackVersion{}).Error; err != nil {
			return err
		}
		var left int64
		if err := tx.Model(&model.PolicyPackVersion{}).Where("org_id = ? AND pack_id = ?", orgID, pack.ID).Count(&left).Error; err != nil {
			return err
		}
		if left == 0 {
			return tx.Where("org_id = ? AND id = ?", orgID, pack.ID).Delete(&model.PolicyPack{}).Error
		}
		return nil
	})
}
