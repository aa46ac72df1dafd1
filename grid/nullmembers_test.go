package grid_test

import (
	"testing"

	"github.com/policyresults/policyresults/grid"
)

// TestColumnFilterModelWithNullMembers: clients that encode every optional
// member add "filter": null and "filterTo": null to every filter model; a
// column filter model must still parse as one, not as a condition without a
// colId.
func TestColumnFilterModelWithNullMembers(t *testing.T) {
	for _, tc := range []struct {
		name, model string
		want        int // conditions
	}{
		{"column model", `{"status":{"filterType":"set","values":["open"]},"filter":null,"filterTo":null}`, 1},
		{"two columns", `{"status":{"filterType":"set","values":["open"]},"severity":{"filterType":"set","values":["high"]},"filter":null}`, 2},
		{"condition", `{"colId":"status","filterType":"set","values":["open"],"filter":null,"filterTo":null}`, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, err := grid.ParseFilter([]byte(tc.model), testSchema)
			if err != nil {
				t.Fatalf("ParseFilter(%s): %v", tc.model, err)
			}
			got := 0
			grid.Walk(n, func(*grid.Condition) { got++ })
			if got != tc.want {
				t.Errorf("ParseFilter(%s): %d conditions, want %d", tc.model, got, tc.want)
			}
		})
	}
}
