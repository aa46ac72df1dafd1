package grid_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/policyresults/policyresults/grid"
)

// testSchema has a column of every kind and shape.
var testSchema = grid.Schema{
	"id":           {Kind: grid.KindText, Set: true},
	"policyName":   {Kind: grid.KindText, Set: true},
	"message":      {Kind: grid.KindText},
	"status":       {Kind: grid.KindEnum, Values: []string{"open", "in_progress", "by_design", "ignored", "fixed"}, Set: true},
	"severity":     {Kind: grid.KindEnum, Values: []string{"", "low", "medium", "high", "critical"}, Set: true},
	"priority":     {Kind: grid.KindEnum, Values: []string{"p0", "p1", "p2", "p3", "p4"}, Set: true},
	"stackVersion": {Kind: grid.KindNumber, Set: true, Nullable: true},
	"observedAt":   {Kind: grid.KindDate, Set: true},
	"active":       {Kind: grid.KindBool},
	"assignedTo":   {Kind: grid.KindText, Set: true},
}

var testOptions = grid.Options{DefaultSort: []grid.SortItem{{ColID: "severity", Sort: "desc"}, {ColID: "observedAt", Sort: "desc"}}}

// render writes a filter tree compactly for comparisons.
func render(n grid.Node) string {
	switch n := n.(type) {
	case nil:
		return ""
	case *grid.And:
		return "and(" + renderAll(n.Children) + ")"
	case *grid.Or:
		return "or(" + renderAll(n.Children) + ")"
	case *grid.Not:
		return "not(" + render(n.Child) + ")"
	case *grid.Condition:
		vals := make([]string, len(n.Values))
		for i, v := range n.Values {
			switch v := v.(type) {
			case string:
				vals[i] = fmt.Sprintf("%q", v)
			case time.Time:
				vals[i] = v.Format(time.RFC3339Nano)
			case float64:
				vals[i] = fmt.Sprintf("%gf", v)
			default:
				vals[i] = fmt.Sprint(v)
			}
		}
		s := n.ColID + " " + string(n.Op)
		if len(vals) > 0 {
			s += " " + strings.Join(vals, ",")
		}
		return s
	}
	return fmt.Sprintf("%T", n)
}

func renderAll(nodes []grid.Node) string {
	s := make([]string, len(nodes))
	for i, n := range nodes {
		s[i] = render(n)
	}
	return strings.Join(s, "; ")
}

func TestParseFilter(t *testing.T) {
	tests := []struct {
		name, model, want string
	}{
		{"absent", ``, ``},
		{"null", `null`, ``},
		{"empty object", `{}`, ``},
		{"advanced join", `{"filterType":"join","type":"AND","conditions":[
			{"filterType":"set","colId":"severity","type":"isAnyOf","values":["critical","HIGH"]},
			{"filterType":"text","colId":"status","type":"equals","filter":"open"}]}`,
			`and(severity in "critical","high"; status in "open")`},
		{"nested joins", `{"filterType":"join","type":"OR","conditions":[
			{"filterType":"join","type":"AND","conditions":[
				{"filterType":"text","colId":"policyName","type":"contains","filter":"s3"},
				{"filterType":"join","type":"OR","conditions":[
					{"filterType":"number","colId":"stackVersion","type":"greaterThan","filter":3},
					{"filterType":"text","colId":"message","type":"blank"}]}]},
			{"filterType":"text","colId":"priority","type":"equals","filter":"p0"}]}`,
			`or(and(policyName contains "s3"; or(stackVersion greaterThan 3; message blank)); priority in "p0")`},
		{"pulumi join", `{"type":"OR","conditions":[{"colId":"status","type":"equals","filter":"open"},{"colId":"status","type":"equals","filter":"in_progress"}]}`,
			`or(status in "open"; status in "in_progress")`},
		{"pulumi join lower case", `{"type":"and","conditions":[{"colId":"policyName","type":"startsWith","filter":"aws"}]}`,
			`policyName startsWith "aws"`},
		{"unwrapped condition", `{"filterType":"text","colId":"status","type":"equals","filter":"open"}`, `status in "open"`},
		{"column filter model", `{"status":{"filterType":"set","values":["open","in_progress"]},
			"policyName":{"filterType":"text","operator":"OR","conditions":[
				{"filterType":"text","type":"contains","filter":"s3"},{"filterType":"text","type":"endsWith","filter":"-tags"}]}}`,
			`and(or(policyName contains "s3"; policyName endsWith "-tags"); status in "open","in_progress")`},
		{"column filter model null entry", `{"status":null,"policyName":{"filterType":"text","type":"equals","filter":"x"}}`, `policyName equals "x"`},
		{"column filter legacy conditions", `{"stackVersion":{"filterType":"number","operator":"AND","condition1":{"filterType":"number","type":"greaterThanOrEqual","filter":2},"condition2":{"filterType":"number","type":"lessThan","filter":"10"}}}`,
			`and(stackVersion greaterThanOrEqual 2; stackVersion lessThan 10)`},
		{"column filter inherits filterType", `{"policyName":{"filterType":"text","operator":"AND","conditions":[{"type":"notContains","filter":"a"},{"type":"notBlank"}]}}`,
			`and(policyName notContains "a"; policyName notBlank)`},
		{"multi filter", `{"policyName":{"filterType":"multi","filterModels":[{"filterType":"text","type":"contains","filter":"x"},null,{"filterType":"set","values":["a"]}]}}`,
			`and(policyName contains "x"; policyName in "a")`},
		{"empty join", `{"filterType":"join","type":"AND","conditions":[]}`, ``},
		{"or with an empty branch matches everything", `{"type":"OR","conditions":[{"type":"AND","conditions":[]},{"colId":"status","type":"equals","filter":"open"}]}`, ``},
		{"and with an empty branch", `{"type":"AND","conditions":[{"type":"AND","conditions":[]},{"colId":"status","type":"equals","filter":"open"}]}`, `status in "open"`},

		{"text equals", `{"colId":"policyName","filterType":"text","type":"equals","filter":"S3-Tags"}`, `policyName equals "S3-Tags"`},
		{"text notEqual", `{"colId":"policyName","type":"notEqual","filter":"a"}`, `policyName notEqual "a"`},
		{"text contains", `{"colId":"policyName","type":"contains","filter":"50%_x"}`, `policyName contains "50%_x"`},
		{"text notContains", `{"colId":"policyName","type":"notContains","filter":"a"}`, `policyName notContains "a"`},
		{"text startsWith", `{"colId":"policyName","type":"startsWith","filter":"a"}`, `policyName startsWith "a"`},
		{"text endsWith", `{"colId":"policyName","type":"endsWith","filter":"a"}`, `policyName endsWith "a"`},
		{"text blank", `{"colId":"policyName","type":"blank"}`, `policyName blank`},
		{"text notBlank", `{"colId":"policyName","type":"notBlank"}`, `policyName notBlank`},
		{"text number value", `{"colId":"policyName","type":"equals","filter":42}`, `policyName equals "42"`},
		{"op names case-insensitive", `{"colId":"policyName","type":"STARTSWITH","filter":"a"}`, `policyName startsWith "a"`},
		{"multi-expression column", `{"colId":"assignedTo","type":"equals","filter":"alice@example.com"}`, `assignedTo equals "alice@example.com"`},

		{"enum equals canonical", `{"colId":"status","type":"equals","filter":"IN_PROGRESS"}`, `status in "in_progress"`},
		{"enum notEqual", `{"colId":"severity","type":"notEqual","filter":"low"}`, `severity notIn "low"`},
		{"enum equals empty value", `{"colId":"severity","type":"equals","filter":""}`, `severity in ""`},
		{"enum contains", `{"colId":"status","type":"contains","filter":"I"}`, `status in "in_progress","by_design","ignored","fixed"`},
		{"enum notContains", `{"colId":"status","type":"notContains","filter":"_"}`, `status notIn "in_progress","by_design"`},
		{"enum startsWith", `{"colId":"priority","type":"startsWith","filter":"p"}`, `priority in "p0","p1","p2","p3","p4"`},
		{"enum endsWith nothing", `{"colId":"priority","type":"endsWith","filter":"x"}`, `priority in`},
		{"enum blank", `{"colId":"severity","type":"blank"}`, `severity blank`},

		{"number equals", `{"colId":"stackVersion","filterType":"number","type":"equals","filter":7}`, `stackVersion equals 7`},
		{"number string", `{"colId":"stackVersion","filterType":"number","type":"notEqual","filter":" 7 "}`, `stackVersion notEqual 7`},
		{"number decimal", `{"colId":"stackVersion","type":"lessThan","filter":2.5}`, `stackVersion lessThan 2.5f`},
		{"number lessThanOrEqual", `{"colId":"stackVersion","type":"lessThanOrEqual","filter":2}`, `stackVersion lessThanOrEqual 2`},
		{"number greaterThan", `{"colId":"stackVersion","type":"greaterThan","filter":2}`, `stackVersion greaterThan 2`},
		{"number greaterThanOrEqual", `{"colId":"stackVersion","type":"greaterThanOrEqual","filter":2}`, `stackVersion greaterThanOrEqual 2`},
		{"number inRange", `{"colId":"stackVersion","type":"inRange","filter":2,"filterTo":"5"}`, `stackVersion inRange 2,5`},
		{"number blank", `{"colId":"stackVersion","type":"blank"}`, `stackVersion blank`},
		{"number notBlank", `{"colId":"stackVersion","type":"notBlank"}`, `stackVersion notBlank`},

		{"date equals a day", `{"colId":"observedAt","filterType":"date","type":"equals","dateFrom":"2024-03-05"}`,
			`and(observedAt greaterThanOrEqual 2024-03-05T00:00:00Z; observedAt lessThan 2024-03-06T00:00:00Z)`},
		{"date equals AG Grid midnight", `{"colId":"observedAt","filterType":"date","type":"equals","dateFrom":"2024-03-05 00:00:00","dateTo":null}`,
			`and(observedAt greaterThanOrEqual 2024-03-05T00:00:00Z; observedAt lessThan 2024-03-06T00:00:00Z)`},
		{"date notEqual a day", `{"colId":"observedAt","type":"notEqual","filter":"2024-03-05"}`,
			`or(observedAt lessThan 2024-03-05T00:00:00Z; observedAt greaterThanOrEqual 2024-03-06T00:00:00Z)`},
		{"date lessThan a day", `{"colId":"observedAt","type":"lessThan","dateFrom":"2024-03-05"}`, `observedAt lessThan 2024-03-05T00:00:00Z`},
		{"date lessThanOrEqual a day", `{"colId":"observedAt","type":"lessThanOrEqual","dateFrom":"2024-03-05"}`, `observedAt lessThan 2024-03-06T00:00:00Z`},
		{"date greaterThan a day", `{"colId":"observedAt","type":"greaterThan","dateFrom":"2024-03-05"}`, `observedAt greaterThanOrEqual 2024-03-06T00:00:00Z`},
		{"date greaterThanOrEqual a day", `{"colId":"observedAt","type":"greaterThanOrEqual","dateFrom":"2024-03-05"}`, `observedAt greaterThanOrEqual 2024-03-05T00:00:00Z`},
		{"date instant", `{"colId":"observedAt","type":"greaterThan","dateFrom":"2024-03-05T10:30:00+02:00"}`, `observedAt greaterThan 2024-03-05T08:30:00Z`},
		{"date with time", `{"colId":"observedAt","type":"equals","dateFrom":"2024-03-05 10:30:00"}`, `observedAt equals 2024-03-05T10:30:00Z`},
		{"date inRange days", `{"colId":"observedAt","type":"inRange","dateFrom":"2024-03-01","dateTo":"2024-03-31 00:00:00"}`,
			`and(observedAt greaterThanOrEqual 2024-03-01T00:00:00Z; observedAt lessThan 2024-04-01T00:00:00Z)`},
		{"date inRange instants", `{"colId":"observedAt","type":"inRange","filter":"2024-03-01T00:00:00Z","filterTo":"2024-03-02T12:00:00Z"}`,
			`and(observedAt greaterThanOrEqual 2024-03-01T00:00:00Z; observedAt lessThanOrEqual 2024-03-02T12:00:00Z)`},
		{"date blank", `{"colId":"observedAt","type":"blank"}`, `observedAt blank`},

		{"set with blank", `{"colId":"severity","filterType":"set","values":["high",null]}`, `or(severity in "high"; severity blank)`},
		{"set only blank", `{"colId":"policyName","filterType":"set","values":[null]}`, `policyName blank`},
		{"set empty matches nothing", `{"colId":"policyName","filterType":"set","values":[]}`, `policyName in`},
		{"set isNoneOf", `{"colId":"status","filterType":"set","type":"isNoneOf","values":["fixed"]}`, `status notIn "fixed"`},
		{"set isNoneOf with blank", `{"colId":"stackVersion","type":"isNoneOf","values":[1,null]}`, `and(stackVersion notIn 1; stackVersion notBlank)`},
		{"advanced isAnyOf in filter", `{"colId":"priority","filterType":"text","type":"isAnyOf","filter":["P0","p1"]}`, `priority in "p0","p1"`},
		{"set numbers", `{"colId":"stackVersion","filterType":"set","values":["3",4]}`, `stackVersion in 3,4`},
		{"set dates", `{"colId":"observedAt","filterType":"set","values":["2024-03-05T10:00:00Z"]}`, `observedAt in 2024-03-05T10:00:00Z`},
		{"set values without type", `{"colId":"id","values":["a","b"]}`, `id in "a","b"`},

		{"boolean true", `{"colId":"active","filterType":"boolean","type":"true"}`, `active equals true`},
		{"boolean false", `{"colId":"active","filterType":"boolean","type":"false"}`, `active equals false`},
		{"boolean equals", `{"colId":"active","type":"equals","filter":"true"}`, `active equals true`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := grid.ParseFilter(json.RawMessage(tt.model), testSchema)
			if err != nil {
				t.Fatalf("ParseFilter: %v", err)
			}
			if got := render(n); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func nested(depth int) string {
	s := `{"colId":"status","type":"equals","filter":"open"}`
	for i := 1; i < depth; i++ {
		s = `{"filterType":"join","type":"AND","conditions":[` + s + `]}`
	}
	return s
}

func many(n int) string {
	c := make([]string, n)
	for i := range c {
		c[i] = `{"colId":"policyName","type":"contains","filter":"x"}`
	}
	return `{"type":"OR","conditions":[` + strings.Join(c, ",") + `]}`
}

func TestParseFilterErrors(t *testing.T) {
	tests := []struct {
		name, model, field string
		want               []string // substrings of the message
	}{
		{"not an object", `[1]`, "filterModel", []string{"filterModel must be an object"}},
		{"string", `"status"`, "filterModel", []string{"must be an object"}},
		{"unknown column", `{"filterType":"join","type":"AND","conditions":[{"colId":"status","type":"blank"},{"colId":"foo","type":"equals","filter":"x"}]}`,
			"filterModel.conditions[1].colId", []string{`unknown column "foo" in filterModel.conditions[1].colId`, "allowed: active, assignedTo, id, message"}},
		{"unknown column in column model", `{"foo":{"filterType":"text","type":"equals","filter":"x"}}`, "filterModel.foo", []string{`unknown column "foo"`, "allowed:"}},
		{"column model value not object", `{"status":"open"}`, "filterModel.status", []string{"must be an object"}},
		{"missing colId", `{"filterType":"text","type":"equals","filter":"x"}`, "filterModel.colId", []string{"has no colId"}},
		{"unknown type", `{"colId":"policyName","type":"like","filter":"x"}`, "filterModel.type",
			[]string{`unknown filter type "like" for column policyName (text)`, "allowed: equals, notEqual, contains"}},
		{"number op on text", `{"colId":"policyName","type":"lessThan","filter":"x"}`, "filterModel.type", []string{`unknown filter type "lessThan"`}},
		{"text op on number", `{"colId":"stackVersion","type":"contains","filter":"1"}`, "filterModel.type", []string{"stackVersion (number)", "inRange"}},
		{"missing type", `{"colId":"policyName","filter":"x"}`, "filterModel.type", []string{"has no type"}},
		{"unknown filterType", `{"colId":"policyName","filterType":"fuzzy","type":"equals","filter":"x"}`, "filterModel.filterType", []string{`unknown filterType "fuzzy"`, "allowed: join"}},
		{"bad join type", `{"filterType":"join","type":"XOR","conditions":[]}`, "filterModel.type", []string{`invalid join type "XOR"`, "allowed: AND, OR"}},
		{"bad operator", `{"policyName":{"operator":"NAND","conditions":[]}}`, "filterModel.policyName.operator", []string{`invalid operator "NAND"`}},
		{"conditions not array", `{"filterType":"join","type":"AND","conditions":{}}`, "filterModel.conditions", []string{"must be an array"}},
		{"number not a number", `{"colId":"stackVersion","type":"equals","filter":"abc"}`, "filterModel.filter", []string{`"abc" is not a number`}},
		{"number bool", `{"colId":"stackVersion","type":"equals","filter":true}`, "filterModel.filter", []string{"true is not a number"}},
		{"number missing value", `{"colId":"stackVersion","type":"equals"}`, "filterModel.filter", []string{"needs a value"}},
		{"inRange missing filterTo", `{"colId":"stackVersion","type":"inRange","filter":1}`, "filterModel.filterTo", []string{"needs a value"}},
		{"inRange reversed", `{"colId":"stackVersion","type":"inRange","filter":5,"filterTo":1}`, "filterModel.filterTo", []string{"greater than filterTo"}},
		{"bad date", `{"colId":"observedAt","type":"equals","dateFrom":"2024-13-45"}`, "filterModel.dateFrom", []string{`"2024-13-45" is not a date`}},
		{"date not string", `{"colId":"observedAt","type":"equals","dateFrom":20240101}`, "filterModel.dateFrom", []string{"not a date string"}},
		{"date range reversed", `{"colId":"observedAt","type":"inRange","dateFrom":"2024-02-01","dateTo":"2024-01-01"}`, "filterModel.dateTo", []string{"is after"}},
		{"text object value", `{"colId":"policyName","type":"equals","filter":{"a":1}}`, "filterModel.filter", []string{"is not a string"}},
		{"enum bad value", `{"colId":"status","type":"equals","filter":"closed"}`, "filterModel.filter", []string{`"closed"`, `allowed: "open", "in_progress"`}},
		{"enum bad set value", `{"colId":"severity","filterType":"set","values":["high","urgent"]}`, "filterModel.values[1]", []string{`"urgent"`, "not a value of severity"}},
		{"set on non-set column", `{"colId":"message","filterType":"set","values":["a"]}`, "filterModel.filterType", []string{"does not accept set filters"}},
		{"set values not array", `{"colId":"policyName","filterType":"set","values":"a"}`, "filterModel.values", []string{"must be an array"}},
		{"set bad number", `{"colId":"stackVersion","filterType":"set","values":["x"]}`, "filterModel.values[0]", []string{"not a number"}},
		{"boolean bad value", `{"colId":"active","type":"equals","filter":"maybe"}`, "filterModel.filter", []string{"not a boolean"}},
		{"colId mismatch", `{"status":{"colId":"severity","type":"blank"}}`, "filterModel.status.colId", []string{"inside the filter of column status"}},
		{"filterType not a string", `{"colId":"status","filterType":1,"type":"blank"}`, "filterModel.filterType", []string{"must be a string"}},
		{"too deep", nested(grid.MaxDepth + 1), "", []string{"deeper than 8 levels"}},
		{"too many conditions", many(grid.MaxConditions + 1), "filterModel.conditions[100]", []string{"more than 100 conditions"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := grid.ParseFilter(json.RawMessage(tt.model), testSchema)
			var ge *grid.Error
			if !errors.As(err, &ge) {
				t.Fatalf("got %s, %v; want a *grid.Error", render(n), err)
			}
			if tt.field != "" && ge.Field != tt.field {
				t.Errorf("Field = %q, want %q (%s)", ge.Field, tt.field, ge.Message)
			}
			for _, w := range tt.want {
				if !strings.Contains(ge.Error(), w) {
					t.Errorf("message %q lacks %q", ge.Error(), w)
				}
			}
		})
	}
	// The limits themselves are accepted.
	for _, model := range []string{nested(grid.MaxDepth), many(grid.MaxConditions)} {
		if _, err := grid.ParseFilter(json.RawMessage(model), testSchema); err != nil {
			t.Errorf("at the limit: %v", err)
		}
	}
}

func ptr(i int) *int { return &i }

func TestParsePaging(t *testing.T) {
	tests := []struct {
		name           string
		start, end     *int
		opts           grid.Options
		offset, limit  int
		wantErr, field string
	}{
		{name: "defaults", offset: 0, limit: 100},
		{name: "start only", start: ptr(200), offset: 200, limit: 100},
		{name: "both", start: ptr(10), end: ptr(30), offset: 10, limit: 20},
		{name: "empty page", start: ptr(10), end: ptr(10), offset: 10, limit: 0},
		{name: "maximum", start: ptr(0), end: ptr(1000), offset: 0, limit: 1000},
		{name: "too large", start: ptr(0), end: ptr(1001), wantErr: "larger than the maximum of 1000", field: "endRow"},
		{name: "negative start", start: ptr(-1), end: ptr(10), wantErr: "startRow -1 is negative", field: "startRow"},
		{name: "negative range", start: ptr(10), end: ptr(5), wantErr: "endRow 5 is before startRow 10", field: "endRow"},
		{name: "custom page size", opts: grid.Options{PageSize: 25, MaxPageSize: 50}, offset: 0, limit: 25},
		{name: "custom maximum", start: ptr(0), end: ptr(51), opts: grid.Options{MaxPageSize: 50}, wantErr: "maximum of 50"},
		{name: "export everything", opts: grid.Options{Unbounded: true}, offset: 0, limit: -1},
		{name: "export from a row", start: ptr(5), opts: grid.Options{Unbounded: true}, offset: 5, limit: -1},
		{name: "export a large range", start: ptr(0), end: ptr(5000), opts: grid.Options{Unbounded: true}, offset: 0, limit: 5000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := grid.Parse(grid.Request{StartRow: tt.start, EndRow: tt.end}, testSchema, tt.opts)
			if tt.wantErr != "" {
				var ge *grid.Error
				if !errors.As(err, &ge) || !strings.Contains(ge.Message, tt.wantErr) || (tt.field != "" && ge.Field != tt.field) {
					t.Fatalf("err = %v, want %q in %s", err, tt.wantErr, tt.field)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if q.Offset != tt.offset || q.Limit != tt.limit {
				t.Errorf("offset, limit = %d, %d; want %d, %d", q.Offset, q.Limit, tt.offset, tt.limit)
			}
		})
	}
}

func renderSort(keys []grid.SortKey) string {
	s := make([]string, len(keys))
	for i, k := range keys {
		s[i] = k.ColID
		if k.Desc {
			s[i] += " desc"
		}
	}
	return strings.Join(s, ", ")
}

func TestParseSort(t *testing.T) {
	tests := []struct {
		name, body, want, wantErr string
	}{
		{"null means default", `{"sortModel":null}`, "severity desc, observedAt desc", ""},
		{"absent means default", `{}`, "severity desc, observedAt desc", ""},
		{"empty means default", `{"sortModel":[]}`, "severity desc, observedAt desc", ""},
		{"several keys", `{"sortModel":[{"colId":"priority","sort":"asc"},{"colId":"observedAt","sort":"DESC"}]}`, "priority, observedAt desc", ""},
		{"duplicates ignored", `{"sortModel":[{"colId":"status","sort":"desc"},{"colId":"policyName","sort":"asc"},{"colId":"status","sort":"asc"}]}`, "status desc, policyName", ""},
		{"auto group column without grouping", `{"sortModel":[{"colId":"ag-Grid-AutoColumn","sort":"asc"}]}`, "", `unknown column "ag-Grid-AutoColumn" in sortModel[0].colId`},
		{"unknown column", `{"sortModel":[{"colId":"foo","sort":"asc"}]}`, "", `unknown column "foo" in sortModel[0].colId; allowed: active, assignedTo`},
		{"bad direction", `{"sortModel":[{"colId":"status","sort":"up"}]}`, "", `invalid sort direction "up" in sortModel[0].sort; allowed: asc, desc`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := grid.DecodeRequest([]byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			q, err := grid.Parse(req, testSchema, testOptions)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := renderSort(q.Sort); got != tt.want {
				t.Errorf("sort = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestParseSortTies checks Options.Ties: an order ending with a column that
// names its ties gets that column in the same direction, unless it holds it.
func TestParseSortTies(t *testing.T) {
	opts := testOptions
	opts.Ties = map[string]string{"severity": "observedAt"}
	tests := []struct {
		name, body, want string
	}{
		{"ascending", `{"sortModel":[{"colId":"severity","sort":"asc"}]}`, "severity, observedAt"},
		{"descending", `{"sortModel":[{"colId":"severity","sort":"desc"}]}`, "severity desc, observedAt desc"},
		{"after another key", `{"sortModel":[{"colId":"priority","sort":"asc"},{"colId":"severity","sort":"desc"}]}`, "priority, severity desc, observedAt desc"},
		{"held already", `{"sortModel":[{"colId":"observedAt","sort":"asc"},{"colId":"severity","sort":"desc"}]}`, "observedAt, severity desc"},
		{"not last", `{"sortModel":[{"colId":"severity","sort":"asc"},{"colId":"priority","sort":"desc"}]}`, "severity, priority desc"},
		{"default order unchanged", `{}`, "severity desc, observedAt desc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := grid.DecodeRequest([]byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			q, err := grid.Parse(req, testSchema, opts)
			if err != nil {
				t.Fatal(err)
			}
			if got := renderSort(q.Sort); got != tt.want {
				t.Errorf("sort = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseGrouping(t *testing.T) {
	const cols = `"rowGroupCols":[{"id":"status","displayName":"Status","field":"status"},{"id":"stackVersion"},{"id":"observedAt"}],
		"valueCols":[{"id":"observedAt","aggFunc":"max"},{"id":"severity","aggFunc":"MIN"},{"id":"priority","aggFunc":"count"}]`
	tests := []struct {
		name, body string
		level      int // -1: leaf rows
		groupCol   string
		aggs       string
		groupSort  string
		keys       string
		wantErr    string
	}{
		{name: "top level", body: `{` + cols + `}`, level: 0, groupCol: "status",
			aggs: "observedAt=max(observedAt), severity=min(severity), priority=count(priority)", groupSort: "", keys: ""},
		{name: "second level", body: `{` + cols + `,"groupKeys":["In_Progress"],"sortModel":[{"colId":"stackVersion","sort":"desc"},{"colId":"observedAt","sort":"asc"}]}`,
			level: 1, groupCol: "stackVersion", groupSort: "value desc, agg0 asc", keys: `status in "in_progress"`},
		{name: "null number key", body: `{"rowGroupCols":[{"id":"status"},{"id":"stackVersion"},{"id":"observedAt"}],"groupKeys":["open",""]}`, level: 2, groupCol: "observedAt", groupSort: "value desc", keys: `status in "open"; stackVersion blank`},
		{name: "leaf rows", body: `{` + cols + `,"groupKeys":["open","3","2024-03-05T10:00:00Z"]}`, level: -1,
			keys: `status in "open"; stackVersion in 3; observedAt in 2024-03-05T10:00:00Z`},
		{name: "default sort applies to the group column", body: `{"rowGroupCols":[{"id":"severity"}]}`, level: 0, groupCol: "severity", groupSort: "value desc"},
		{name: "auto column sorts groups", body: `{"rowGroupCols":[{"field":"priority"}],"sortModel":[{"colId":"ag-Grid-AutoColumn","sort":"desc"}]}`, level: 0, groupCol: "priority", groupSort: "value desc"},
		{name: "assignedTo key matches login only", body: `{"rowGroupCols":[{"id":"assignedTo"},{"id":"status"}],"groupKeys":["alice"]}`, level: 1, groupCol: "status", keys: `assignedTo in "alice"`},
		{name: "too many keys", body: `{"rowGroupCols":[{"id":"status"}],"groupKeys":["open","x"]}`, wantErr: "groupKeys has 2 keys but rowGroupCols only 1 columns"},
		{name: "unknown group column", body: `{"rowGroupCols":[{"id":"nope"}]}`, wantErr: `unknown column "nope" in rowGroupCols[0].id`},
		{name: "unknown value column", body: `{"rowGroupCols":[{"id":"status"}],"valueCols":[{"id":"nope","aggFunc":"count"}]}`, wantErr: `unknown column "nope" in valueCols[0].id`},
		{name: "unsupported aggFunc", body: `{"rowGroupCols":[{"id":"status"}],"valueCols":[{"id":"stackVersion","aggFunc":"sum"}]}`, wantErr: `unsupported aggFunc "sum" for column stackVersion in valueCols[0].aggFunc; allowed: count, min, max`},
		{name: "aggregate of the group column", body: `{"rowGroupCols":[{"id":"status"}],"valueCols":[{"id":"status","aggFunc":"count"}]}`, wantErr: "the column grouped on at this level"},
		{name: "duplicate value column", body: `{"rowGroupCols":[{"id":"status"}],"valueCols":[{"id":"stackVersion","aggFunc":"min"},{"id":"stackVersion","aggFunc":"max"}]}`, wantErr: "duplicate value column stackVersion"},
		{name: "bad enum key", body: `{"rowGroupCols":[{"id":"status"},{"id":"priority"}],"groupKeys":["closed"]}`, wantErr: `group key "closed" in groupKeys[0] is not a value of status; allowed: "open"`},
		{name: "bad number key", body: `{"rowGroupCols":[{"id":"stackVersion"},{"id":"priority"}],"groupKeys":["seven"]}`, wantErr: `group key "seven" in groupKeys[0] is not a number value`},
		{name: "bad date key", body: `{"rowGroupCols":[{"id":"observedAt"},{"id":"priority"}],"groupKeys":["yesterday"]}`, wantErr: `group key "yesterday" in groupKeys[0] is not a date value`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := grid.DecodeRequest([]byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			q, err := grid.Parse(req, testSchema, testOptions)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var keys []grid.Node
			for _, c := range q.KeyFilter {
				keys = append(keys, c)
				if !c.GroupKey {
					t.Errorf("key condition on %s is not marked as a group key", c.ColID)
				}
			}
			if got := renderAll(keys); got != tt.keys {
				t.Errorf("keys = %s, want %s", got, tt.keys)
			}
			if tt.level < 0 {
				if q.Group != nil {
					t.Fatalf("Group = %+v, want leaf rows", q.Group)
				}
				return
			}
			g := q.Group
			if g == nil || g.Level != tt.level || g.ColID != tt.groupCol {
				t.Fatalf("Group = %+v, want level %d on %s", g, tt.level, tt.groupCol)
			}
			if tt.aggs != "" {
				var aggs []string
				for _, a := range g.Aggregates {
					aggs = append(aggs, fmt.Sprintf("%s=%s(%s)", a.Key, a.Func, a.ColID))
				}
				if got := strings.Join(aggs, ", "); got != tt.aggs {
					t.Errorf("aggregates = %s, want %s", got, tt.aggs)
				}
			}
			var sorts []string
			for _, s := range g.Sort {
				d := "asc"
				if s.Desc {
					d = "desc"
				}
				if s.Aggregate < 0 {
					sorts = append(sorts, "value "+d)
				} else {
					sorts = append(sorts, fmt.Sprintf("agg%d %s", s.Aggregate, d))
				}
			}
			if got := strings.Join(sorts, ", "); got != tt.groupSort {
				t.Errorf("group sort = %q, want %q", got, tt.groupSort)
			}
		})
	}
}

func TestDecodeRequest(t *testing.T) {
	req, err := grid.DecodeRequest([]byte(`{"startRow":0,"endRow":100,"sortModel":null,"pivotMode":false,"filterModel":{"status":{"filterType":"set","values":["open"]}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if *req.StartRow != 0 || *req.EndRow != 100 || req.SortModel != nil || len(req.FilterModel) == 0 {
		t.Errorf("decoded %+v", req)
	}
	if _, err := grid.DecodeRequest(nil); err != nil {
		t.Errorf("empty body: %v", err)
	}
	var ge *grid.Error
	if _, err := grid.DecodeRequest([]byte(`{"startRow":"zero"}`)); !errors.As(err, &ge) {
		t.Errorf("bad body: err = %v, want *grid.Error", err)
	}
}

func TestWithoutColumn(t *testing.T) {
	tests := []struct{ name, model, want string }{
		{"drops from and", `{"type":"AND","conditions":[{"colId":"status","type":"equals","filter":"open"},{"colId":"policyName","type":"contains","filter":"x"}]}`, `policyName contains "x"`},
		{"or with it matches everything", `{"type":"AND","conditions":[{"type":"OR","conditions":[{"colId":"status","type":"equals","filter":"open"},{"colId":"priority","type":"equals","filter":"p0"}]},{"colId":"policyName","type":"blank"}]}`, `policyName blank`},
		{"only it", `{"status":{"filterType":"set","values":["open"]}}`, ``},
		{"or without it kept", `{"type":"OR","conditions":[{"colId":"priority","type":"equals","filter":"p0"},{"colId":"policyName","type":"blank"}]}`, `or(priority in "p0"; policyName blank)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := grid.ParseFilter(json.RawMessage(tt.model), testSchema)
			if err != nil {
				t.Fatal(err)
			}
			if got := render(grid.WithoutColumn(n, "status")); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
	n := grid.WithoutColumn(&grid.Not{Child: &grid.Condition{ColID: "status", Op: grid.OpBlank}}, "status")
	if n != nil {
		t.Errorf("Not of the column: got %s, want nil", render(n))
	}
}

func TestQueryWhere(t *testing.T) {
	req, _ := grid.DecodeRequest([]byte(`{"rowGroupCols":[{"id":"status"},{"id":"priority"}],"groupKeys":["open"],"filterModel":{"colId":"policyName","type":"blank"}}`))
	q, err := grid.Parse(req, testSchema, testOptions)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := render(q.Where()), `and(policyName blank; status in "open")`; got != want {
		t.Errorf("Where = %s, want %s", got, want)
	}
	if (&grid.Query{}).Where() != nil {
		t.Error("empty query has a filter")
	}
}
