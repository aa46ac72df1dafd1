package compliance

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/policyresults/policyresults/model"
	"github.com/policyresults/policyresults/policy"
	"github.com/policyresults/policyresults/repository/pagetoken"
	"github.com/policyresults/policyresults/repository/store"
)

// Entity is the row kind of the compliance matrix.
type Entity string

// The row kinds of the compliance matrix.
const (
	ByStack    Entity = "stack"
	ByAccount  Entity = "account"
	BySeverity Entity = "severity"
)

// Matrix is one page of the compliance matrix.
type Matrix struct {
	// Columns are the evaluated pack names, sorted; the same on every page.
	Columns []string
	Rows    []Row
	// Next is the continuation token of the next page; empty on the last.
	Next string
}

// Row is a row of the matrix, its scores in column order.
type Row struct {
	EntityName string
	Scores     []int
}

// MaxPageSize bounds the rows of one compliance page.
const MaxPageSize = 1000

// DefaultPageSize is the page size when none is given.
const DefaultPageSize = 100

// entityDisplayExpr is an entity's name as the matrix shows it:
// "project/stack" for stacks, the account name for accounts. The index
// entities_display (migrations/*/00001_schema.sql) holds the same
// expression; change both together, or pages sort every entity again.
const entityDisplayExpr = "(CASE WHEN e.type = 'stack' THEN e.project || '/' || e.name ELSE e.project END)"

// Matrix computes one page of the compliance matrix. size 0 means
// the default; token is the previous page's Next.
func (s *Store) Matrix(ctx context.Context, orgID int64, entity Entity, size int, token string) (*Matrix, error) {
	switch {
	case size == 0:
		size = DefaultPageSize
	case size < 0 || size > MaxPageSize:
		return nil, store.Invalid("size", "%d is out of range; allowed: 1 to %d", size, MaxPageSize)
	}
	var after pagetoken.Token
	if token != "" {
		var err error
		if after, err = pagetoken.Decode(token, "compliance/"+string(entity)); err != nil {
			return nil, err
		}
	}
	db := s.db.WithContext(ctx)
	m := &Matrix{}
	if err := db.Raw(`SELECT DISTINCT pack_name FROM pack_evaluations WHERE org_id = ? ORDER BY pack_name`, orgID).
		Scan(&m.Columns).Error; err != nil {
		return nil, err
	}
	if m.Columns == nil {
		m.Columns = []string{}
	}
	column := make(map[string]int, len(m.Columns))
	for i, c := range m.Columns {
		column[c] = i
	}
	newRow := func(name string) Row {
		scores := make([]int, len(m.Columns))
		for i := range scores {
			scores[i] = policy.ScoreNotApplicable
		}
		return Row{EntityName: name, Scores: scores}
	}

	if entity == BySeverity {
		return s.severityMatrix(ctx, orgID, m, column, newRow, size, after)
	}
	entityType := model.EntityStack
	if entity == ByAccount {
		entityType = model.EntityAccount
	}
	// The page of entities, in the order of entities_display, with their
	// cells: one row per evaluated (entity, pack), kept by the ingest and
	// triage transactions (entity_pack_counts): whether every scope of its
	// latest evaluation failed to run, the enabled policies evaluated, and
	// those with an active issue. An entity without cells comes once, with
	// no pack.
	// The rows are read without GORM's reflection: a page of a thousand
	// stacks is four thousand cells, and reflection cost more CPU than
	// the statement.
	rows, err := db.Raw(`SELECT p.id, p.display, c.pack_name, c.all_error, c.policies AS total, c.failing
		FROM (SELECT e.id, `+entityDisplayExpr+` AS display FROM entities e
		      WHERE e.org_id = ? AND e.type = ? AND `+entityDisplayExpr+` > ?
		      ORDER BY display LIMIT ?) p
		LEFT JOIN entity_pack_counts c ON c.org_id = ? AND c.entity_ref = p.id
		ORDER BY p.display`, orgID, entityType, after.After, size+1, orgID).Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	m.Rows = []Row{}
	var last int64
	for rows.Next() {
		var (
			id             int64
			display        string
			pack           sql.NullString
			allError       sql.NullBool
			total, failing sql.NullInt64
		)
		if err := rows.Scan(&id, &display, &pack, &allError, &total, &failing); err != nil {
			return nil, err
		}
		if len(m.Rows) == 0 || id != last {
			if len(m.Rows) == size {
				m.Next = pagetoken.Encode(pagetoken.Token{Kind: "compliance/" + string(entity), After: m.Rows[size-1].EntityName})
				break
			}
			m.Rows = append(m.Rows, newRow(display))
			last = id
		}
		if !pack.Valid {
			continue
		}
		if col, ok := column[pack.String]; ok {
			m.Rows[len(m.Rows)-1].Scores[col] = policy.Score(allError.Bool, int(total.Int64), int(failing.Int64))
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return m, nil
}

// severityRows are the rows of the severity matrix, most severe first.
var severityRows = []string{"critical", "high", "medium", "low"}

func (s *Store) severityMatrix(ctx context.Context, orgID int64, m *Matrix, column map[string]int,
	newRow func(string) Row, size int, after pagetoken.Token) (*Matrix, error) {
	start := 0
	if after.After != "" {
		for i, s := range severityRows {
			if s == after.After {
				start = i + 1
			}
		}
	}
	rows := severityRows[start:]
	if len(rows) > size {
		rows = rows[:size]
		m.Next = pagetoken.Encode(pagetoken.Token{Kind: "compliance/severity", After: rows[len(rows)-1]})
	}
	m.Rows = make([]Row, 0, len(rows))
	rowOf := map[string]int{}
	for i, s := range rows {
		m.Rows = append(m.Rows, newRow(s))
		rowOf[s] = i
	}
	// Every enabled (entity, policy) pair of a severity whose pack ran; a pair
	// passes when it has no active issue.
	var cells []struct {
		Severity string
		PackName string
		Total    int
		Passing  int
	}
	err := s.db.WithContext(ctx).Raw(`
		SELECT o.severity, o.pack_name, COUNT(*) AS total,
		       SUM(CASE WHEN EXISTS (SELECT 1 FROM issue_policy_counts i WHERE i.org_id = o.org_id AND i.entity_ref = o.entity_id
		                AND i.policy_pack = o.pack_name AND i.policy_name = o.policy_name AND i.active > 0) THEN 0 ELSE 1 END) AS passing
		FROM (SELECT DISTINCT po.org_id, po.entity_id, po.pack_name, po.policy_name, po.severity
		      FROM policy_outcomes po
		      JOIN pack_evaluations pe ON pe.org_id = po.org_id AND pe.entity_id = po.entity_id
		           AND pe.scope = po.scope AND pe.pack_name = po.pack_name AND pe.error IS NULL
		      WHERE po.org_id = ? AND po.enforcement_level <> 'disabled' AND po.severity IN ?) o
		GROUP BY o.severity, o.pack_name`, orgID, severityRows).Scan(&cells).Error
	if err != nil {
		return nil, err
	}
	for _, c := range cells {
		i, ok := rowOf[c.Severity]
		col, ok2 := column[c.PackName]
		if !ok || !ok2 || c.Total == 0 {
			continue
		}
		m.Rows[i].Scores[col] = 100 * c.Passing / c.Total
	}
	return m, nil
}

// Metadata is the organisation's compliance overview.
type Metadata struct {
	PolicyTotalCount         int64
	PolicyWithIssuesCount    int64
	ResourcesTotalCount      int64
	ResourcesWithIssuesCount int64
	ActiveBySeverity         []NameCount
	ActiveByLevel            []NameCount
	ActiveByKind             []NameCount
}

// NameCount is a value and how many rows have it.
type NameCount struct {
	Name  string
	Count int64
}

// groupPoliciesSQL lists the enabled policies of each group, once per
// (group, pack, policy), with their severity: those of the pack versions
// applied to the group (pinned, else the latest published) and those
// evaluated under it (the outcome_counts rollup of the enabled outcomes).
// It takes the organisation id twice.
const groupPoliciesSQL = `
	SELECT group_id, pack_name, policy_name, MAX(severity) AS severity FROM (
		SELECT gp.group_id, gp.pack_name, p.name AS policy_name, p.severity
		FROM policy_group_packs gp
		JOIN policy_packs pk ON pk.org_id = gp.org_id AND pk.name = gp.pack_name
		JOIN policy_pack_versions v ON v.org_id = pk.org_id AND v.pack_id = pk.id AND v.published
		     AND v.version = COALESCE(gp.version, (SELECT MAX(v2.version) FROM policy_pack_versions v2
		                                          WHERE v2.org_id = pk.org_id AND v2.pack_id = pk.id AND v2.published))
		JOIN policies p ON p.org_id = v.org_id AND p.version_id = v.id AND p.enforcement_level <> 'disabled'
		WHERE gp.org_id = ?
		UNION ALL
		SELECT oc.group_id, oc.pack_name, oc.policy_name, oc.severity
		FROM outcome_counts oc
		WHERE oc.org_id = ? AND oc.outcomes > 0
	) gpu GROUP BY group_id, pack_name, policy_name`

// Metadata computes the organisation's policy and resource totals.
func (s *Store) Metadata(ctx context.Context, orgID int64) (*Metadata, error) {
	db := s.db.WithContext(ctx)
	md := &Metadata{}
	var counts struct {
		Total      int64
		WithIssues int64
	}
	err := db.Raw(`
		SELECT COUNT(*) AS total,
		       COALESCE(SUM(CASE WHEN EXISTS (SELECT 1 FROM issue_counts i JOIN policy_groups g ON g.org_id = i.org_id AND g.name = i.policy_group_name
		                WHERE i.org_id = ? AND g.id = gpol.group_id AND i.policy_pack = gpol.pack_name
		                  AND i.policy_name = gpol.policy_name AND i.active AND i.n > 0) THEN 1 ELSE 0 END), 0) AS with_issues
		FROM (`+groupPoliciesSQL+`) gpol`, orgID, orgID, orgID).Scan(&counts).Error
	if err != nil {
		return nil, err
	}
	md.PolicyTotalCount, md.PolicyWithIssuesCount = counts.Total, counts.WithIssues
	// entity_counts holds, per entity, its governed resources and those with
	// an active issue.
	var resources struct {
		Governed   int64
		WithIssues int64
	}
	if err := db.Raw(`SELECT CAST(COALESCE(SUM(governed_resources), 0) AS bigint) AS governed, CAST(COALESCE(SUM(resources_with_issues), 0) AS bigint) AS with_issues
		FROM entity_counts WHERE org_id = ?`, orgID).Scan(&resources).Error; err != nil {
		return nil, err
	}
	md.ResourcesTotalCount, md.ResourcesWithIssuesCount = resources.Governed, resources.WithIssues
	// The issue cube counts the active issues; one statement answers the
	// three breakdowns. The column names are constants, never input.
	var breakdowns []struct {
		Dimension string
		Name      string
		Count     int64
	}
	out := []struct {
		column string
		counts *[]NameCount
	}{{"severity", &md.ActiveBySeverity}, {"level", &md.ActiveByLevel}, {"kind", &md.ActiveByKind}}
	var parts []string
	var args []any
	for _, o := range out {
		column := o.column
		*o.counts = []NameCount{}
		parts = append(parts, `SELECT '`+column+`' AS dimension, `+column+` AS name, CAST(SUM(n) AS bigint) AS count
			FROM issue_counts WHERE org_id = ? AND active GROUP BY `+column+` HAVING SUM(n) > 0`)
		args = append(args, orgID)
	}
	if err := db.Raw(strings.Join(parts, " UNION ALL ")+` ORDER BY dimension, count DESC, name`, args...).
		Scan(&breakdowns).Error; err != nil {
		return nil, err
	}
	for _, b := range breakdowns {
		for _, o := range out {
			if o.column == b.Dimension {
				*o.counts = append(*o.counts, NameCount{Name: b.Name, Count: b.Count})
			}
		}
	}
	return md, nil
}

// ViolationsPageSize is the page size of the deprecated violations list.
const ViolationsPageSize = 100

// Violations lists the organisation's current violations (issues not fixed),
// newest first, one page at a time; token is the previous page's next token.
func (s *Store) Violations(ctx context.Context, orgID int64, token string) ([]model.Issue, string, error) {
	q := s.db.WithContext(ctx).Where("org_id = ? AND status <> ?", orgID, policy.StatusFixed)
	if token != "" {
		t, err := pagetoken.Decode(token, "violations")
		if err != nil {
			return nil, "", err
		}
		at, err := time.Parse(time.RFC3339Nano, t.After)
		if err != nil {
			return nil, "", store.Invalid("continuationToken", "the continuation token is not one this server issued for this listing; start again without it")
		}
		q = q.Where("(observed_at < ? OR (observed_at = ? AND id < ?))", at, at, t.AfterID)
	}
	var out []model.Issue
	if err := q.Order("observed_at DESC, id DESC").Limit(ViolationsPageSize + 1).Find(&out).Error; err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > ViolationsPageSize {
		out = out[:ViolationsPageSize]
		last := out[len(out)-1]
		next = pagetoken.Encode(pagetoken.Token{Kind: "violations", After: last.ObservedAt.UTC().Format(time.RFC3339Nano), AfterID: last.ID})
	}
	return out, next, nil
}
