package repository

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"gorm.io/gorm"

	"github.com/policyresults/policyresults/grid"
	"github.com/policyresults/policyresults/model"
)

// The text dictionary (issue_texts): every distinct resource name,
// message and URN part of an organisation's issues is stored once in
// issue_texts, and each issue refers to its values (name_ref, message_ref,
// urn_prefix_ref, urn_suffix_ref). Text matches (contains, notContains,
// startsWith, endsWith) on those columns select the matching distinct
// values first and then the issues referring to them through integer
// indexes (textMatch), so a broad needle reads no trigram bitmap of the
// issues, and ingest maintains no trigram index per issue.
//
// A URN is held as two values, its prefix (the stack and project part,
// "urn:pulumi:prod::payments::") and the rest (type and name): 717,000
// URNs of the million-issue demo are 3,000 prefixes and 9,000 rests. A
// match on the whole URN is rewritten into matches on the parts
// (urnMatch).

// Fields of the text dictionary.
const (
	textResourceName = "resource_name"
	textMessage      = "message"
	textURNPrefix    = "urn_prefix"
	textURNSuffix    = "urn_suffix"
)

// textKey is a value of the dictionary.
type textKey struct{ field, value string }

// dictionaryColumns maps the issue columns whose whole value the
// dictionary holds to their field.
var dictionaryColumns = map[string]string{
	"policy_issues.resource_name": textResourceName,
	"policy_issues.message":       textMessage,
}

// textRefColumns are the reference columns of the fields.
var textRefColumns = map[string]string{
	textResourceName: "policy_issues.name_ref",
	textMessage:      "policy_issues.message_ref",
	textURNPrefix:    "policy_issues.urn_prefix_ref",
	textURNSuffix:    "policy_issues.urn_suffix_ref",
}

// urnScheme starts every Pulumi URN.
const urnScheme = "urn:pulumi:"

// splitURN splits a URN after its stack and project: up to and including
// the second "::" after "urn:pulumi:" (so the prefix, when there is one,
// ends with "::"). Anything else has no prefix. urnPrefixSQL is the same
// in SQL.
func splitURN(urn string) (prefix, rest string) {
	if !strings.HasPrefix(urn, urnScheme) {
		return "", urn
	}
	i := strings.Index(urn[len(urnScheme):], "::")
	if i < 0 {
		return "", urn
	}
	start := len(urnScheme) + i + 2
	j := strings.Index(urn[start:], "::")
	if j < 0 {
		return "", urn
	}
	return urn[:start+j+2], urn[start+j+2:]
}

// urnPrefixSQL is splitURN's prefix of the column in SQL (the migration
// holds a copy).
func urnPrefixSQL(d Dialect, col string) string {
	first := d.Position("substr("+col+", 12)", "'::'")
	second := d.Position("substr("+col+", 13 + "+first+")", "'::'")
	return "(CASE WHEN substr(" + col + ", 1, 11) = 'urn:pulumi:' AND " + first + " > 0 AND " + second + " > 0" +
		" THEN substr(" + col + ", 1, 13 + " + first + " + " + second + ") ELSE '' END)"
}

// textPart is a condition on one field of the dictionary: the value is
// LIKE the pattern (escaped with \, case-insensitive).
type textPart struct{ field, pattern string }

// urnMatch rewrites a text match on whole URNs into alternatives (any may
// hold) of conditions on their parts (all must hold). With P the prefix
// (empty or ending with "::") and S the rest, the URN P+S contains N when
// P or S contains N, or when N straddles them: N = x+y with x ending P
// and y starting S. As P ends with "::", such an x is ":" or ends with
// "::", so only those cuts of N are tried; startsWith and endsWith follow
// the same way. The cases are exact, not approximations
// (TestURNMatch checks them against the whole string).
func urnMatch(op grid.Op, needle string) [][]textPart {
	esc := likeEscaper.Replace
	// cuts are the lengths of the needle's heads that can end a prefix.
	var cuts []int
	for k := 1; k <= len(needle); k++ {
		if (k == 1 && needle[0] == ':') || (k >= 2 && needle[k-2:k] == "::") {
			cuts = append(cuts, k)
		}
	}
	var alts [][]textPart
	switch op {
	case grid.OpContains, grid.OpNotContains:
		alts = [][]textPart{{{textURNPrefix, "%" + esc(needle) + "%"}}, {{textURNSuffix, "%" + esc(needle) + "%"}}}
		for _, k := range cuts {
			if k < len(needle) {
				alts = append(alts, []textPart{{textURNPrefix, "%" + esc(needle[:k])}, {textURNSuffix, esc(needle[k:]) + "%"}})
			}
		}
	case grid.OpStartsWith:
		alts = [][]textPart{{{textURNPrefix, esc(needle) + "%"}}, {{textURNPrefix, ""}, {textURNSuffix, esc(needle) + "%"}}}
		for _, k := range cuts {
			if k < len(needle) {
				alts = append(alts, []textPart{{textURNPrefix, esc(needle[:k])}, {textURNSuffix, esc(needle[k:]) + "%"}})
			}
		}
	case grid.OpEndsWith:
		alts = [][]textPart{{{textURNSuffix, "%" + esc(needle)}}}
		for _, k := range cuts {
			alts = append(alts, []textPart{{textURNPrefix, "%" + esc(needle[:k])}, {textURNSuffix, esc(needle[k:])}})
		}
	case grid.OpEquals, grid.OpNotEqual:
		alts = [][]textPart{{{textURNPrefix, ""}, {textURNSuffix, esc(needle)}}}
		for _, k := range cuts {
			alts = append(alts, []textPart{{textURNPrefix, esc(needle[:k])}, {textURNSuffix, esc(needle[k:])}})
		}
	}
	return alts
}

// textCache remembers the dictionary ids that committed evaluations read
// or added. The id of an organisation's value never changes (values are
// only added), so most evaluations find all their values here and look
// none up. When full it starts over.
type textCache struct {
	mu  sync.Mutex
	ids map[cachedText]int64
}

// cachedText is an organisation's value.
type cachedText struct {
	org int64
	textKey
}

// textCacheSize bounds the cache (a few tens of megabytes of texts at
// most).
const textCacheSize = 100000

func (c *textCache) lookup(org int64, keys map[textKey]int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range keys {
		if id, ok := c.ids[cachedText{org, k}]; ok {
			keys[k] = id
		}
	}
}

func (c *textCache) add(org int64, ids map[textKey]int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ids == nil || len(c.ids)+len(ids) > textCacheSize {
		c.ids = make(map[cachedText]int64, len(ids))
	}
	for k, id := range ids {
		c.ids[cachedText{org, k}] = id
	}
}

// addResourceTexts adds to want the dictionary keys of a resource's name
// and of its URN's two parts.
func addResourceTexts(want map[textKey]int64, name, urn string) {
	prefix, rest := splitURN(urn)
	want[textKey{textResourceName, name}] = 0
	want[textKey{textURNPrefix, prefix}] = 0
	want[textKey{textURNSuffix, rest}] = 0
}

// resolveTexts sets the dictionary references of the issues an evaluation
// writes, adding the values the dictionary lacks, and returns the ids of
// their values (to cache once the transaction commits: an id read from
// the cache is always committed, one added here only if the transaction
// is).
func (r *Repository) resolveTexts(tx *gorm.DB, orgID int64, sets ...[]model.Issue) (map[textKey]int64, error) {
	want := map[textKey]int64{}
	for _, rows := range sets {
		for i := range rows {
			addResourceTexts(want, rows[i].ResourceName, rows[i].ResourceURN)
			want[textKey{textMessage, rows[i].Message}] = 0
		}
	}
	if len(want) == 0 {
		return nil, nil
	}
	if _, err := r.internTexts(tx, orgID, want); err != nil {
		return nil, err
	}
	for _, rows := range sets {
		for i := range rows {
			is := &rows[i]
			prefix, rest := splitURN(is.ResourceURN)
			is.NameRef = want[textKey{textResourceName, is.ResourceName}]
			is.MessageRef = want[textKey{textMessage, is.Message}]
			is.URNPrefixRef = want[textKey{textURNPrefix, prefix}]
			is.URNSuffixRef = want[textKey{textURNSuffix, rest}]
			if is.NameRef == 0 || is.MessageRef == 0 || is.URNPrefixRef == 0 || is.URNSuffixRef == 0 {
				return nil, fmt.Errorf("text dictionary: no entry for issue %s after adding it", is.ID)
			}
		}
	}
	return want, nil
}

// seedTexts adds the values of want that the dictionary lacks in
// statements of their own, before the evaluation that needs them opens its
// transaction (PostgreSQL), and caches the ids of all of them. Added
// inside that transaction, a value that a concurrent evaluation had added
// but not yet committed made the insert wait for the whole of that
// evaluation (see docs/performance.md); here it waits for
// one statement. The dictionary only interns values, like a sequence
// hands out numbers: a value whose evaluation then fails stays, referred
// to by no issue, and every match through the dictionary reaches issues
// by their references, so it matches none.
func (r *Repository) seedTexts(ctx context.Context, orgID int64, want map[textKey]int64) error {
	uncached, err := r.internTexts(r.db.WithContext(ctx), orgID, want)
	if err != nil || uncached == 0 {
		return err
	}
	r.texts.add(orgID, want)
	return nil
}

// internTexts sets the id of every value of want: from the cache, else
// from the dictionary, adding the values it lacks. It says how many values
// the cache did not hold.
func (r *Repository) internTexts(db *gorm.DB, orgID int64, want map[textKey]int64) (int, error) {
	r.texts.lookup(orgID, want)
	// Sorted, so evaluations adding the same new values concurrently wait
	// for each other in one order instead of deadlocking.
	var keys []textKey
	for k, id := range want {
		if id == 0 {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return 0, nil
	}
	slices.SortFunc(keys, compareTextKeys)
	lookup, insert := r.lookupTextsSQLite, r.insertTextsSQLite
	if r.dialect.Arrays() {
		lookup, insert = lookupTextsPG, insertTextsPG
	}
	if err := lookup(db, orgID, keys, want); err != nil {
		return 0, err
	}
	var missing []textKey
	for _, k := range keys {
		if want[k] == 0 {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		if err := insert(db, orgID, missing); err != nil {
			return 0, err
		}
		// Another evaluation may have added some of them first: read them
		// all back.
		if err := lookup(db, orgID, missing, want); err != nil {
			return 0, err
		}
	}
	return len(keys), nil
}

// compareTextKeys orders values by field, then value: concurrent writers
// adding the same new values take their locks in this one order.
func compareTextKeys(a, b textKey) int {
	return cmp.Or(cmp.Compare(a.field, b.field), cmp.Compare(a.value, b.value))
}

// textColumns lays keys out as two arrays.
func textColumns(keys []textKey) (fields, values []string) {
	fields, values = make([]string, len(keys)), make([]string, len(keys))
	for i, k := range keys {
		fields[i], values[i] = k.field, k.value
	}
	return fields, values
}

// lookupTextsPG sets the ids of the keys the dictionary holds.
func lookupTextsPG(tx *gorm.DB, orgID int64, keys []textKey, ids map[textKey]int64) error {
	for _, batch := range chunk(keys, pgBulkRows) {
		fields, values := textColumns(batch)
		// md5 finds the value through the unique index; the value itself
		// is compared too. One index probe per value (LIMIT keeps the
		// lateral subquery from being planned as a join, which a plan
		// made while the dictionary was small does by scanning it).
		rows, err := queryPG(tx, `SELECT t.id, u.field, u.value FROM unnest($2::text[], $3::text[]) AS u(field, value)
			CROSS JOIN LATERAL (SELECT t.id FROM issue_texts t WHERE t.org_id = $1 AND t.field = u.field
				AND md5(t.value) = md5(u.value) AND t.value = u.value LIMIT 1) t`,
			orgID, fields, values)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id int64
			var k textKey
			if err := rows.Scan(&id, &k.field, &k.value); err != nil {
				rows.Close()
				return err
			}
			ids[k] = id
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}

// insertTextsPG adds values to the dictionary; values another transaction
// added first are left as they are.
func insertTextsPG(tx *gorm.DB, orgID int64, keys []textKey) error {
	for _, batch := range chunk(keys, pgBulkRows) {
		fields, values := textColumns(batch)
		if err := execPG(tx, `INSERT INTO issue_texts (org_id, field, value)
			SELECT $1, u.field, u.value FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS u(field, value, n) ORDER BY u.n
			ON CONFLICT (org_id, field, md5(value)) DO NOTHING`, orgID, fields, values); err != nil {
			return err
		}
	}
	return nil
}

// lookupTextsSQLite is lookupTextsPG on SQLite.
func (r *Repository) lookupTextsSQLite(tx *gorm.DB, orgID int64, keys []textKey, ids map[textKey]int64) error {
	byField := map[string][]string{}
	for _, k := range keys {
		byField[k.field] = append(byField[k.field], k.value)
	}
	for field, values := range byField {
		for _, batch := range chunk(values, r.inBatch()) {
			var found []model.IssueText
			if err := tx.Where("org_id = ? AND field = ? AND value IN ?", orgID, field, batch).Find(&found).Error; err != nil {
				return err
			}
			for _, t := range found {
				ids[textKey{t.Field, t.Value}] = t.ID
			}
		}
	}
	return nil
}

// insertTextsSQLite adds values to the dictionary (the transaction holds
// SQLite's write lock: nobody else adds them meanwhile).
func (r *Repository) insertTextsSQLite(tx *gorm.DB, orgID int64, keys []textKey) error {
	rows := make([]model.IssueText, len(keys))
	for i, k := range keys {
		rows[i] = model.IssueText{OrgID: orgID, Field: k.field, Value: k.value}
	}
	for _, batch := range chunk(rows, r.batchRows(3)) {
		if err := tx.Create(&batch).Error; err != nil {
			return err
		}
	}
	return nil
}

// textColumnsOf are, per field of the dictionary, the SQL of an issue's
// value (on policy_issues); textRefColumns names its reference column.
func textColumnsOf(d Dialect) []struct{ field, value string } {
	prefix := urnPrefixSQL(d, "policy_issues.resource_urn")
	return []struct{ field, value string }{
		{textResourceName, "policy_issues.resource_name"},
		{textMessage, "policy_issues.message"},
		{textURNPrefix, prefix},
		{textURNSuffix, "substr(policy_issues.resource_urn, length(" + prefix + ") + 1)"},
	}
}

// rebuildTexts adds the organisation's issue texts the dictionary lacks and
// points every issue at its values (for issues written around the
// repository; see RebuildRollups).
func (r *Repository) rebuildTexts(tx *gorm.DB, orgID int64) error {
	for _, c := range textColumnsOf(r.dialect) {
		conflict, match := r.dialect.TextsConflict(), r.dialect.TextsMatch(c.value)
		if err := tx.Exec(`INSERT INTO issue_texts (org_id, field, value)
			SELECT DISTINCT org_id, '`+c.field+`', `+c.value+` FROM policy_issues WHERE org_id = ?
			ON CONFLICT `+conflict+` DO NOTHING`, orgID).Error; err != nil {
			return err
		}
		ref := strings.TrimPrefix(textRefColumns[c.field], "policy_issues.")
		if err := tx.Exec(`UPDATE policy_issues SET `+ref+` = (SELECT t.id FROM issue_texts t
			WHERE t.org_id = policy_issues.org_id AND t.field = '`+c.field+`' AND `+match+`) WHERE org_id = ?`, orgID).Error; err != nil {
			return err
		}
	}
	return nil
}

// checkTexts reports issues whose dictionary references are not their
// texts.
func (r *Repository) checkTexts(db *gorm.DB, orgID int64, problems *[]string) error {
	for _, c := range textColumnsOf(r.dialect) {
		var wrong int64
		if err := db.Raw(`SELECT COUNT(*) FROM policy_issues
			LEFT JOIN issue_texts t ON t.org_id = policy_issues.org_id AND t.id = `+textRefColumns[c.field]+` AND t.field = '`+c.field+`'
			WHERE policy_issues.org_id = ? AND (t.value IS NULL OR t.value <> `+c.value+`)`, orgID).Scan(&wrong).Error; err != nil {
			return err
		}
		if wrong > 0 {
			*problems = append(*problems, fmt.Sprintf("issue_texts: %d issues refer to another %s than theirs", wrong, c.field))
		}
	}
	return nil
}

// textAlternatives is the dictionary form of a text condition on an
// issue column (see textMatch; the negative operators are the negation of
// the alternatives), and whether the dictionary serves it.
func textAlternatives(expr string, op grid.Op, needle string) ([][]textPart, bool) {
	pattern, ok := likePattern(op, needle)
	if op == grid.OpEquals || op == grid.OpNotEqual {
		// Equality is a pattern without wildcards.
		pattern, ok = likeEscaper.Replace(needle), true
	}
	if !ok {
		return nil, false
	}
	if expr == "policy_issues.resource_urn" {
		return urnMatch(op, needle), true
	}
	if field, ok := dictionaryColumns[expr]; ok {
		return [][]textPart{{{field, pattern}}}, true
	}
	return nil, false
}

// textSets are the dictionary ids matching the parts of a filter's text
// matches, read before the filter's SQL is written.
type textSets map[textPart][]int64

// maxTextSet is the largest number of values a part's set holds; a part
// matching more is left to a subquery (a variable for tests).
var maxTextSet = 10000

// textSets reads the ids of the dictionary values matching the text
// matches of a filter. A part no value matches drops its alternative from
// the SQL. Bound as arrays of constants, the ids let PostgreSQL estimate
// how many issues a match selects
// and choose the plan for it: behind a subquery it guesses a few hundred,
// and for a needle matching half the issues it would fetch them all
// through the reference index and sort them instead of reading the sort
// order until a page is full (see docs/performance.md).
func (r *Repository) textSets(db *gorm.DB, orgID int64, filter grid.Node) (textSets, error) {
	limit := r.dialect.MaxIDSet(maxTextSet)
	parts := textParts(filter)
	if len(parts) == 0 {
		return nil, nil
	}
	sets := textSets{}
	for _, p := range parts {
		if _, done := sets[p]; done {
			continue
		}
		var ids []int64
		if err := db.Raw(`SELECT id FROM issue_texts WHERE org_id = ? AND field = ? AND lower(value) LIKE lower(?) ESCAPE '\' LIMIT ?`,
			orgID, p.field, p.pattern, limit+1).Scan(&ids).Error; err != nil {
			return nil, err
		}
		if len(ids) <= limit {
			sets[p] = ids
		}
	}
	return sets, nil
}

// textParts lists the dictionary parts of a filter's text conditions.
func textParts(n grid.Node) []textPart {
	var parts []textPart
	switch n := n.(type) {
	case *grid.And:
		for _, c := range n.Children {
			parts = append(parts, textParts(c)...)
		}
	case *grid.Or:
		for _, c := range n.Children {
			parts = append(parts, textParts(c)...)
		}
	case *grid.Not:
		parts = textParts(n.Child)
	case *grid.Condition:
		if n.Column.Kind != grid.KindText || len(n.Values) == 0 {
			return nil
		}
		needle, _ := n.Values[0].(string)
		for _, e := range issueGridColumns[n.ColID].matched(n) {
			alts, _ := textAlternatives(e, n.Op, needle)
			for _, alt := range alts {
				parts = append(parts, alt...)
			}
		}
	}
	return parts
}

// issueCondition is issueWhere with the facts it uses read first: the
// filter's text matches from the dictionary (textSets), its entity type's
// size (entityTypeNarrow) and the exact values of its equals conditions on
// text columns (exactNames) from the cube.
func (r *Repository) issueCondition(db *gorm.DB, orgID int64, filter grid.Node) (string, []any, error) {
	var facts filterFacts
	var err error
	if facts.texts, err = r.textSets(db, orgID, filter); err != nil {
		return "", nil, err
	}
	if facts.narrowType, err = r.entityTypeNarrow(db, orgID, filter); err != nil {
		return "", nil, err
	}
	if facts.exactNames, err = r.exactNames(db, orgID, filter); err != nil {
		return "", nil, err
	}
	cond, args := issueWhere(orgID, filter, r.dialect, &facts)
	return cond, args, nil
}
