package trends

import (
	"errors"
	"slices"
	"testing"

	"github.com/policyresults/policyresults/repository/store"
)

func TestQueryIntervals(t *testing.T) {
	q := Query{From: "2026-01-01", To: "2026-01-16", Interval: "week", GroupBy: BySeverity}
	_, starts, step, err := q.intervals()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"2026-01-01", "2026-01-08", "2026-01-15"}; !slices.Equal(starts, want) || step != 7 {
		t.Errorf("got %v step %d, want %v step 7", starts, step, want)
	}
}

func TestQueryRefused(t *testing.T) {
	for field, q := range map[string]Query{
		"from":     {From: "01/01/2026", To: "2026-01-02", Interval: "day"},
		"to":       {From: "2026-01-01", To: "2027-03-01", Interval: "day"},
		"interval": {From: "2026-01-01", To: "2026-01-02", Interval: "month"},
		"groupBy":  {From: "2026-01-01", To: "2026-01-02", Interval: "day", GroupBy: "policyName"},
	} {
		_, _, _, err := q.intervals()
		var ve *store.ValidationError
		if !errors.As(err, &ve) || ve.Field != field {
			t.Errorf("%+v: got %v, want a validation error of %s", q, err, field)
		}
	}
	backwards := Query{From: "2026-01-02", To: "2026-01-01", Interval: "day"}
	if _, _, _, err := backwards.intervals(); err == nil {
		t.Error("a range ending before it starts was accepted")
	}
}
