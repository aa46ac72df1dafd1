// Package model holds the records policyresults stores (organisations, users,
// tokens, policy packs and groups, entities, issues and their history,
// evaluations, outcomes and resources) and a policy's metadata as published,
// shared by every layer.
package model

import (
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Role is a member's or an organisation token's role.
type Role string

// The roles, from most to least powerful.
const (
	RoleAdmin  Role = "admin"
	RoleMember Role = "member"
	RoleViewer Role = "viewer"
)

// CanWrite reports whether the role may triage and ingest.
func (r Role) CanWrite() bool { return r == RoleAdmin || r == RoleMember }

// Organization is a tenant.
type Organization struct {
	ID        int64
	Name      string
	CreatedAt time.Time
}

// User is a person who can sign in with a personal token.
type User struct {
	ID        int64
	Login     string
	Email     string
	Name      string
	AvatarURL string
	CreatedAt time.Time
}

// Membership gives a user a role in an organisation.
type Membership struct {
	OrgID     int64 `gorm:"primaryKey;autoIncrement:false"`
	UserID    int64 `gorm:"primaryKey;autoIncrement:false"`
	Role      Role
	CreatedAt time.Time
}

// Token is a stored API token; only the SHA-256 hash of its secret is kept.
type Token struct {
	ID         int64
	OrgID      *int64
	UserID     *int64
	Name       string
	Role       Role
	Hash       string
	CreatedAt  time.Time
	LastUsedAt *time.Time
	ExpiresAt  *time.Time
	RevokedAt  *time.Time
}

// Policy group entity types and modes.
const (
	GroupStacks      = "stacks"
	GroupAccounts    = "accounts"
	ModeAudit        = "audit"
	ModePreventative = "preventative"
)

// The default policy groups every organisation has, one of each entity type.
const (
	DefaultStacksGroup   = "default-policy-group"
	DefaultAccountsGroup = "default-accounts-policy-group"
)

// PolicyGroup is a set of entities of one kind with the packs applied to them.
type PolicyGroup struct {
	OrgID        int64
	ID           int64 `gorm:"primaryKey"`
	Name         string
	EntityType   string
	Mode         string
	IsOrgDefault bool
	CreatedAt    time.Time
}

// PolicyGroupPack is a pack applied to a group; a nil Version means the
// latest version.
type PolicyGroupPack struct {
	OrgID    int64  `gorm:"primaryKey;autoIncrement:false"`
	GroupID  int64  `gorm:"primaryKey;autoIncrement:false"`
	PackName string `gorm:"primaryKey"`
	Version  *int
	Config   *string
}

// PolicyGroupEntity puts an entity in a group.
type PolicyGroupEntity struct {
	OrgID    int64 `gorm:"primaryKey;autoIncrement:false"`
	GroupID  int64 `gorm:"primaryKey;autoIncrement:false"`
	EntityID int64 `gorm:"primaryKey;autoIncrement:false"`
}

// Entity types as stored.
const (
	EntityStack   = "stack"
	EntityAccount = "account"
)

// Entity is a stack (Project, Name) or an Insights account (Project holds the
// account name).
type Entity struct {
	OrgID     int64
	ID        int64 `gorm:"primaryKey"`
	Type      string
	Project   string
	Name      string
	Provider  string
	CreatedAt time.Time
}

// DisplayName is "project/stack" for a stack and the account name for an
// account.
func (e *Entity) DisplayName() string {
	if e.Type == EntityStack {
		return e.Project + "/" + e.Name
	}
	return e.Project
}

// PolicyPack is a named policy pack of an organisation.
type PolicyPack struct {
	OrgID       int64
	ID          int64 `gorm:"primaryKey"`
	Name        string
	DisplayName string
	CreatedAt   time.Time
}

// PolicyPackVersion is one published (or being published) version of a pack.
type PolicyPackVersion struct {
	OrgID       int64
	ID          int64  `gorm:"primaryKey"`
	UUID        string `gorm:"column:uuid"`
	PackID      int64
	Version     int
	VersionTag  string
	DisplayName string
	Description string
	Published   bool
	ArchiveSize int64
	CreatedAt   time.Time
	// UploadCredentialHash is the SHA-256 of the version's presigned upload
	// credential, which authorizes its archive upload until UploadExpiresAt;
	// nil when none was issued.
	UploadCredentialHash *string
	UploadExpiresAt      *time.Time
}

// PolicyPackArchive holds the uploaded archive of a pack version.
type PolicyPackArchive struct {
	OrgID     int64 `gorm:"primaryKey;autoIncrement:false"`
	VersionID int64 `gorm:"primaryKey;autoIncrement:false"`
	Data      []byte
}

// Policy is one policy of a pack version. ConfigSchema, Framework and Tags
// hold JSON.
type Policy struct {
	OrgID            int64  `gorm:"primaryKey;autoIncrement:false"`
	VersionID        int64  `gorm:"primaryKey;autoIncrement:false"`
	Name             string `gorm:"primaryKey"`
	DisplayName      string
	Description      string
	EnforcementLevel string
	Message          string
	Severity         string
	ConfigSchema     *string
	Framework        *string
	Tags             *string
	RemediationSteps string
	URL              string `gorm:"column:url"`
}

// Issue is a policy issue, denormalised for the grid.
type Issue struct {
	OrgID            int64
	ID               string `gorm:"primaryKey"`
	EntityRef        int64
	Scope            string
	EntityType       string // "stack" or "insights-account", as in the API
	EntityProject    string
	EntityID         string
	StackVersion     *int64
	ResourceVersion  *int64
	PolicyPack       string
	PolicyPackTag    string
	PolicyName       string
	ResourceURN      string `gorm:"column:resource_urn"`
	ResourceProvider string
	ResourceType     string
	ResourceName     string
	Message          string
	ObservedAt       time.Time
	LastModified     time.Time
	Level            string
	Severity         string
	SeverityRank     int
	Status           string
	StatusRank       int
	Active           bool
	Kind             string
	Priority         string
	AssigneeID       *int64
	AssigneeLogin    string
	AssigneeEmail    string
	PolicyGroupName  string
	PolicyGroupType  string
	Revision         int
	// AcceptedUntil is when the risk acceptance of an ignored or by_design
	// issue ends (nil: not accepted); AcceptanceReason says why.
	AcceptedUntil    *time.Time
	AcceptanceReason string
	// NameRef, MessageRef, URNPrefixRef and URNSuffixRef refer to
	// ResourceName, Message and the two parts of ResourceURN in the text
	// dictionary (IssueText).
	NameRef      int64
	MessageRef   int64
	URNPrefixRef int64 `gorm:"column:urn_prefix_ref"`
	URNSuffixRef int64 `gorm:"column:urn_suffix_ref"`
}

// TableName is the issues table.
func (Issue) TableName() string { return "policy_issues" }

// ETag is the entity tag of an issue revision.
func (is *Issue) ETag() string { return `"` + strconv.Itoa(is.Revision) + `"` }

// ParseETag reads an If-Match value written by Issue.ETag; ok is false for "*" or
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

// IssueText is a distinct resource name or message of an organisation's
// issues (the text dictionary that answers contains filters).
type IssueText struct {
	OrgID int64
	ID    int64  `gorm:"primaryKey"`
	Field string // "resource_name", "message", "urn_prefix" or "urn_suffix"
	Value string
}

// TableName is the text dictionary's table.
func (IssueText) TableName() string { return "issue_texts" }

// HistoryEntry is one change to an issue.
type HistoryEntry struct {
	OrgID     int64
	ID        int64 `gorm:"primaryKey"`
	IssueID   string
	At        time.Time
	Actor     string
	ActorType string
	Field     string
	OldValue  *string
	NewValue  *string
	// BatchID is the batch update that made the change, if one did.
	BatchID *string
	// Reason says why the server made a change (ActorType "system").
	Reason *string
}

// TableName is the history table.
func (HistoryEntry) TableName() string { return "issue_history" }

// EvaluationRecord is one evaluation received: an audit log row with the
// summary it answered.
type EvaluationRecord struct {
	OrgID      int64
	ID         int64 `gorm:"primaryKey"`
	EntityID   int64
	Scope      string
	Version    int64
	Kind       string
	Source     string // SourcePolicyResults or SourcePulumi
	Actor      string
	ActorType  string
	ObservedAt time.Time
	ReceivedAt time.Time
	Opened     int
	Reopened   int
	Fixed      int
	Unchanged  int
	Governed   int
}

// TableName is the evaluations table.
func (EvaluationRecord) TableName() string { return "evaluations" }

// Evaluation sources.
const (
	// SourcePolicyResults is policyresults' complete form, with a resource
	// inventory.
	SourcePolicyResults = "policyresults"
	// SourcePulumi is Pulumi's violations-only form.
	SourcePulumi = "pulumi"
)

// PackEvaluation is the latest evaluation of one pack on one entity (and
// scope). Error is set when the pack could not run.
type PackEvaluation struct {
	OrgID        int64  `gorm:"primaryKey;autoIncrement:false"`
	EntityID     int64  `gorm:"primaryKey;autoIncrement:false"`
	Scope        string `gorm:"primaryKey"`
	PackName     string `gorm:"primaryKey"`
	PackTag      string
	Version      int64
	EvaluationID int64
	GroupID      *int64
	Kind         string
	Error        *string
	EvaluatedAt  time.Time
}

// PolicyOutcome is the latest outcome of one enabled policy on one entity
// (and scope): how many resources it evaluated. A policy passes when it has
// no active issue on the entity.
type PolicyOutcome struct {
	OrgID            int64  `gorm:"primaryKey;autoIncrement:false"`
	EntityID         int64  `gorm:"primaryKey;autoIncrement:false"`
	Scope            string `gorm:"primaryKey"`
	PackName         string `gorm:"primaryKey"`
	PolicyName       string `gorm:"primaryKey"`
	Severity         string
	EnforcementLevel string
	Governed         int
	GroupID          *int64
}

// Resource is one resource of an entity, with whether its latest evaluation
// governed it (evaluated it with at least one policy).
type Resource struct {
	OrgID      int64  `gorm:"primaryKey;autoIncrement:false"`
	EntityID   int64  `gorm:"primaryKey;autoIncrement:false"`
	URN        string `gorm:"primaryKey;column:urn"`
	ResourceID string
	Type       string
	Provider   string
	Name       string
	Version    int64
	Governed   bool
	UpdatedAt  time.Time
}

// NewIssueID returns a new issue id, also used for batch updates: a
// version 7 UUID. Version 7 UUIDs are time-ordered, so new issues append to
// the primary key's B-tree instead of scattering across it.
func NewIssueID() string {
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.NewString()
	}
	return id.String()
}
