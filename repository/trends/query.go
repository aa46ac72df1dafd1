package trends

import (
	"cmp"
	"context"
	"database/sql"
	"math"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/policyresults/policyresults/policy"
	"github.com/policyresults/policyresults/repository/store"
)

// MaxDays is the longest range a trend answers, in days.
const MaxDays = 400

// Query is a trend's range, interval and grouping.
type Query struct {
	// From and To are the range's first and last UTC dates, as YYYY-MM-DD.
	From, To string
	// Interval is "day" or "week" (seven days from From; the last interval
	// ends at To).
	Interval string
	// GroupBy is "" or one of the By dimensions.
	GroupBy string
}

// Result is a trend's answer: one value per interval in each series.
type Result struct {
	// Intervals are the start dates (YYYY-MM-DD) of the intervals.
	Intervals []string
	// Series are the issue counts per value of the grouping (one series,
	// of value "", without one).
	Series []Series
	// MeanTimeToFix is, per severity, the mean hours from first report to
	// fix of the issues fixed in each interval (nil: none fixed).
	MeanTimeToFix []Values
	// Compliance is, per pack, the organisation's mean compliance score at
	// the end of each interval (nil: no cell of the pack then).
	Compliance []Values
}

// Series is the issue counts of one value of the grouping.
type Series struct {
	Value                                 string
	ActiveIssues, Opened, Fixed, Reopened []int64
}

// Values is one named series of optional numbers.
type Values struct {
	Name   string
	Values []*float64
}

// intervals validates q and returns the start of its range, the start
// date of each interval and an interval's length in calendar dates.
func (q *Query) intervals() (time.Time, []string, int, error) {
	from, err := time.Parse(time.DateOnly, q.From)
	if err != nil {
		return time.Time{}, nil, 0, store.Invalid("from", "%q is not a date; give a UTC day as YYYY-MM-DD", q.From)
	}
	to, err := time.Parse(time.DateOnly, q.To)
	if err != nil {
		return time.Time{}, nil, 0, store.Invalid("to", "%q is not a date; give a UTC day as YYYY-MM-DD", q.To)
	}
	if to.Before(from) {
		return time.Time{}, nil, 0, store.Invalid("to", "%s is before from (%s); to must be on or after from", q.To, q.From)
	}
	days := int(to.Sub(from)/(24*time.Hour)) + 1
	if days > MaxDays {
		return time.Time{}, nil, 0, store.Invalid("to", "the range from %s to %s is %d days; at most %d days are allowed", q.From, q.To, days, MaxDays)
	}
	step := 1
	switch q.Interval {
	case "day":
	case "week":
		step = 7
	default:
		return time.Time{}, nil, 0, store.Invalid("interval", "%q is not allowed; allowed values: day, week", q.Interval)
	}
	switch q.GroupBy {
	case "", BySeverity, ByPolicyPack, ByEntityType, ByKind, ByPolicyGroupName:
	default:
		return time.Time{}, nil, 0, store.Invalid("groupBy", "%q is not allowed; allowed values: severity, policyPack, entityType, kind, policyGroupName", q.GroupBy)
	}
	var starts []string
	for d := 0; d < days; d += step {
		starts = append(starts, Day(from.AddDate(0, 0, d)))
	}
	return from, starts, step, nil
}

// dayRow is a row of issue_trends as the query reads it.
type dayRow struct {
	Value        string
	Day          string
	Opened       int64
	Fixed        int64
	Reopened     int64
	ActiveChange int64
	FixSeconds   int64
}

// Read answers the organisation's trends over q's range from the daily
// rows: a few rows per day and value, whatever the number of issues.
func (t *Store) Read(ctx context.Context, orgID int64, q Query) (*Result, error) {
	from, starts, step, err := q.intervals()
	if err != nil {
		return nil, err
	}
	db := t.store.DB().WithContext(ctx)
	to := q.To
	index := make(map[string]int, MaxDays)
	for d := range len(starts) * step {
		index[Day(from.AddDate(0, 0, d))] = d / step
	}
	interval := func(day string) int { return index[day] }
	out := &Result{Intervals: starts}
	n := len(starts)

	// The active issues at the start of the range are the totals less the
	// changes since: the rows from the range's start date on.
	totals := map[string]int64{}
	if err := queryEach(db, func(rows *sql.Rows) error {
		var v string
		var n int64
		err := rows.Scan(&v, &n)
		totals[v] = n
		return err
	}, `SELECT value, active FROM issue_trend_totals WHERE org_id = ? AND dimension = ?`, orgID, q.GroupBy); err != nil {
		return nil, err
	}
	rows, err := readRows(db, `SELECT value, day, opened, fixed, reopened, active_change, fix_seconds FROM issue_trends
		WHERE org_id = ? AND dimension = ? AND day >= ?`, orgID, q.GroupBy, q.From)
	if err != nil {
		return nil, err
	}
	series := map[string]*Series{}
	active := map[string][]int64{} // net change of active issues per interval
	get := func(v string) *Series {
		s := series[v]
		if s == nil {
			s = &Series{Value: v, ActiveIssues: make([]int64, n), Opened: make([]int64, n), Fixed: make([]int64, n),
				Reopened: make([]int64, n)}
			series[v] = s
			active[v] = make([]int64, n)
		}
		return s
	}
	base := totals
	for _, row := range rows {
		base[row.Value] -= row.ActiveChange
	}
	for v, n := range base {
		if n != 0 {
			get(v)
		}
	}
	for _, row := range rows {
		if row.Day > to {
			continue
		}
		s, i := get(row.Value), interval(row.Day)
		s.Opened[i] += row.Opened
		s.Fixed[i] += row.Fixed
		s.Reopened[i] += row.Reopened
		active[row.Value][i] += row.ActiveChange
	}
	for v, s := range series {
		running := base[v]
		for i := range n {
			running += active[v][i]
			s.ActiveIssues[i] = running
		}
		if slices.ContainsFunc([][]int64{s.ActiveIssues, s.Opened, s.Fixed, s.Reopened}, func(xs []int64) bool {
			return slices.ContainsFunc(xs, func(x int64) bool { return x != 0 })
		}) {
			out.Series = append(out.Series, *s)
		}
	}
	order := func(a, b string) int { return strings.Compare(a, b) }
	if q.GroupBy == BySeverity {
		order = compareSeverities
	}
	slices.SortFunc(out.Series, func(a, b Series) int { return order(a.Value, b.Value) })
	if q.GroupBy == "" && len(out.Series) == 0 {
		out.Series = append(out.Series, *get(""))
	}

	fixes := rows
	if q.GroupBy != BySeverity {
		if fixes, err = readRows(db, `SELECT value, day, 0, fixed, 0, 0, fix_seconds FROM issue_trends
			WHERE org_id = ? AND dimension = ? AND day >= ? AND day <= ? AND fixed <> 0`,
			orgID, BySeverity, q.From, to); err != nil {
			return nil, err
		}
	}
	type fixSum struct{ fixed, seconds []int64 }
	bySeverity := map[string]*fixSum{}
	for _, row := range fixes {
		if row.Fixed == 0 || row.Day > to {
			continue
		}
		f := bySeverity[row.Value]
		if f == nil {
			f = &fixSum{make([]int64, n), make([]int64, n)}
			bySeverity[row.Value] = f
		}
		i := interval(row.Day)
		f.fixed[i] += row.Fixed
		f.seconds[i] += row.FixSeconds
	}
	for sev, f := range bySeverity {
		v := Values{Name: sev, Values: make([]*float64, n)}
		for i := range n {
			if f.fixed[i] > 0 {
				v.Values[i] = round2(float64(f.seconds[i]) / float64(f.fixed[i]) / 3600)
			}
		}
		out.MeanTimeToFix = append(out.MeanTimeToFix, v)
	}
	slices.SortFunc(out.MeanTimeToFix, func(a, b Values) int { return compareSeverities(a.Name, b.Name) })

	type snapshot struct {
		pack, day       string
		cells, scoreSum int64
	}
	var snapshots []snapshot
	// Each pack's last row up to the range's start date, then its rows in
	// the range.
	if err := queryEach(db, func(rows *sql.Rows) error {
		var s snapshot
		err := rows.Scan(&s.pack, &s.day, &s.cells, &s.scoreSum)
		snapshots = append(snapshots, s)
		return err
	}, `SELECT c.pack_name, c.day, c.cells, c.score_sum FROM compliance_trends c
		JOIN (SELECT pack_name, MAX(day) AS day FROM compliance_trends WHERE org_id = ? AND day <= ? GROUP BY pack_name) l
		  ON c.pack_name = l.pack_name AND c.day = l.day
		WHERE c.org_id = ?
		UNION ALL
		SELECT pack_name, day, cells, score_sum FROM compliance_trends WHERE org_id = ? AND day > ? AND day <= ?
		ORDER BY 1, 2`, orgID, q.From, orgID, orgID, q.From, to); err != nil {
		return nil, err
	}
	for j := 0; j < len(snapshots); {
		pack := snapshots[j].pack
		v := Values{Name: pack, Values: make([]*float64, n)}
		var score *float64
		next := 0 // the first interval not yet given a score
		for ; j < len(snapshots) && snapshots[j].pack == pack; j++ {
			s := snapshots[j]
			i := 0
			if s.day >= q.From {
				i = interval(s.day)
			}
			for ; next < i; next++ {
				v.Values[next] = score
			}
			score = nil
			if s.cells > 0 {
				score = round2(float64(s.scoreSum) / float64(s.cells))
			}
		}
		for ; next < n; next++ {
			v.Values[next] = score
		}
		out.Compliance = append(out.Compliance, v)
	}
	return out, nil
}

// queryEach runs a query and calls scan on each row. The trends read
// thousands of small rows, on which GORM's Scan (by reflection) spent most
// of the answer's time.
func queryEach(db *gorm.DB, scan func(*sql.Rows) error, query string, args ...any) error {
	rows, err := db.Raw(query, args...).Rows()
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// readRows reads issue_trends rows (value, day and the five counts).
func readRows(db *gorm.DB, query string, args ...any) ([]dayRow, error) {
	var out []dayRow
	err := queryEach(db, func(rows *sql.Rows) error {
		var t dayRow
		err := rows.Scan(&t.Value, &t.Day, &t.Opened, &t.Fixed, &t.Reopened, &t.ActiveChange, &t.FixSeconds)
		out = append(out, t)
		return err
	}, query, args...)
	return out, err
}

// compareSeverities orders severities most severe first.
func compareSeverities(a, b string) int {
	return cmp.Or(cmp.Compare(policy.SeverityRank(b), policy.SeverityRank(a)), strings.Compare(a, b))
}

func round2(x float64) *float64 {
	v := math.Round(x*100) / 100
	return &v
}
