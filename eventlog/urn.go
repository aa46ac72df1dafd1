package eventlog

import "strings"

// providerPackage derives the package from a provider reference
// (urn:pulumi:<stack>::<project>::pulumi:providers:<package>::<name>::<id>):
// "aws" for the default AWS provider.
func providerPackage(ref string) string {
	if ref == "" {
		return ""
	}
	parts := strings.Split(ref, "::")
	if len(parts) < 3 {
		return ""
	}
	typ := parts[2]
	if i := strings.LastIndex(typ, "$"); i >= 0 {
		typ = typ[i+1:]
	}
	if pkg, ok := strings.CutPrefix(typ, "pulumi:providers:"); ok {
		return pkg
	}
	return ""
}

// urnType is the resource type a URN names (the last '$' segment of its type
// part) and that type's package.
func urnType(urn string) (typ, pkg string) {
	parts := strings.SplitN(urn, "::", 4)
	if len(parts) != 4 {
		return "", ""
	}
	typ = parts[2]
	if i := strings.LastIndex(typ, "$"); i >= 0 {
		typ = typ[i+1:]
	}
	pkg, _, _ = strings.Cut(typ, ":")
	return typ, pkg
}
