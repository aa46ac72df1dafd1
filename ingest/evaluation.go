// Package ingest turns an evaluation into the changes it makes to a stack's
// or account's issues: validated input, the plan, and the diff against the
// open issues. It reads and writes nothing: the repository loads what the
// plan needs (policy groups, registered pack versions, the issues it
// compares with) and writes the rows the plan and the diff produce.
package ingest

import (
	"time"

	"github.com/policyresults/policyresults/model"
)

// StackRef is a stack at an update version.
type StackRef struct {
	Project string
	Name    string
	Version int64
}

// AccountRef is an Insights account at a scan (resource) version.
type AccountRef struct {
	Name     string
	Provider string
	Version  int64
}

// Evaluation is one run of one or more policy packs on one entity, in either
// ingest form. Field paths in validation errors use the complete form's JSON
// names (policyPacks[i].name, resources[i].urn, violations[i].resourceURN).
type Evaluation struct {
	// Stack or Account: exactly one is set.
	Stack   *StackRef
	Account *AccountRef
	// Scope is the account resource evaluated, for Pulumi's per-resource
	// account form; "" otherwise. Issues, outcomes and staleness are kept per
	// (entity, scope, pack).
	Scope string
	// Kind is audit or preventative; "" means the mode of the policy group
	// each pack is attributed to.
	Kind string
	// PolicyGroup optionally names the group the evaluation ran under; it
	// must exist and hold entities of this kind.
	PolicyGroup string
	// ObservedAt is when the evaluation ran; zero means now.
	ObservedAt time.Time
	// Complete is true for policyresults' own form, whose Resources are the
	// entity's whole inventory; false for Pulumi's violations-only form.
	Complete bool
	// Error, in Pulumi's form, is set when the evaluation failed without
	// reporting violations (succeeded: false): every pack records it.
	Error string
	// Packs are the packs evaluated. In Pulumi's form the packs applied to
	// the entity's policy groups are evaluated too.
	Packs      []EvaluatedPack
	Resources  []EvaluatedResource
	Violations []Violation
}

// EvaluatedPack is a pack of an evaluation. Error is set when it could not
// run: it then records the error and neither opens nor fixes issues.
type EvaluatedPack struct {
	Name       string
	VersionTag string
	// Policies optionally carries the pack's policy metadata (severity,
	// enforcement level, message).
	Policies []model.PolicyInput
	Error    string
}

// EvaluatedResource is a resource an evaluation looked at. Type, Provider
// and Name derive from the URN when empty; an empty URN names the entity
// itself (see StackURN and AccountURN).
type EvaluatedResource struct {
	URN      string
	ID       string // an account resource's id within the account
	Type     string
	Provider string
	Name     string
	Version  *int64 // an account resource's version
	Packs    []ResourcePackOutcome
}

// ResourcePackOutcome lists the policies of one pack that passed and failed
// on a resource.
type ResourcePackOutcome struct {
	Name   string
	Passed []string
	Failed []string
}

// Violation is one policy violation. An empty ResourceURN is a stack-level
// (or account-level) violation, recorded on StackURN (or AccountURN).
type Violation struct {
	PolicyPack       string
	PolicyName       string
	ResourceURN      string
	Message          string
	EnforcementLevel string  // "" means the policy's level, else advisory
	Severity         *string // nil or "" means the policy's severity
}
