package repository

import (
	"database/sql"
	"time"

	"github.com/policyresults/policyresults/model"
	"github.com/policyresults/policyresults/repository/issuerows"
)

// issueRegistrySelect follows issuerows.Select where an issue is read with its
// registry record (IssueDetails), joined by issueRegistryJoin.
const issueRegistrySelect = `, pk.id, pk.name, pk.display_name, pk.created_at,
	v.id, v.uuid, v.version, v.version_tag, v.display_name, v.description, v.published, v.archive_size, v.created_at,
	pol.name, pol.display_name, pol.description, pol.enforcement_level, pol.message, pol.severity,
	pol.config_schema, pol.framework, pol.tags, pol.remediation_steps, pol.url`

// issueRegistryJoin joins an issue to the version of its pack that carries
// its tag (policy.NormalizeTag in SQL; the published, then the newest, if several
// do) and to the policy of its name in that version. Every GET and PATCH of
// an issue answers with them, in the statement that reads the issue.
const issueRegistryJoin = ` LEFT JOIN policy_pack_versions v ON v.org_id = policy_issues.org_id AND v.id = (
		SELECT v2.id FROM policy_packs pk2
		JOIN policy_pack_versions v2 ON v2.org_id = pk2.org_id AND v2.pack_id = pk2.id
		WHERE pk2.org_id = policy_issues.org_id AND pk2.name = policy_issues.policy_pack AND v2.version_tag =
		      CASE WHEN length(policy_issues.policy_pack_tag) > 1 AND substr(policy_issues.policy_pack_tag, 1, 1) IN ('v', 'V')
		                AND substr(policy_issues.policy_pack_tag, 2, 1) BETWEEN '0' AND '9'
		           THEN substr(policy_issues.policy_pack_tag, 2) ELSE policy_issues.policy_pack_tag END
		ORDER BY v2.published DESC, v2.version DESC LIMIT 1)
	LEFT JOIN policy_packs pk ON pk.org_id = v.org_id AND pk.id = v.pack_id
	LEFT JOIN policies pol ON pol.org_id = v.org_id AND pol.version_id = v.id AND pol.name = policy_issues.policy_name`

// registryScanner scans the columns of issueRegistrySelect, which are all
// null when the registry does not hold the issue's pack version.
type registryScanner struct {
	packID, versionID, version, archiveSize                        sql.NullInt64
	packName, packDisplayName, uuid, tag, versionDisplayName, desc sql.NullString
	published                                                      sql.NullBool
	packCreated, versionCreated                                    nullTimeValue
	name, displayName, description, level, message, severity       sql.NullString
	steps, url                                                     sql.NullString
	policy                                                         model.Policy
}

func (s *registryScanner) dest() []any {
	return []any{&s.packID, &s.packName, &s.packDisplayName, &s.packCreated,
		&s.versionID, &s.uuid, &s.version, &s.tag, &s.versionDisplayName, &s.desc, &s.published, &s.archiveSize, &s.versionCreated,
		&s.name, &s.displayName, &s.description, &s.level, &s.message, &s.severity,
		&s.policy.ConfigSchema, &s.policy.Framework, &s.policy.Tags, &s.steps, &s.url}
}

// fill sets d's pack, version and policy from the scanned columns.
func (s *registryScanner) fill(d *IssueDetails) {
	orgID := d.Issue.OrgID
	if !s.versionID.Valid {
		return
	}
	d.Pack = &model.PolicyPack{OrgID: orgID, ID: s.packID.Int64, Name: s.packName.String, DisplayName: s.packDisplayName.String,
		CreatedAt: s.packCreated.t}
	d.Version = &model.PolicyPackVersion{OrgID: orgID, ID: s.versionID.Int64, UUID: s.uuid.String, PackID: s.packID.Int64,
		Version: int(s.version.Int64), VersionTag: s.tag.String, DisplayName: s.versionDisplayName.String,
		Description: s.desc.String, Published: s.published.Bool, ArchiveSize: s.archiveSize.Int64, CreatedAt: s.versionCreated.t}
	if !s.name.Valid {
		return
	}
	p := s.policy
	p.OrgID, p.VersionID, p.Name = orgID, s.versionID.Int64, s.name.String
	p.DisplayName, p.Description, p.EnforcementLevel = s.displayName.String, s.description.String, s.level.String
	p.Message, p.Severity, p.RemediationSteps, p.URL = s.message.String, s.severity.String, s.steps.String, s.url.String
	d.Policy = &p
}

// timeValue scans a time as either driver hands it back.
type timeValue struct{ t time.Time }

func (v *timeValue) Scan(src any) error {
	t, err := issuerows.ScanTime(src)
	v.t = t
	return err
}

// nullTimeValue is timeValue where the column may be null (the zero time).
type nullTimeValue struct{ t time.Time }

func (v *nullTimeValue) Scan(src any) error {
	if src == nil {
		v.t = time.Time{}
		return nil
	}
	t, err := issuerows.ScanTime(src)
	v.t = t
	return err
}
