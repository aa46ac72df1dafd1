package repository

import (
	"cmp"
	"context"
	"database/sql"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/policyresults/policyresults/model"
	"github.com/policyresults/policyresults/policy"
	"gorm.io/gorm"
)

// Trends (tables of migrations/*/00004_trends.sql) answer how the issues
// and the compliance of an organisation moved over time, per UTC day,
// without reading the history:
//
//   - issue_trends: per (dimension, value, day), the issues opened, fixed
//     and reopened that day, the net change of active issues (whose running
//     sum is the active issues at the end of each day) and the time the
//     day's fixes took. The dimension is "" (the organisation's totals) or a
//     column a trend groups by, valued as the issue was at the change.
//   - compliance_trends: per (pack, day), the organisation's compliance
//     cells of the pack and the sum of their scores at the end of the day.
//
// Both are written in the transactions that change issues (recordTrends,
// from record), so they commit or roll back with the change. issue_trends
// follows from the history alone: a migration replays it for the
// organisations that existed before (backfillTrends), and a test replays
// the history of a generated organisation and compares. The compliance
// cells have no history, so compliance_trends starts on the day the
// migration ran with the cells as they were.

// The dimensions a trend groups by (GetPolicyResultsTrends' groupBy).
const (
	TrendBySeverity        = "severity"
	TrendByPolicyPack      = "policyPack"
	TrendByEntityType      = "entityType"
	TrendByKind            = "kind"
	TrendByPolicyGroupName = "policyGroupName"
)

// trendDimensions are the dimensions of issue_trends rows, "" (the
// totals) first; trendState.values follows this order.
var trendDimensions = [...]string{"", TrendBySeverity, TrendByPolicyPack, TrendByEntityType, TrendByKind, TrendByPolicyGroupName}

// MaxTrendDays is the longest range a trend answers, in days.
const MaxTrendDays = 400

// trendState is what the trends read of an issue: its status and its value
// of each dimension.
type trendState struct {
	status string
	values [len(trendDimensions)]string
}

func trendStateOf(is *model.Issue) trendState {
	return trendState{status: is.Status,
		values: [...]string{"", is.Severity, is.PolicyPack, is.EntityType, is.Kind, is.PolicyGroupName}}
}

// trendDay is the UTC day of t as issue_trends stores it.
func trendDay(t time.Time) string { return t.UTC().Format(time.DateOnly) }

type trendKey struct{ dimension, value, day string }

// trendCounts is a change of one issue_trends row.
type trendCounts struct{ opened, fixed, reopened, active, fixSeconds int64 }

// trendDelta accumulates what a transaction changes in issue_trends.
type trendDelta map[trendKey]trendCounts

// bump applies f to the rows of every dimension of the issue state s.
func (d trendDelta) bump(s *trendState, day string, f func(*trendCounts)) {
	for i, dim := range trendDimensions {
		k := trendKey{dim, s.values[i], day}
		c := d[k]
		f(&c)
		d[k] = c
	}
}

// change counts an issue's move from before (nil: the issue was opened) to
// after, made at the time at; observedAt is when the issue was first
// reported, from which a fix's time is measured.
//
// A fix or a reopen counts in the groups the issue was in before the
// change: a change's history lists the status first, so that is the
// issue's state at the status entry, the one a replay of the history can
// tell apart even when two changes have the same time. The active issues
// move from the groups before to those after.
func (d trendDelta) change(before *trendState, after trendState, at, observedAt time.Time) {
	day := trendDay(at)
	if before == nil {
		d.bump(&after, day, func(c *trendCounts) { c.opened++ })
		if policy.IsActive(after.status) {
			d.bump(&after, day, func(c *trendCounts) { c.active++ })
		}
		return
	}
	wasFixed, isFixed := before.status == policy.StatusFixed, after.status == policy.StatusFixed
	switch {
	case !wasFixed && isFixed:
		// Whole seconds of each time, so the replay of the stored times agrees
		// with the change made from the times in memory.
		seconds := max(0, at.Unix()-observedAt.Unix())
		d.bump(before, day, func(c *trendCounts) { c.fixed++; c.fixSeconds += seconds })
	case wasFixed && !isFixed:
		d.bump(before, day, func(c *trendCounts) { c.reopened++ })
	}
	wasActive, isActive := policy.IsActive(before.status), policy.IsActive(after.status)
	if wasActive && isActive && before.values == after.values {
		return
	}
	if wasActive {
		d.bump(before, day, func(c *trendCounts) { c.active-- })
	}
	if isActive {
		d.bump(&after, day, func(c *trendCounts) { c.active++ })
	}
}

// issueChange adds an issue written by a transaction: before is nil for an
// issue opened. The change happened at after's lastModified, which every
// path that records a change sets to the change's time.
func (d trendDelta) issueChange(before, after *model.Issue) {
	s := trendStateOf(after)
	if before == nil {
		d.change(nil, s, after.ObservedAt, after.ObservedAt)
		return
	}
	b := trendStateOf(before)
	if b == s {
		return
	}
	d.change(&b, s, after.LastModified, after.ObservedAt)
}

func compareTrendKeys(a, b trendKey) int {
	return cmp.Or(strings.Compare(a.dimension, b.dimension), strings.Compare(a.value, b.value), strings.Compare(a.day, b.day))
}

// writeTrends adds d to issue_trends, its rows in one order (so concurrent
// writers cannot deadlock). It runs after the rollups, last in the
// transaction but for the compliance snapshot: the totals' rows are shared
// by every transaction of the day.
func (r *Repository) writeTrends(tx *gorm.DB, orgID int64, d trendDelta) error {
	keys := sortedChanges(d, compareTrendKeys)
	if len(keys) == 0 {
		return nil
	}
	if err := r.writeTrendDays(tx, orgID, d, keys); err != nil {
		return err
	}
	totals := map[trendKey]int64{}
	for _, k := range keys {
		if a := d[k].active; a != 0 {
			totals[trendKey{k.dimension, k.value, ""}] += a
		}
	}
	tkeys := sortedChanges(totals, compareTrendKeys)
	for _, batch := range chunk(tkeys, r.batchRows(4)) {
		marks := make([]string, len(batch))
		args := make([]any, 0, len(batch)*4)
		for i, k := range batch {
			marks[i] = "(?, ?, ?, ?)"
			args = append(args, orgID, k.dimension, k.value, totals[k])
		}
		if err := tx.Exec(`INSERT INTO issue_trend_totals (org_id, dimension, value, active) VALUES `+strings.Join(marks, ", ")+
			` ON CONFLICT (org_id, dimension, value) DO UPDATE SET active = issue_trend_totals.active + excluded.active`,
			args...).Error; err != nil {
			return err
		}
	}
	return nil
}

// writeTrendDays adds d's rows (keys, sorted) to issue_trends.
func (r *Repository) writeTrendDays(tx *gorm.DB, orgID int64, d trendDelta, keys []trendKey) error {
	if r.dialect.Arrays() {
		n := len(keys)
		org := make([]int64, n)
		dims, values, days := make([]string, n), make([]string, n), make([]string, n)
		opened, fixed, reopened, active, seconds := make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
		for i, k := range keys {
			c := d[k]
			org[i], dims[i], values[i], days[i] = orgID, k.dimension, k.value, k.day
			opened[i], fixed[i], reopened[i], active[i], seconds[i] = c.opened, c.fixed, c.reopened, c.active, c.fixSeconds
		}
		c := &pgColumns{}
		c.add("org_id", "bigint", org)
		c.add("dimension", "text", dims)
		c.add("value", "text", values)
		c.add("day", "text", days)
		c.add("opened", "bigint", opened)
		c.add("fixed", "bigint", fixed)
		c.add("reopened", "bigint", reopened)
		c.add("active_change", "bigint", active)
		c.add("fix_seconds", "bigint", seconds)
		return execPG(tx, c.insertSQL("issue_trends AS t", `ON CONFLICT (org_id, dimension, value, day) DO UPDATE SET
			opened = t.opened + EXCLUDED.opened, fixed = t.fixed + EXCLUDED.fixed, reopened = t.reopened + EXCLUDED.reopened,
			active_change = t.active_change + EXCLUDED.active_change, fix_seconds = t.fix_seconds + EXCLUDED.fix_seconds`), c.cols...)
	}
	const perRow = 9
	for _, batch := range chunk(keys, r.batchRows(perRow)) {
		marks := make([]string, len(batch))
		args := make([]any, 0, len(batch)*perRow)
		for i, k := range batch {
			c := d[k]
			marks[i] = "(?, ?, ?, ?, ?, ?, ?, ?, ?)"
			args = append(args, orgID, k.dimension, k.value, k.day, c.opened, c.fixed, c.reopened, c.active, c.fixSeconds)
		}
		if err := tx.Exec(`INSERT INTO issue_trends (org_id, dimension, value, day, opened, fixed, reopened, active_change, fix_seconds)
			VALUES `+strings.Join(marks, ", ")+` ON CONFLICT (org_id, dimension, value, day) DO UPDATE SET
			opened = issue_trends.opened + excluded.opened, fixed = issue_trends.fixed + excluded.fixed,
			reopened = issue_trends.reopened + excluded.reopened, active_change = issue_trends.active_change + excluded.active_change,
			fix_seconds = issue_trends.fix_seconds + excluded.fix_seconds`, args...).Error; err != nil {
			return err
		}
	}
	return nil
}

// cellScoreSQL is a compliance cell's score (score in compliance.go) from
// its entity_pack_counts row.
const cellScoreSQL = `CASE WHEN policies = 0 THEN 100 WHEN failing >= policies THEN 0 ELSE 100 * (policies - failing) / policies END`

// snapshotCompliance sets the day's compliance_trends row of each pack to
// the pack's cells as they are in the transaction. The row is locked by a
// statement of its own before the cells are summed: a transaction that
// changed the same pack's cells and committed first is then in the sum, and
// one that commits after writes its own sum after this one.
func (r *Repository) snapshotCompliance(tx *gorm.DB, orgID int64, day string, packs []string) error {
	slices.Sort(packs)
	for _, p := range slices.Compact(packs) {
		if err := tx.Exec(`INSERT INTO compliance_trends (org_id, pack_name, day, cells, score_sum) VALUES (?, ?, ?, 0, 0)
			ON CONFLICT (org_id, pack_name, day) DO UPDATE SET cells = compliance_trends.cells`, orgID, p, day).Error; err != nil {
			return err
		}
		if err := tx.Exec(`UPDATE compliance_trends SET (cells, score_sum) = (
			SELECT COUNT(*), COALESCE(SUM(`+cellScoreSQL+`), 0) FROM entity_pack_counts
			WHERE org_id = ? AND pack_name = ? AND NOT all_error)
			WHERE org_id = ? AND pack_name = ? AND day = ?`, orgID, p, orgID, p, day).Error; err != nil {
			return err
		}
	}
	return nil
}

// TrendQuery is a trend's range, interval and grouping.
type TrendQuery struct {
	// From and To are the range's first and last UTC dates, as YYYY-MM-DD.
	From, To string
	// Interval is "day" or "week" (seven days from From; the last interval
	// ends at To).
	Interval string
	// GroupBy is "" or one of the TrendBy dimensions.
	GroupBy string
}

// Trends is a trend's answer: one value per interval in each series.
type Trends struct {
	// Intervals are the start dates (YYYY-MM-DD) of the intervals.
	Intervals []string
	// Series are the issue counts per value of the grouping (one series,
	// of value "", without one).
	Series []TrendSeries
	// MeanTimeToFix is, per severity, the mean hours from first report to
	// fix of the issues fixed in each interval (nil: none fixed).
	MeanTimeToFix []TrendValues
	// Compliance is, per pack, the organisation's mean compliance score at
	// the end of each interval (nil: no cell of the pack then).
	Compliance []TrendValues
}

// TrendSeries is the issue counts of one value of the grouping.
type TrendSeries struct {
	Value                                 string
	ActiveIssues, Opened, Fixed, Reopened []int64
}

// TrendValues is one named series of optional numbers.
type TrendValues struct {
	Name   string
	Values []*float64
}

// intervals validates q and returns the start of its range, the start
// date of each interval and an interval's length in calendar dates.
func (q *TrendQuery) intervals() (time.Time, []string, int, error) {
	from, err := time.Parse(time.DateOnly, q.From)
	if err != nil {
		return time.Time{}, nil, 0, invalid("from", "%q is not a date; give a UTC day as YYYY-MM-DD", q.From)
	}
	to, err := time.Parse(time.DateOnly, q.To)
	if err != nil {
		return time.Time{}, nil, 0, invalid("to", "%q is not a date; give a UTC day as YYYY-MM-DD", q.To)
	}
	if to.Before(from) {
		return time.Time{}, nil, 0, invalid("to", "%s is before from (%s); to must be on or after from", q.To, q.From)
	}
	days := int(to.Sub(from)/(24*time.Hour)) + 1
	if days > MaxTrendDays {
		return time.Time{}, nil, 0, invalid("to", "the range from %s to %s is %d days; at most %d days are allowed", q.From, q.To, days, MaxTrendDays)
	}
	step := 1
	switch q.Interval {
	case "day":
	case "week":
		step = 7
	default:
		return time.Time{}, nil, 0, invalid("interval", "%q is not allowed; allowed values: day, week", q.Interval)
	}
	switch q.GroupBy {
	case "", TrendBySeverity, TrendByPolicyPack, TrendByEntityType, TrendByKind, TrendByPolicyGroupName:
	default:
		return time.Time{}, nil, 0, invalid("groupBy", "%q is not allowed; allowed values: severity, policyPack, entityType, kind, policyGroupName", q.GroupBy)
	}
	var starts []string
	for d := 0; d < days; d += step {
		starts = append(starts, trendDay(from.AddDate(0, 0, d)))
	}
	return from, starts, step, nil
}

// trendRow is a row of issue_trends as the trends read it.
type trendRow struct {
	Value        string
	Day          string
	Opened       int64
	Fixed        int64
	Reopened     int64
	ActiveChange int64
	FixSeconds   int64
}

// Trends answers the organisation's trends over q's range from the daily
// rollups: a few rows per day and value, whatever the number of issues.
func (r *Repository) Trends(ctx context.Context, orgID int64, q TrendQuery) (*Trends, error) {
	from, starts, step, err := q.intervals()
	if err != nil {
		return nil, err
	}
	db := r.db.WithContext(ctx)
	to := q.To
	index := make(map[string]int, MaxTrendDays)
	for d := range len(starts) * step {
		index[trendDay(from.AddDate(0, 0, d))] = d / step
	}
	interval := func(day string) int { return index[day] }
	out := &Trends{Intervals: starts}
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
	rows, err := trendRows(db, `SELECT value, day, opened, fixed, reopened, active_change, fix_seconds FROM issue_trends
		WHERE org_id = ? AND dimension = ? AND day >= ?`, orgID, q.GroupBy, q.From)
	if err != nil {
		return nil, err
	}
	series := map[string]*TrendSeries{}
	active := map[string][]int64{} // net change of active issues per interval
	get := func(v string) *TrendSeries {
		s := series[v]
		if s == nil {
			s = &TrendSeries{Value: v, ActiveIssues: make([]int64, n), Opened: make([]int64, n), Fixed: make([]int64, n),
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
	if q.GroupBy == TrendBySeverity {
		order = compareSeverities
	}
	slices.SortFunc(out.Series, func(a, b TrendSeries) int { return order(a.Value, b.Value) })
	if q.GroupBy == "" && len(out.Series) == 0 {
		out.Series = append(out.Series, *get(""))
	}

	fixes := rows
	if q.GroupBy != TrendBySeverity {
		if fixes, err = trendRows(db, `SELECT value, day, 0, fixed, 0, 0, fix_seconds FROM issue_trends
			WHERE org_id = ? AND dimension = ? AND day >= ? AND day <= ? AND fixed <> 0`,
			orgID, TrendBySeverity, q.From, to); err != nil {
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
		v := TrendValues{Name: sev, Values: make([]*float64, n)}
		for i := range n {
			if f.fixed[i] > 0 {
				v.Values[i] = round2(float64(f.seconds[i]) / float64(f.fixed[i]) / 3600)
			}
		}
		out.MeanTimeToFix = append(out.MeanTimeToFix, v)
	}
	slices.SortFunc(out.MeanTimeToFix, func(a, b TrendValues) int { return compareSeverities(a.Name, b.Name) })

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
		v := TrendValues{Name: pack, Values: make([]*float64, n)}
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

// trendRows reads issue_trends rows (value, day and the five counts).
func trendRows(db *gorm.DB, query string, args ...any) ([]trendRow, error) {
	var out []trendRow
	err := queryEach(db, func(rows *sql.Rows) error {
		var t trendRow
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

// recordTrends writes the trend changes of c, after its rollups: its
// issues' changes to issue_trends, then the day's compliance snapshot of
// the packs whose compliance cells c recounted. The snapshot's day is that
// of c's latest change (an evaluation's observedAt, a person's request),
// or today when no issue changed.
func (r *Repository) recordTrends(tx *gorm.DB, c *issueChanges) error {
	d := trendDelta{}
	var at time.Time
	for _, ch := range c.changes {
		d.issueChange(ch.before, ch.after)
		if ch.after.LastModified.After(at) {
			at = ch.after.LastModified
		}
	}
	if err := r.writeTrends(tx, c.orgID, d); err != nil {
		return err
	}
	if c.rollup == nil || len(c.rollup.cells) == 0 {
		return nil
	}
	if at.IsZero() {
		at = time.Now()
	}
	packs := make([]string, 0, len(c.rollup.cells))
	for cell := range c.rollup.cells {
		packs = append(packs, cell.PackName)
	}
	return r.snapshotCompliance(tx, c.orgID, trendDay(at), packs)
}
