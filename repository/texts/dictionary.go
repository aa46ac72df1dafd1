// Package texts keeps the text dictionary (issue_texts) and answers text
// matches through it: ingest interns the resource names, messages and URN
// parts of the issues it writes, and the issue grid rewrites a text
// condition into matches on the dictionary's values.
package texts

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
	"github.com/policyresults/policyresults/repository/store"
)

// The text dictionary (issue_texts): every distinct resource name,
// message and URN part of an organisation's issues is stored once in
// issue_texts, and each issue refers to its values (name_ref, message_ref,
// urn_prefix_ref, urn_suffix_ref). Text matches (contains, notContains,
// startsWith, endsWith) on those columns select the matching distinct
// values first and then the issues referring to them through integer
// indexes (the grid's SQL writer), so a broad needle reads no trigram bitmap of the
// issues, and ingest maintains no trigram index per issue.
//
// A URN is held as two values, its prefix (the stack and project part,
// "urn:pulumi:prod::payments::") and the rest (type and name): 717,000
// URNs of the million-issue demo are 3,000 prefixes and 9,000 rests. A
// match on the whole URN is rewritten into matches on the parts
// (urnMatch).

// Fields of the text dictionary.
const (
	ResourceName = "resource_name"
	Message      = "message"
	URNPrefix    = "urn_prefix"
	URNSuffix    = "urn_suffix"
)

// Key is a value of the dictionary.
type Key struct{ field, value string }

// dictionaryColumns maps the issue columns whose whole value the
// dictionary holds to their field.
var dictionaryColumns = map[string]string{
	"policy_issues.resource_name": ResourceName,
	"policy_issues.message":       Message,
}

// RefColumns are the reference columns of the fields.
var RefColumns = map[string]string{
	ResourceName: "policy_issues.name_ref",
	Message:      "policy_issues.message_ref",
	URNPrefix:    "policy_issues.urn_prefix_ref",
	URNSuffix:    "policy_issues.urn_suffix_ref",
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
func urnPrefixSQL(d store.Dialect, col string) string {
	first := d.Position("substr("+col+", 12)", "'::'")
	second := d.Position("substr("+col+", 13 + "+first+")", "'::'")
	return "(CASE WHEN substr(" + col + ", 1, 11) = 'urn:pulumi:' AND " + first + " > 0 AND " + second + " > 0" +
		" THEN substr(" + col + ", 1, 13 + " + first + " + " + second + ") ELSE '' END)"
}

// Part is a condition on one field of the dictionary: the value is
// LIKE the pattern (escaped with \, case-insensitive).
type Part struct{ Field, Pattern string }

// urnMatch rewrites a text match on whole URNs into alternatives (any may
// hold) of conditions on their parts (all must hold). With P the prefix
// (empty or ending with "::") and S the rest, the URN P+S contains N when
// P or S contains N, or when N straddles them: N = x+y with x ending P
// and y starting S. As P ends with "::", such an x is ":" or ends with
// "::", so only those cuts of N are tried; startsWith and endsWith follow
// the same way. The cases are exact, not approximations
// (TestURNMatch checks them against the whole string).
func urnMatch(op grid.Op, needle string) [][]Part {
	esc := likeEscaper.Replace
	// cuts are the lengths of the needle's heads that can end a prefix.
	var cuts []int
	for k := 1; k <= len(needle); k++ {
		if (k == 1 && needle[0] == ':') || (k >= 2 && needle[k-2:k] == "::") {
			cuts = append(cuts, k)
		}
	}
	var alts [][]Part
	switch op {
	case grid.OpContains, grid.OpNotContains:
		alts = [][]Part{{{URNPrefix, "%" + esc(needle) + "%"}}, {{URNSuffix, "%" + esc(needle) + "%"}}}
		for _, k := range cuts {
			if k < len(needle) {
				alts = append(alts, []Part{{URNPrefix, "%" + esc(needle[:k])}, {URNSuffix, esc(needle[k:]) + "%"}})
			}
		}
	case grid.OpStartsWith:
		alts = [][]Part{{{URNPrefix, esc(needle) + "%"}}, {{URNPrefix, ""}, {URNSuffix, esc(needle) + "%"}}}
		for _, k := range cuts {
			if k < len(needle) {
				alts = append(alts, []Part{{URNPrefix, esc(needle[:k])}, {URNSuffix, esc(needle[k:]) + "%"}})
			}
		}
	case grid.OpEndsWith:
		alts = [][]Part{{{URNSuffix, "%" + esc(needle)}}}
		for _, k := range cuts {
			alts = append(alts, []Part{{URNPrefix, "%" + esc(needle[:k])}, {URNSuffix, esc(needle[k:])}})
		}
	case grid.OpEquals, grid.OpNotEqual:
		alts = [][]Part{{{URNPrefix, ""}, {URNSuffix, esc(needle)}}}
		for _, k := range cuts {
			alts = append(alts, []Part{{URNPrefix, esc(needle[:k])}, {URNSuffix, esc(needle[k:])}})
		}
	}
	return alts
}

// cache remembers the dictionary ids that committed evaluations read
// or added. The id of an organisation's value never changes (values are
// only added), so most evaluations find all their values here and look
// none up. When full it starts over.
type cache struct {
	mu  sync.Mutex
	ids map[cachedKey]int64
}

// cachedKey is an organisation's value.
type cachedKey struct {
	org int64
	Key
}

// cacheSize bounds the cache (a few tens of megabytes of texts at
// most).
const cacheSize = 100000

func (c *cache) lookup(org int64, keys map[Key]int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range keys {
		if id, ok := c.ids[cachedKey{org, k}]; ok {
			keys[k] = id
		}
	}
}

func (c *cache) add(org int64, ids map[Key]int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ids == nil || len(c.ids)+len(ids) > cacheSize {
		c.ids = make(map[cachedKey]int64, len(ids))
	}
	for k, id := range ids {
		c.ids[cachedKey{org, k}] = id
	}
}

// Dictionary is the text dictionary of a database, with the cache of the
// ids its values have.
type Dictionary struct {
	db      *gorm.DB
	dialect store.Dialect
	cache   cache
}

// New returns the dictionary of s's database.
func New(s *store.Store) *Dictionary { return &Dictionary{db: s.DB(), dialect: s.Dialect()} }

// Want is the values an evaluation needs, each with its id once known
// (0 until then).
type Want map[Key]int64

// AddResource adds the values of a resource's name and of its URN's two
// parts.
func (w Want) AddResource(name, urn string) { addResource(w, name, urn) }

// AddMessage adds the value of an issue's message.
func (w Want) AddMessage(message string) { w[Key{Message, message}] = 0 }

// Remember caches the ids of want, once the transaction that read or added
// them has committed.
func (d *Dictionary) Remember(orgID int64, want Want) { d.cache.add(orgID, want) }

// addResource adds to want the dictionary keys of a resource's name
// and of its URN's two parts.
func addResource(want map[Key]int64, name, urn string) {
	prefix, rest := splitURN(urn)
	want[Key{ResourceName, name}] = 0
	want[Key{URNPrefix, prefix}] = 0
	want[Key{URNSuffix, rest}] = 0
}

// Resolve sets the dictionary references of the issues an evaluation
// writes, adding the values the dictionary lacks, and returns the ids of
// their values (to cache once the transaction commits: an id read from
// the cache is always committed, one added here only if the transaction
// is).
func (d *Dictionary) Resolve(tx *gorm.DB, orgID int64, sets ...[]model.Issue) (Want, error) {
	want := Want{}
	for _, rows := range sets {
		for i := range rows {
			addResource(want, rows[i].ResourceName, rows[i].ResourceURN)
			want.AddMessage(rows[i].Message)
		}
	}
	if len(want) == 0 {
		return nil, nil
	}
	if _, err := d.intern(tx, orgID, want); err != nil {
		return nil, err
	}
	for _, rows := range sets {
		for i := range rows {
			is := &rows[i]
			prefix, rest := splitURN(is.ResourceURN)
			is.NameRef = want[Key{ResourceName, is.ResourceName}]
			is.MessageRef = want[Key{Message, is.Message}]
			is.URNPrefixRef = want[Key{URNPrefix, prefix}]
			is.URNSuffixRef = want[Key{URNSuffix, rest}]
			if is.NameRef == 0 || is.MessageRef == 0 || is.URNPrefixRef == 0 || is.URNSuffixRef == 0 {
				return nil, fmt.Errorf("text dictionary: no entry for issue %s after adding it", is.ID)
			}
		}
	}
	return want, nil
}

// Seed adds the values of want that the dictionary lacks in
// statements of their own, before the evaluation that needs them opens its
// transaction (PostgreSQL), and caches the ids of all of them. Added
// inside that transaction, a value that a concurrent evaluation had added
// but not yet committed made the insert wait for the whole of that
// evaluation (see docs/performance.md); here it waits for
// one statement. The dictionary only interns values, like a sequence
// hands out numbers: a value whose evaluation then fails stays, referred
// to by no issue, and every match through the dictionary reaches issues
// by their references, so it matches none.
func (d *Dictionary) Seed(ctx context.Context, orgID int64, want Want) error {
	uncached, err := d.intern(d.db.WithContext(ctx), orgID, want)
	if err != nil || uncached == 0 {
		return err
	}
	d.cache.add(orgID, want)
	return nil
}

// intern sets the id of every value of want: from the cache, else
// from the dictionary, adding the values it lacks. It says how many values
// the cache did not hold.
func (d *Dictionary) intern(db *gorm.DB, orgID int64, want Want) (int, error) {
	d.cache.lookup(orgID, want)
	// Sorted, so evaluations adding the same new values concurrently wait
	// for each other in one order instead of deadlocking.
	var keys []Key
	for k, id := range want {
		if id == 0 {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return 0, nil
	}
	slices.SortFunc(keys, compareKeys)
	lookup, insert := d.lookupSQLite, d.insertSQLite
	if d.dialect.Arrays() {
		lookup, insert = lookupPG, insertPG
	}
	if err := lookup(db, orgID, keys, want); err != nil {
		return 0, err
	}
	var missing []Key
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

// compareKeys orders values by field, then value: concurrent writers
// adding the same new values take their locks in this one order.
func compareKeys(a, b Key) int {
	return cmp.Or(cmp.Compare(a.field, b.field), cmp.Compare(a.value, b.value))
}

// keyColumns lays keys out as two arrays.
func keyColumns(keys []Key) (fields, values []string) {
	fields, values = make([]string, len(keys)), make([]string, len(keys))
	for i, k := range keys {
		fields[i], values[i] = k.field, k.value
	}
	return fields, values
}

// lookupPG sets the ids of the keys the dictionary holds.
func lookupPG(tx *gorm.DB, orgID int64, keys []Key, ids map[Key]int64) error {
	for _, batch := range store.Chunk(keys, store.ArrayRows) {
		fields, values := keyColumns(batch)
		// md5 finds the value through the unique index; the value itself
		// is compared too. One index probe per value (LIMIT keeps the
		// lateral subquery from being planned as a join, which a plan
		// made while the dictionary was small does by scanning it).
		rows, err := store.QueryArrays(tx, `SELECT t.id, u.field, u.value FROM unnest($2::text[], $3::text[]) AS u(field, value)
			CROSS JOIN LATERAL (SELECT t.id FROM issue_texts t WHERE t.org_id = $1 AND t.field = u.field
				AND md5(t.value) = md5(u.value) AND t.value = u.value LIMIT 1) t`,
			orgID, fields, values)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id int64
			var k Key
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

// insertPG adds values to the dictionary; values another transaction
// added first are left as they are.
func insertPG(tx *gorm.DB, orgID int64, keys []Key) error {
	for _, batch := range store.Chunk(keys, store.ArrayRows) {
		fields, values := keyColumns(batch)
		if err := store.ExecArrays(tx, `INSERT INTO issue_texts (org_id, field, value)
			SELECT $1, u.field, u.value FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS u(field, value, n) ORDER BY u.n
			ON CONFLICT (org_id, field, md5(value)) DO NOTHING`, orgID, fields, values); err != nil {
			return err
		}
	}
	return nil
}

// lookupTextsSQLite is lookupPG on SQLite.
func (d *Dictionary) lookupSQLite(tx *gorm.DB, orgID int64, keys []Key, ids map[Key]int64) error {
	byField := map[string][]string{}
	for _, k := range keys {
		byField[k.field] = append(byField[k.field], k.value)
	}
	for field, values := range byField {
		for _, batch := range store.Chunk(values, d.dialect.InListSize()) {
			var found []model.IssueText
			if err := tx.Where("org_id = ? AND field = ? AND value IN ?", orgID, field, batch).Find(&found).Error; err != nil {
				return err
			}
			for _, t := range found {
				ids[Key{t.Field, t.Value}] = t.ID
			}
		}
	}
	return nil
}

// insertTextsSQLite adds values to the dictionary (the transaction holds
// SQLite's write lock: nobody else adds them meanwhile).
func (d *Dictionary) insertSQLite(tx *gorm.DB, orgID int64, keys []Key) error {
	rows := make([]model.IssueText, len(keys))
	for i, k := range keys {
		rows[i] = model.IssueText{OrgID: orgID, Field: k.field, Value: k.value}
	}
	for _, batch := range store.Chunk(rows, store.BatchRows(d.dialect, 3)) {
		if err := tx.Create(&batch).Error; err != nil {
			return err
		}
	}
	return nil
}

// columnsOf are, per field of the dictionary, the SQL of an issue's
// value (on policy_issues); RefColumns names its reference column.
func columnsOf(d store.Dialect) []struct{ field, value string } {
	prefix := urnPrefixSQL(d, "policy_issues.resource_urn")
	return []struct{ field, value string }{
		{ResourceName, "policy_issues.resource_name"},
		{Message, "policy_issues.message"},
		{URNPrefix, prefix},
		{URNSuffix, "substr(policy_issues.resource_urn, length(" + prefix + ") + 1)"},
	}
}

// Rebuild adds the organisation's issue texts the dictionary lacks and
// points every issue at its values (for issues written around the
// repository, as the repository's rebuild does).
func (d *Dictionary) Rebuild(tx *gorm.DB, orgID int64) error {
	for _, c := range columnsOf(d.dialect) {
		conflict, match := d.dialect.TextsConflict(), d.dialect.TextsMatch(c.value)
		if err := tx.Exec(`INSERT INTO issue_texts (org_id, field, value)
			SELECT DISTINCT org_id, '`+c.field+`', `+c.value+` FROM policy_issues WHERE org_id = ?
			ON CONFLICT `+conflict+` DO NOTHING`, orgID).Error; err != nil {
			return err
		}
		ref := strings.TrimPrefix(RefColumns[c.field], "policy_issues.")
		if err := tx.Exec(`UPDATE policy_issues SET `+ref+` = (SELECT t.id FROM issue_texts t
			WHERE t.org_id = policy_issues.org_id AND t.field = '`+c.field+`' AND `+match+`) WHERE org_id = ?`, orgID).Error; err != nil {
			return err
		}
	}
	return nil
}

// Check reports issues whose dictionary references are not their
// texts.
func (d *Dictionary) Check(db *gorm.DB, orgID int64, problems *[]string) error {
	for _, c := range columnsOf(d.dialect) {
		var wrong int64
		if err := db.Raw(`SELECT COUNT(*) FROM policy_issues
			LEFT JOIN issue_texts t ON t.org_id = policy_issues.org_id AND t.id = `+RefColumns[c.field]+` AND t.field = '`+c.field+`'
			WHERE policy_issues.org_id = ? AND (t.value IS NULL OR t.value <> `+c.value+`)`, orgID).Scan(&wrong).Error; err != nil {
			return err
		}
		if wrong > 0 {
			*problems = append(*problems, fmt.Sprintf("issue_texts: %d issues refer to another %s than theirs", wrong, c.field))
		}
	}
	return nil
}

// Alternatives is the dictionary form of a text condition on an
// issue column (the grid's SQL writer matches any of the alternatives; the negative operators are the negation of
// the alternatives), and whether the dictionary serves it.
func Alternatives(expr string, op grid.Op, needle string) ([][]Part, bool) {
	pattern, ok := LikePattern(op, needle)
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
		return [][]Part{{{field, pattern}}}, true
	}
	return nil, false
}

// Sets are the dictionary ids matching the parts of a filter's text
// matches, read before the filter's SQL is written.
type Sets map[Part][]int64

// MaxSet is the largest number of values a part's set holds; a part
// matching more is left to a subquery (a variable for tests).
var MaxSet = 10000

// Sets reads the ids of the dictionary values matching the text
// matches of a filter (parts). A part no value matches drops its alternative from
// the SQL. Bound as arrays of constants, the ids let PostgreSQL estimate
// how many issues a match selects
// and choose the plan for it: behind a subquery it guesses a few hundred,
// and for a needle matching half the issues it would fetch them all
// through the reference index and sort them instead of reading the sort
// order until a page is full (see docs/performance.md).
func (d *Dictionary) Sets(db *gorm.DB, orgID int64, parts []Part) (Sets, error) {
	limit := d.dialect.MaxIDSet(MaxSet)
	if len(parts) == 0 {
		return nil, nil
	}
	sets := Sets{}
	for _, p := range parts {
		if _, done := sets[p]; done {
			continue
		}
		var ids []int64
		if err := db.Raw(`SELECT id FROM issue_texts WHERE org_id = ? AND field = ? AND lower(value) LIKE lower(?) ESCAPE '\' LIMIT ?`,
			orgID, p.Field, p.Pattern, limit+1).Scan(&ids).Error; err != nil {
			return nil, err
		}
		if len(ids) <= limit {
			sets[p] = ids
		}
	}
	return sets, nil
}

// likeEscaper escapes LIKE wildcards for ESCAPE '\'.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// LikePattern is the LIKE pattern (escaped with \) of a text match
// operator, and whether the operator is one.
func LikePattern(op grid.Op, s string) (string, bool) {
	switch op {
	case grid.OpContains, grid.OpNotContains:
		return "%" + likeEscaper.Replace(s) + "%", true
	case grid.OpStartsWith:
		return likeEscaper.Replace(s) + "%", true
	case grid.OpEndsWith:
		return "%" + likeEscaper.Replace(s), true
	}
	return "", false
}
