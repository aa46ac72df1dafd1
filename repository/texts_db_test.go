package repository_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/policyresults/policyresults/model"
	"github.com/policyresults/policyresults/repository"
	"github.com/policyresults/policyresults/repository/issuequery"
	"github.com/policyresults/policyresults/repository/repotest"
)

// TestTextMatches checks contains, notContains, startsWith and endsWith on
// resource names, URNs and messages (answered by the text dictionary)
// against the same match on the issues' own texts, on both databases, with
// names made of the characters the URN rewrite and LIKE escaping care
// about, and that the references ingest wrote agree with a recount.
func TestTextMatches(t *testing.T) {
	repotest.ForEach(t, func(t *testing.T, b *repotest.Backend) {
		e := newIngestEnv(t, b)
		buckets := []string{"logs", "Logs-EU", "a:b", ":lead", "tail:", "50%_off", "x_y", "Ünïcode", "pay::ments"}
		failing := map[string][]string{}
		for i, name := range buckets {
			failing[name] = [][]string{{"s3-encryption"}, {"s3-versioning"}, {"s3-encryption", "s3-versioning"}}[i%3]
		}
		e.apply(stackEval(1, "1.0.0", buckets, failing))
		// A second stack shares names and messages but not URN prefixes.
		ev := stackEval(1, "1.0.0", buckets[:4], failing)
		ev.Stack.Name = "dev"
		for i := range ev.Violations {
			ev.Violations[i].ResourceURN = strings.Replace(ev.Violations[i].ResourceURN, ":prod::", ":dev::", 1)
		}
		for i := range ev.Resources {
			ev.Resources[i].URN = strings.Replace(ev.Resources[i].URN, ":prod::", ":dev::", 1)
		}
		e.apply(ev)
		if err := e.r.CheckRollups(e.ctx, e.org.ID); err != nil {
			t.Fatal(err)
		}
		var all []model.Issue
		if err := e.r.DB().Where("org_id = ?", e.org.ID).Find(&all).Error; err != nil {
			t.Fatal(err)
		}

		columns := map[string]func(model.Issue) string{
			"resourceName": func(is model.Issue) string { return is.ResourceName },
			"resourceURN":  func(is model.Issue) string { return is.ResourceURN },
			"message":      func(is model.Issue) string { return is.Message },
		}
		ops := map[string]func(s, needle string) bool{
			"contains":    strings.Contains,
			"notContains": func(s, n string) bool { return !strings.Contains(s, n) },
			"startsWith":  strings.HasPrefix,
			"endsWith":    strings.HasSuffix,
			"equals":      func(s, n string) bool { return s == n },
			"notEqual":    func(s, n string) bool { return s != n },
		}
		needles := []string{"logs", "LOGS", "a:b", ":", "::", ":lead", "tail:", "50%", "%_", "x_y", "Ünï", "prod::pay",
			"payments::aws", "::aws:s3", "bucket::a", "urn:pulumi:dev", "fails on", "s3-encryption fails on lo", "pay::ments", "ments::aws", "LOGS-eu", "urn:pulumi:prod::payments::aws:s3/bucket:Bucket::a:b",
			"URN:PULUMI:DEV::PAYMENTS::AWS:S3/BUCKET:BUCKET::LOGS", "s3-encryption fails on :lead"}
		defer func(n int, narrow, small int64) {
			*repository.MaxTextSet, *repository.NarrowLimit, *repository.SmallSegment = n, narrow, small
		}(*repository.MaxTextSet, *repository.NarrowLimit, *repository.SmallSegment)
		// The defaults; every match left to the dictionary subquery; every
		// page read by segments, small segments filtered first; every
		// segment read in order.
		settings := []struct {
			name          string
			maxSet        int
			narrow, small int64
		}{
			{"defaults", *repository.MaxTextSet, *repository.NarrowLimit, *repository.SmallSegment},
			{"subqueries", 0, *repository.NarrowLimit, *repository.SmallSegment},
			{"segments", *repository.MaxTextSet, 0, *repository.SmallSegment},
			{"ordered segments", *repository.MaxTextSet, 0, 0},
		}
		for _, set := range settings {
			*repository.MaxTextSet, *repository.NarrowLimit, *repository.SmallSegment = set.maxSet, set.narrow, set.small
			for col, value := range columns {
				for op, match := range ops {
					for _, needle := range needles {
						checkTextMatch(t, e, set.name, col, op, needle, all, func(is model.Issue) bool {
							return match(strings.ToLower(value(is)), strings.ToLower(needle))
						})
					}
				}
			}
		}
	})
}

// checkTextMatch runs one text condition through the grid and the export
// and compares the rows, in the default order (severity, then observedAt
// newest first, then id), with the issues match selects.
func checkTextMatch(t *testing.T, e *ingestEnv, setting, col, op, needle string, all []model.Issue, match func(model.Issue) bool) {
	t.Helper()
	var want []model.Issue
	for _, is := range all {
		if match(is) {
			want = append(want, is)
		}
	}
	sort.Slice(want, func(i, j int) bool {
		a, b := want[i], want[j]
		if a.SeverityRank != b.SeverityRank {
			return a.SeverityRank > b.SeverityRank
		}
		if !a.ObservedAt.Equal(b.ObservedAt) {
			return a.ObservedAt.After(b.ObservedAt)
		}
		return a.ID > b.ID
	})
	body := fmt.Sprintf(`{"startRow":0,"endRow":100,"filterModel":{%q:{"filterType":"text","type":%q,"filter":%q}}}`, col, op, needle)
	q := parseIssueQuery(t, body, issuequery.IssueGridOptions)
	page, err := e.r.Issues.ListIssues(e.ctx, e.org.ID, q)
	if err != nil {
		t.Fatalf("%s: %v", body, err)
	}
	if page.RowCount != int64(len(want)) || len(page.Issues) != len(want) {
		t.Errorf("%s: %s %s %q: %d rows of %d, want %d", setting, col, op, needle, len(page.Issues), page.RowCount, len(want))
		return
	}
	for i := range want {
		if page.Issues[i].ID != want[i].ID {
			t.Errorf("%s: %s %s %q: row %d is %s, want %s", setting, col, op, needle, i, page.Issues[i].ID, want[i].ID)
			return
		}
	}
	// The export reads the same filter through pgx itself on PostgreSQL.
	exported := 0
	if err := e.r.Issues.ExportIssues(e.ctx, e.org.ID, q, func(*model.Issue) error { exported++; return nil }); err != nil {
		t.Fatalf("export %s: %v", body, err)
	}
	if exported != len(want) {
		t.Errorf("%s: export %s %s %q: %d rows, want %d", setting, col, op, needle, exported, len(want))
	}
}
