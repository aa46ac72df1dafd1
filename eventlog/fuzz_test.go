package eventlog_test

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"testing"

	"github.com/policyresults/policyresults/eventlog"
)

// FuzzParse feeds arbitrary event logs to Parse: it never panics, it is
// deterministic, CRLF line ends read like LF, and a parsed run is
// consistent: packs sorted, unique and named, every violation's and named
// remediation's pack among them, resources unique. The seeds are the
// fixtures (testdata/*.jsonl) and each of their lines that the parser reads.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.jsonl"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		// Each line alone too: small seeds mutate faster.
		for _, line := range bytes.Split(b, []byte("\n")) {
			if bytes.Contains(line, []byte("policy")) || bytes.Contains(line, []byte("resourcePreEvent")) ||
				bytes.Contains(line, []byte("summaryEvent")) {
				f.Add(line)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		run, err := eventlog.Parse(bytes.NewReader(data))
		again, err2 := eventlog.Parse(bytes.NewReader(data))
		if (err == nil) != (err2 == nil) || !reflect.DeepEqual(run, again) {
			t.Fatalf("two parses differ: %v / %v", err, err2)
		}
		crlf, err3 := eventlog.Parse(bytes.NewReader(bytes.ReplaceAll(data, []byte("\n"), []byte("\r\n"))))
		if (err == nil) != (err3 == nil) || (err == nil && !reflect.DeepEqual(run, crlf)) {
			t.Fatalf("CRLF line ends read differently: %v / %v", err, err3)
		}
		if err != nil {
			if run != nil {
				t.Fatal("a run with an error")
			}
			return
		}
		packs := map[string]bool{}
		names := make([]string, 0, len(run.Packs))
		for _, p := range run.Packs {
			if p.Name == "" || packs[p.Name] {
				t.Fatalf("pack %q twice or unnamed", p.Name)
			}
			packs[p.Name] = true
			names = append(names, p.Name)
		}
		if !sort.StringsAreSorted(names) {
			t.Fatalf("packs not sorted: %v", names)
		}
		for _, v := range run.Violations {
			if !packs[v.PolicyPack] || v.PolicyName == "" {
				t.Fatalf("violation %+v of an unknown pack or without a policy", v)
			}
		}
		for _, r := range run.Remediations {
			if r.PolicyPack != "" && !packs[r.PolicyPack] {
				t.Fatalf("remediation %+v of an unknown pack", r)
			}
		}
		urns := map[string]bool{}
		for _, r := range run.Resources {
			if urns[r.URN] {
				t.Fatalf("resource %q twice", r.URN)
			}
			urns[r.URN] = true
			for _, o := range r.Packs {
				if !packs[o.Name] {
					t.Fatalf("outcome of unknown pack %q", o.Name)
				}
			}
		}
	})
}
