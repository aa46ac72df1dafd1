package grid_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/policyresults/policyresults/grid"
)

// FuzzParse feeds arbitrary request bodies to DecodeRequest and Parse: they
// never panic, refuse with *grid.Error, and a parsed query references only
// schema columns, with the schema's own expressions and values typed for the
// column.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		`{"startRow":0,"endRow":100,"sortModel":null}`,
		`{"filterModel":{"filterType":"join","type":"AND","conditions":[{"filterType":"set","colId":"severity","type":"isAnyOf","values":["critical","high"]},{"filterType":"text","colId":"status","type":"equals","filter":"open"}]}}`,
		`{"filterModel":{"type":"OR","conditions":[{"colId":"stackVersion","type":"inRange","filter":1,"filterTo":"9"}]}}`,
		`{"filterModel":{"status":{"filterType":"set","values":["open",null]},"policyName":{"filterType":"text","operator":"OR","conditions":[{"type":"contains","filter":"a"}]}}}`,
		`{"filterModel":{"colId":"observedAt","filterType":"date","type":"equals","dateFrom":"2024-03-05 00:00:00"}}`,
		`{"rowGroupCols":[{"id":"status"},{"id":"priority"}],"groupKeys":["open"],"valueCols":[{"id":"observedAt","aggFunc":"max"}],"sortModel":[{"colId":"ag-Grid-AutoColumn","sort":"desc"}]}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := grid.DecodeRequest(body)
		if err != nil {
			return
		}
		for _, opts := range []grid.Options{testOptions, {Unbounded: true}} {
			q, err := grid.Parse(req, testSchema, opts)
			if err != nil {
				var ge *grid.Error
				if !errors.As(err, &ge) {
					t.Fatalf("error %v (%T) is not a *grid.Error", err, err)
				}
				continue
			}
			checkQuery(t, q)
		}
		if _, err := grid.ParseFilter(req.FilterModel, testSchema); err == nil {
			n, _ := grid.ParseFilter(req.FilterModel, testSchema)
			grid.Walk(grid.WithoutColumn(n, "status"), func(c *grid.Condition) {
				if c.ColID == "status" {
					t.Fatal("WithoutColumn kept a condition on status")
				}
			})
		}
	})
}

func checkColumn(t *testing.T, id string, col grid.ColumnDef) {
	t.Helper()
	def, ok := testSchema[id]
	if !ok {
		t.Fatalf("query references column %q outside the schema", id)
	}
	if col.Kind != def.Kind || col.Set != def.Set || col.Nullable != def.Nullable || !slices.Equal(col.Values, def.Values) {
		t.Fatalf("column %s is %+v, schema says %+v", id, col, def)
	}
}

func checkQuery(t *testing.T, q *grid.Query) {
	t.Helper()
	if q.Offset < 0 || q.Limit < -1 {
		t.Fatalf("offset %d, limit %d", q.Offset, q.Limit)
	}
	conditions := 0
	grid.Walk(q.Where(), func(c *grid.Condition) {
		conditions++
		checkColumn(t, c.ColID, c.Column)
		for _, v := range c.Values {
			ok := false
			switch v := v.(type) {
			case string:
				ok = c.Column.Kind == grid.KindText || (c.Column.Kind == grid.KindEnum && slices.Contains(c.Column.Values, v))
			case int64, float64:
				ok = c.Column.Kind == grid.KindNumber
			case time.Time:
				ok = c.Column.Kind == grid.KindDate && v.Location() == time.UTC
			case bool:
				ok = c.Column.Kind == grid.KindBool
			}
			if !ok {
				t.Fatalf("condition on %s (%s) has value %#v", c.ColID, c.Column.Kind, v)
			}
		}
		switch c.Op {
		case grid.OpInRange:
			if len(c.Values) != 2 {
				t.Fatalf("inRange with %d values", len(c.Values))
			}
		case grid.OpBlank, grid.OpNotBlank, grid.OpIn, grid.OpNotIn:
		case grid.OpEquals, grid.OpNotEqual, grid.OpContains, grid.OpNotContains, grid.OpStartsWith, grid.OpEndsWith,
			grid.OpLessThan, grid.OpLessThanOrEqual, grid.OpGreaterThan, grid.OpGreaterThanOrEqual:
			if len(c.Values) != 1 {
				t.Fatalf("%s with %d values", c.Op, len(c.Values))
			}
		default:
			t.Fatalf("unknown operator %q", c.Op)
		}
	})
	if conditions > 4*grid.MaxConditions {
		t.Fatalf("%d conditions", conditions)
	}
	for _, k := range q.Sort {
		checkColumn(t, k.ColID, k.Column)
	}
	if g := q.Group; g != nil {
		checkColumn(t, g.ColID, g.Column)
		for _, a := range g.Aggregates {
			checkColumn(t, a.ColID, a.Column)
			if a.Func != grid.AggCount && a.Func != grid.AggMin && a.Func != grid.AggMax {
				t.Fatalf("aggregate %q", a.Func)
			}
		}
		for _, s := range g.Sort {
			if s.Aggregate >= len(g.Aggregates) {
				t.Fatalf("group sort on aggregate %d of %d", s.Aggregate, len(g.Aggregates))
			}
		}
	}
}
