package ingest

import (
	"errors"
	"strings"
)

// URN is a parsed Pulumi resource URN:
// urn:pulumi:<stack>::<project>::<qualified type>::<name>, where the
// qualified type is the resource's type preceded by its parents' types, joined
// by '$' (e.g. "my:index:Component$aws:s3/bucket:Bucket").
type URN struct {
	Stack   string
	Project string
	// QualifiedType is the full type part, parents included.
	QualifiedType string
	// Type is the resource's own type, the last '$' segment.
	Type string
	// Name is the resource name; it may itself contain "::".
	Name string
	// Package is the type's package (the part before the first ':'), which
	// policyresults reports as the resource provider: "aws" for
	// "aws:s3/bucket:Bucket".
	Package string
}

const urnPrefix = "urn:pulumi:"

// ParseURN parses a Pulumi resource URN.
func ParseURN(s string) (URN, error) {
	if !strings.HasPrefix(s, urnPrefix) {
		return URN{}, errors.New("a URN starts with \"urn:pulumi:\"")
	}
	if strings.ContainsAny(s, "\x00\n\r\t") {
		return URN{}, errors.New("a URN has no control characters")
	}
	// Pulumi splits into at most four parts: the name is everything after the
	// third "::" and may contain "::" itself.
	parts := strings.SplitN(s[len(urnPrefix):], "::", 4)
	if len(parts) != 4 {
		return URN{}, errors.New("a URN has the form urn:pulumi:<stack>::<project>::<type>::<name>")
	}
	u := URN{Stack: parts[0], Project: parts[1], QualifiedType: parts[2], Name: parts[3]}
	switch {
	case u.Stack == "":
		return URN{}, errors.New("the URN's stack is empty")
	case u.Project == "":
		return URN{}, errors.New("the URN's project is empty")
	case u.QualifiedType == "":
		return URN{}, errors.New("the URN's type is empty")
	case u.Name == "":
		return URN{}, errors.New("the URN's name is empty")
	}
	types := strings.Split(u.QualifiedType, "$")
	for _, t := range types {
		if t == "" || strings.ContainsAny(t, " ") {
			return URN{}, errors.New("the URN's type has an empty or malformed segment")
		}
	}
	u.Type = types[len(types)-1]
	pkg, _, ok := strings.Cut(u.Type, ":")
	if !ok || pkg == "" {
		return URN{}, errors.New("the URN's type has no package (expected <package>:<module>:<name>)")
	}
	u.Package = pkg
	return u, nil
}

// StackURN is the URN of a stack's root resource, as Pulumi names it
// (urn:pulumi:<stack>::<project>::pulumi:pulumi:Stack::<project>-<stack>).
// Stack-level violations, which carry no resource URN, are recorded on it.
func StackURN(project, stack string) string {
	return urnPrefix + stack + "::" + project + "::pulumi:pulumi:Stack::" + project + "-" + stack
}

// AccountURN is the stand-in URN for account-level violations of an Insights
// account, which carry no resource URN
// (urn:pulumi:insights::<account>::pulumi:insights:Account::<account>).
func AccountURN(account string) string {
	return urnPrefix + "insights::" + account + "::pulumi:insights:Account::" + account
}
