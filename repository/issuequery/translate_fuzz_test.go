package issuequery

import (
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/policyresults/policyresults/grid"
	"github.com/policyresults/policyresults/model"
	"github.com/policyresults/policyresults/repository/store"
	"github.com/policyresults/policyresults/repository/texts"
)

// sqlKeywords are the only words the translator may write besides the
// schema's own expressions.
var sqlKeywords = map[string]bool{
	"AND": true, "OR": true, "NOT": true, "IS": true, "NULL": true, "IN": true, "LIKE": true,
	"ESCAPE": true, "lower": true, "CAST": true, "AS": true, "double": true, "precision": true,
	"ASC": true, "DESC": true, "NULLS": true, "FIRST": true, "LAST": true,
}

var (
	sqlWord = regexp.MustCompile(`[A-Za-z_][A-Za-z_0-9.]*`)
	// Besides words: placeholders, operators, parentheses, the 1=1/1=0
	// constants, the empty string and the LIKE escape character.
	sqlRest = regexp.MustCompile(`^(\s|\?|,|\(|\)|=|<|>|1|0|''|'\\')*$`)
)

// checkSQL fails unless sql consists only of allowlisted expressions,
// keywords and placeholders, with one bound value per placeholder.
func checkSQL(t *testing.T, cols Columns, sql string, args []any) {
	t.Helper()
	var exprs []string
	for _, c := range cols {
		exprs = append(append(exprs, c.expr), c.matchAlso...)
		if c.rank != "" {
			exprs = append(exprs, c.rank)
		}
		if c.rankMatch != "" {
			exprs = append(exprs, c.rankMatch)
		}
	}
	// The text dictionary's fixed fragments (repository/texts): its subquery per
	// field, the array forms and the reference columns.
	for _, field := range []string{texts.ResourceName, texts.Message, texts.URNPrefix, texts.URNSuffix} {
		exprs = append(exprs, "SELECT t.id FROM issue_texts t WHERE t.org_id = ? AND t.field = '"+field+
			"' AND lower(t.value) LIKE lower(?) ESCAPE '\\'", texts.RefColumns[field])
	}
	exprs = append(exprs, "= ANY(CAST(? AS bigint[]))", "= ANY(ARRAY(")
	sort.Slice(exprs, func(i, j int) bool { return len(exprs[i]) > len(exprs[j]) })
	rest := strings.ReplaceAll(sql, `COLLATE "C"`, " ")
	for _, e := range exprs {
		// Placeholders inside a fragment stay (they are counted below).
		rest = strings.ReplaceAll(rest, e, " "+strings.Repeat("? ", strings.Count(e, "?"))+strings.Repeat("(", strings.Count(e, "(")-strings.Count(e, ")")))
	}
	for _, w := range sqlWord.FindAllString(rest, -1) {
		if !sqlKeywords[w] {
			t.Fatalf("translated SQL has %q outside the allowlist: %s", w, sql)
		}
	}
	if stripped := sqlWord.ReplaceAllString(rest, " "); !sqlRest.MatchString(stripped) {
		t.Fatalf("translated SQL has unexpected text %q: %s", stripped, sql)
	}
	if n := strings.Count(sql, "?"); n != len(args) {
		t.Fatalf("%d placeholders but %d bound values: %s", n, len(args), sql)
	}
}

// otherGridColumns are a grid of other kinds over another table (numbers,
// an unranked enum, a ranked one), as per-policy compliance builds its own
// (repository/compliance), for the translator's checks beyond the issue
// grid.
var otherGridColumns = Columns{
	"name":     TextColumn("t.name"),
	"severity": EnumColumn("t.severity", "t.severity_rank", "", "low", "medium", "high", "critical"),
	"failing":  NumberColumn("t.failing"),
	"percent":  NumberColumn("t.percent"),
	"mode":     EnumColumn("t.mode", "", model.ModeAudit, model.ModePreventative),
}

// FuzzTranslate feeds arbitrary grid requests through the parser and the SQL
// translator of the issue grid and of a grid of other kinds: the SQL holds only allowlisted
// column expressions, keywords and placeholders, and every value is bound.
func FuzzTranslate(f *testing.F) {
	for _, seed := range []string{
		`{"filterModel":{"filterType":"join","type":"OR","conditions":[{"filterType":"text","colId":"resourceName","type":"contains","filter":"x'; DROP TABLE policy_issues; --"},{"filterType":"set","colId":"severity","values":["critical",null]}]}}`,
		`{"filterModel":{"assignedTo":{"filterType":"text","type":"notBlank"},"stackVersion":{"filterType":"number","type":"inRange","filter":1,"filterTo":5}}}`,
		`{"filterModel":{"colId":"observedAt","filterType":"date","type":"greaterThan","dateFrom":"2024-01-01"},"sortModel":[{"colId":"policyName","sort":"asc"},{"colId":"severity","sort":"desc"}]}`,
		`{"filterModel":{"type":"AND","conditions":[{"colId":"percent","filterType":"number","type":"lessThan","filter":"50.5"},{"colId":"mode","filterType":"set","values":["audit"]}]},"sortModel":[{"colId":"failing","sort":"desc"}]}`,
		`{"filterModel":{"type":"OR","conditions":[{"filterType":"text","colId":"resourceURN","type":"contains","filter":"prod::pay"},{"filterType":"text","colId":"message","type":"notEqual","filter":"x"}]}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := grid.DecodeRequest(body)
		if err != nil {
			return
		}
		for _, g := range []struct {
			cols Columns
			tie  string
		}{{issueGridColumns, issueGridColumns["id"].expr}, {otherGridColumns, otherGridColumns["name"].expr}} {
			q, err := grid.Parse(req, g.cols.Schema(), grid.Options{})
			if err != nil {
				continue
			}
			for _, d := range []store.Dialect{store.Postgres, store.SQLite} {
				sql, args := WhereClause(q.Where(), g.cols, d)
				checkSQL(t, g.cols, sql, args)
				checkSQL(t, g.cols, OrderClause(q.Sort, g.cols, g.tie, d), nil)
				if g.tie != issueGridColumns["id"].expr {
					continue
				}
				// The issue grid's own form: text matches through the
				// dictionary, by subquery, and by sets read first (one
				// empty, one not).
				sql, args = issueFilter(1, q.Where(), d, nil)
				checkSQL(t, g.cols, sql, args)
				sets := texts.Sets{}
				for i, p := range textParts(q.Where()) {
					if i%2 == 0 {
						sets[p] = []int64{}
					} else {
						sets[p] = []int64{int64(i), int64(i) + 1}
					}
				}
				sql, args = issueFilter(1, q.Where(), d, &filterFacts{texts: sets})
				checkSQL(t, g.cols, sql, args)
			}
		}
	})
}
