package model

import (
	"encoding/json"

	"github.com/policyresults/policyresults/policy"
)

// Framework is the compliance framework a policy belongs to.
type Framework struct {
	Name          string `json:"name,omitempty"`
	Version       string `json:"version,omitempty"`
	Reference     string `json:"reference,omitempty"`
	Specification string `json:"specification,omitempty"`
}

// PolicyInput is a policy's metadata, as published in a pack or sent with an
// evaluation.
type PolicyInput struct {
	Name             string
	DisplayName      string
	Description      string
	EnforcementLevel string // advisory (default), mandatory, remediate, disabled
	Message          string
	Severity         string // "", low, medium, high, critical
	ConfigSchema     json.RawMessage
	Framework        *Framework
	Tags             []string
	RemediationSteps string
	URL              string
}

// Metadata decodes a stored policy into its PolicyInput.
func (p *Policy) Metadata() PolicyInput {
	in := PolicyInput{
		Name: p.Name, DisplayName: p.DisplayName, Description: p.Description,
		EnforcementLevel: p.EnforcementLevel, Message: p.Message, Severity: p.Severity,
		RemediationSteps: p.RemediationSteps, URL: p.URL,
	}
	if p.ConfigSchema != nil {
		in.ConfigSchema = json.RawMessage(*p.ConfigSchema)
	}
	if p.Framework != nil {
		var f Framework
		if json.Unmarshal([]byte(*p.Framework), &f) == nil {
			in.Framework = &f
		}
	}
	if p.Tags != nil {
		_ = json.Unmarshal([]byte(*p.Tags), &in.Tags)
	}
	return in
}

// Check checks a policy's metadata and fills its defaults; field is its path
// in the request. A refusal is a *policy.FieldError.
func (p *PolicyInput) Check(field string) error {
	if !policy.PackNamePattern.MatchString(p.Name) {
		return policy.Refuse(field+".name", "%q is not a valid policy name (letters, digits, '-', '_', '.'; at most 100)", p.Name)
	}
	if p.EnforcementLevel == "" {
		p.EnforcementLevel = policy.LevelAdvisory
	}
	if !policy.ValidLevel(p.EnforcementLevel) {
		return policy.Refuse(field+".enforcementLevel", "%q is not one of advisory, mandatory, remediate, disabled", p.EnforcementLevel)
	}
	if !policy.ValidSeverity(p.Severity) {
		return policy.Refuse(field+".severity", "%q is not one of \"\", low, medium, high, critical", p.Severity)
	}
	if len(p.ConfigSchema) > 0 && !json.Valid(p.ConfigSchema) {
		return policy.Refuse(field+".configSchema", "not valid JSON")
	}
	return nil
}
