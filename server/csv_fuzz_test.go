package server

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"github.com/policyresults/policyresults/model"
)

// FuzzExportRecord writes issues with arbitrary text through exportRecord
// and encoding/csv, as ExportPolicyIssues does, and reads the CSV back: it
// parses, has one record of every column, every cell equals its field but
// for the quote neutraliseFormula puts before a formula, and no cell starts
// with a character a spreadsheet would run (=, +, -, @, tab, CR).
func FuzzExportRecord(f *testing.F) {
	f.Add("Bucket is public", "site", "alice@example.com", "no-public-read", "urn:pulumi:prod::shop::aws:s3/bucket:Bucket::site")
	f.Add("=HYPERLINK(\"http://evil\",\"x\")", "+1", "@SUM(A1)", "-2", "\tcmd")
	f.Add("line1\nline2\r\n\"quoted\", comma", "\r", "a\"b", "", "\x00\xff")
	f.Add("", "", "", "", "")
	f.Fuzz(func(t *testing.T, message, resourceName, email, policy, urn string) {
		v := int64(3)
		is := &model.Issue{
			ID: "0b8f9a70-9c4e-4a55-8a39-1c1d5b1b0c34", EntityType: "stack", EntityProject: policy, EntityID: resourceName,
			StackVersion: &v, PolicyPack: message, PolicyPackTag: email, PolicyName: policy, ResourceURN: urn,
			ResourceProvider: email, ResourceType: urn, ResourceName: resourceName, Message: message,
			ObservedAt: time.Unix(1700000000, 0), LastModified: time.Unix(1700000001, 0),
			Level: "mandatory", Severity: "high", Status: "open", Kind: "audit", Priority: "p1",
			AssigneeEmail: email, PolicyGroupName: resourceName, PolicyGroupType: "audit",
		}
		// The fields in export order, as exportRecord reads them.
		fields := exportRecord(is, nil)
		raw := append([]string(nil), is.ID, is.EntityType, is.EntityProject, is.EntityID, "3", "",
			is.PolicyPack, is.PolicyPackTag, is.PolicyName, is.ResourceURN, is.ResourceProvider, is.ResourceType,
			is.ResourceName, is.Message, is.ObservedAt.UTC().Format(time.RFC3339Nano), is.LastModified.UTC().Format(time.RFC3339Nano),
			is.Level, is.Severity, is.Status, is.Kind, is.Priority, is.AssigneeEmail, is.PolicyGroupName, is.PolicyGroupType, "", "")
		if len(fields) != len(exportColumns) || len(raw) != len(exportColumns) {
			t.Fatalf("%d fields, %d raw, %d columns", len(fields), len(raw), len(exportColumns))
		}

		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		if err := w.Write(exportColumns); err != nil {
			t.Fatal(err)
		}
		if err := w.Write(fields); err != nil {
			t.Fatal(err)
		}
		w.Flush()
		if err := w.Error(); err != nil {
			t.Fatal(err)
		}
		records, err := csv.NewReader(&buf).ReadAll()
		if err != nil {
			t.Fatalf("the export does not parse as CSV: %v\n%q", err, buf.String())
		}
		if len(records) != 2 || len(records[1]) != len(exportColumns) {
			t.Fatalf("%d records, %v", len(records), records)
		}
		for i, cell := range records[1] {
			want := raw[i]
			if want != "" && strings.ContainsRune("=+-@\t\r", rune(want[0])) {
				want = "'" + want
			}
			// encoding/csv reads a quoted CRLF as LF.
			want = strings.ReplaceAll(want, "\r\n", "\n")
			if cell != want {
				t.Fatalf("column %s: %q, want %q", exportColumns[i], cell, want)
			}
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Fatalf("column %s starts with a formula character: %q", exportColumns[i], cell)
			}
		}
	})
}
