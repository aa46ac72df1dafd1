package ingest

import "testing"

func TestParseURN(t *testing.T) {
	tests := []struct {
		urn                       string
		typ, pkg, name, qualified string
		bad                       bool
	}{
		{urn: "urn:pulumi:prod::payments::aws:s3/bucket:Bucket::receipts", typ: "aws:s3/bucket:Bucket", pkg: "aws", name: "receipts", qualified: "aws:s3/bucket:Bucket"},
		{urn: "urn:pulumi:prod::payments::payments:index:Api$kubernetes:apps/v1:Deployment::api", typ: "kubernetes:apps/v1:Deployment",
			pkg: "kubernetes", name: "api", qualified: "payments:index:Api$kubernetes:apps/v1:Deployment"},
		{urn: "urn:pulumi:dev::p::a:b:C$d:e:F$azure-native:storage:StorageAccount::sa::with::colons", typ: "azure-native:storage:StorageAccount",
			pkg: "azure-native", name: "sa::with::colons", qualified: "a:b:C$d:e:F$azure-native:storage:StorageAccount"},
		{urn: "urn:pulumi:prod::payments::pulumi:pulumi:Stack::payments-prod", typ: "pulumi:pulumi:Stack", pkg: "pulumi", name: "payments-prod", qualified: "pulumi:pulumi:Stack"},
		{urn: "", bad: true},
		{urn: "urn:pulumi:prod::payments::aws:s3/bucket:Bucket", bad: true},
		{urn: "urn:aws:prod::payments::aws:s3/bucket:Bucket::x", bad: true},
		{urn: "urn:pulumi:::payments::aws:s3/bucket:Bucket::x", bad: true},
		{urn: "urn:pulumi:prod::::aws:s3/bucket:Bucket::x", bad: true},
		{urn: "urn:pulumi:prod::payments::::x", bad: true},
		{urn: "urn:pulumi:prod::payments::aws:s3/bucket:Bucket::", bad: true},
		{urn: "urn:pulumi:prod::payments::a:b:C$::x", bad: true},
		{urn: "urn:pulumi:prod::payments::Bucket::x", bad: true},
		{urn: "urn:pulumi:prod::payments::aws:s3/bucket:Bucket::x\ny", bad: true},
	}
	for _, tt := range tests {
		u, err := ParseURN(tt.urn)
		if tt.bad {
			if err == nil {
				t.Errorf("ParseURN(%q) = %+v, want an error", tt.urn, u)
			}
			continue
		}
		if err != nil || u.Type != tt.typ || u.Package != tt.pkg || u.Name != tt.name || u.QualifiedType != tt.qualified {
			t.Errorf("ParseURN(%q) = %+v, %v", tt.urn, u, err)
		}
	}
	for _, urn := range []string{StackURN("payments", "prod"), AccountURN("aws-prod")} {
		if _, err := ParseURN(urn); err != nil {
			t.Errorf("stand-in URN %s: %v", urn, err)
		}
	}
}
