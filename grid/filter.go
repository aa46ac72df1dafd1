package grid

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Limits on a filter model, so a request cannot make the server build an
// arbitrarily large query.
const (
	// MaxDepth is the deepest nesting of joins.
	MaxDepth = 8
	// MaxConditions is the largest number of conditions.
	MaxConditions = 100
	// MaxValues is the largest number of values of one set condition.
	MaxValues = 1000
)

// nodeKeys are the keys that make an object a condition or a join rather
// than a column filter model (keyed by column id).
var nodeKeys = []string{"filterType", "type", "colId", "conditions", "operator", "filter", "filterTo",
	"values", "dateFrom", "dateTo", "condition1", "condition2", "filterModels"}

// filterTypes are the accepted filterType values of a condition (lower case).
var filterTypes = map[string]bool{"": true, "text": true, "number": true, "date": true, "datestring": true,
	"set": true, "boolean": true, "object": true, "bigint": true}

const allowedFilterTypes = "join, multi, text, number, date, dateString, boolean, set"

// The condition types of each column kind, as AG Grid names them.
var (
	textOps   = []string{"equals", "notEqual", "contains", "notContains", "startsWith", "endsWith", "blank", "notBlank"}
	numberOps = []string{"equals", "notEqual", "lessThan", "lessThanOrEqual", "greaterThan", "greaterThanOrEqual", "inRange", "blank", "notBlank"}
	boolOps   = []string{"true", "false", "equals", "notEqual", "blank", "notBlank"}
	setOps    = []string{"isAnyOf", "isNoneOf"}
)

func allowedOps(col ColumnDef) []string {
	var ops []string
	switch col.Kind {
	case KindText, KindEnum:
		ops = textOps
	case KindNumber, KindDate:
		ops = numberOps
	case KindBool:
		ops = boolOps
	}
	if col.Set {
		ops = append(append([]string(nil), ops...), setOps...)
	}
	return ops
}

type rawNode map[string]json.RawMessage

func (m rawNode) has(key string) bool { return !isNull(m[key]) }

func (m rawNode) str(key, path string) (string, error) {
	raw := m[key]
	if isNull(raw) {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", errorf(path+"."+key, "%s.%s must be a string, not %s", path, key, describeJSON(raw))
	}
	return s, nil
}

func (m rawNode) isNode() bool {
	// A null member says nothing: clients that encode every optional
	// member write "filter": null and "filterTo": null into every filter
	// model, column filter models included.
	for _, k := range nodeKeys {
		if v, ok := m[k]; ok && !isNull(v) {
			return true
		}
	}
	return false
}

func (m rawNode) array(key, path string) ([]json.RawMessage, error) {
	var items []json.RawMessage
	if err := json.Unmarshal(m[key], &items); err != nil {
		return nil, errorf(path+"."+key, "%s.%s must be an array, not %s", path, key, describeJSON(m[key]))
	}
	return items, nil
}

func object(raw json.RawMessage, path string) (rawNode, error) {
	var m rawNode
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return nil, errorf(path, "%s must be an object, not %s", path, describeJSON(raw))
	}
	return m, nil
}

type filterParser struct {
	schema     Schema
	conditions int
}

// ParseFilter parses a filter model in any of the shapes clients send:
//   - null, absent or {}: no filter (nil);
//   - AG Grid's advanced filter: a join {"filterType": "join", "type":
//     "AND"|"OR", "conditions": [...]}, nested up to MaxDepth;
//   - Pulumi's join {"type": "AND"|"OR", "conditions": [...]};
//   - a single condition {"filterType": "text", "colId": "status", "type":
//     "equals", "filter": "open"};
//   - AG Grid's column filter model, an object keyed by column id whose
//     values are conditions without colId, combined conditions
//     ({"operator": "OR", "conditions": [...]}, or the older condition1 and
//     condition2), set filters ({"filterType": "set", "values": [...]}) or
//     multi filters ({"filterType": "multi", "filterModels": [...]}); the
//     columns are ANDed.
//
// An empty join matches everything. Conditions are validated against the
// schema: unknown columns, condition types, wrong-kind values and bad dates
// are *Error values naming them.
func ParseFilter(raw FilterModel, schema Schema) (Node, error) {
	if isNull(raw) {
		return nil, nil
	}
	m, err := object(raw, "filterModel")
	if err != nil {
		return nil, err
	}
	if len(m) == 0 {
		return nil, nil
	}
	p := &filterParser{schema: schema}
	if m.isNode() {
		return p.node(m, "filterModel", 1, "", "")
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var children []Node
	for _, colID := range keys {
		if isNull(m[colID]) {
			continue
		}
		path := "filterModel." + colID
		if _, err := schema.Column(colID, path); err != nil {
			return nil, err
		}
		sub, err := object(m[colID], path)
		if err != nil {
			return nil, err
		}
		n, err := p.node(sub, path, 1, colID, "")
		if err != nil {
			return nil, err
		}
		if n != nil {
			children = append(children, n)
		}
	}
	return combine("AND", children, false), nil
}

// combine joins parsed children; anyAll reports that a child matched
// everything (an empty join), which makes an OR match everything.
func combine(op string, children []Node, anyAll bool) Node {
	if op == "OR" && anyAll {
		return nil
	}
	switch len(children) {
	case 0:
		return nil
	case 1:
		return children[0]
	}
	if op == "OR" {
		return &Or{Children: children}
	}
	return &And{Children: children}
}

func (p *filterParser) node(m rawNode, path string, depth int, colID, inheritedType string) (Node, error) {
	if depth > MaxDepth {
		return nil, errorf(path, "filterModel nests deeper than %d levels at %s", MaxDepth, path)
	}
	ft, err := m.str("filterType", path)
	if err != nil {
		return nil, err
	}
	typ, err := m.str("type", path)
	if err != nil {
		return nil, err
	}
	cid, err := m.str("colId", path)
	if err != nil {
		return nil, err
	}
	if cid != "" {
		if colID != "" && cid != colID {
			return nil, errorf(path+".colId", "condition on column %s at %s is inside the filter of column %s", cid, path, colID)
		}
		colID = cid
	}
	ftl := strings.ToLower(ft)
	if ftl == "" {
		ftl = inheritedType
	}
	switch {
	case ftl == "join" || (ft == "" && cid == "" && m.has("conditions") && isAndOr(typ)):
		return p.join(m, path, depth, colID, typ)
	case ftl == "multi":
		return p.multi(m, path, depth, colID)
	case m.has("conditions") || m.has("condition1") || m.has("condition2"):
		return p.combined(m, path, depth, colID, ftl)
	}
	return p.leaf(m, path, colID, ftl, typ)
}

func isAndOr(s string) bool {
	s = strings.ToUpper(s)
	return s == "AND" || s == "OR"
}

func (p *filterParser) children(items []json.RawMessage, path, key string, depth int, colID, ft string) ([]Node, bool, error) {
	var out []Node
	anyAll := false
	for i, raw := range items {
		if isNull(raw) {
			continue
		}
		cpath := fmt.Sprintf("%s.%s[%d]", path, key, i)
		sub, err := object(raw, cpath)
		if err != nil {
			return nil, false, err
		}
		n, err := p.node(sub, cpath, depth+1, colID, ft)
		if err != nil {
			return nil, false, err
		}
		if n == nil {
			anyAll = true
			continue
		}
		out = append(out, n)
	}
	return out, anyAll, nil
}

func (p *filterParser) join(m rawNode, path string, depth int, colID, typ string) (Node, error) {
	op := strings.ToUpper(typ)
	if !isAndOr(op) {
		return nil, errorf(path+".type", "invalid join type %q at %s.type; allowed: AND, OR", typ, path)
	}
	if !m.has("conditions") {
		return nil, nil
	}
	items, err := m.array("conditions", path)
	if err != nil {
		return nil, err
	}
	children, anyAll, err := p.children(items, path, "conditions", depth, colID, "")
	if err != nil {
		return nil, err
	}
	return combine(op, children, anyAll), nil
}

func (p *filterParser) multi(m rawNode, path string, depth int, colID string) (Node, error) {
	if !m.has("filterModels") {
		return nil, nil
	}
	items, err := m.array("filterModels", path)
	if err != nil {
		return nil, err
	}
	children, _, err := p.children(items, path, "filterModels", depth, colID, "")
	if err != nil {
		return nil, err
	}
	return combine("AND", children, false), nil
}

// combined parses a column filter with several conditions: AG Grid's
// {"operator", "conditions"} or the older {"operator", "condition1",
// "condition2"}; sub-conditions inherit the column and filterType.
func (p *filterParser) combined(m rawNode, path string, depth int, colID, ft string) (Node, error) {
	opr, err := m.str("operator", path)
	if err != nil {
		return nil, err
	}
	op := strings.ToUpper(opr)
	if op == "" {
		op = "AND"
	}
	if !isAndOr(op) {
		return nil, errorf(path+".operator", "invalid operator %q at %s.operator; allowed: AND, OR", opr, path)
	}
	var children []Node
	var anyAll bool
	if m.has("conditions") {
		items, err := m.array("conditions", path)
		if err != nil {
			return nil, err
		}
		if children, anyAll, err = p.children(items, path, "conditions", depth, colID, ft); err != nil {
			return nil, err
		}
	} else {
		for _, key := range []string{"condition1", "condition2"} {
			if !m.has(key) {
				continue
			}
			items := []json.RawMessage{m[key]}
			c, all, err := p.children(items, path, key, depth, colID, ft)
			if err != nil {
				return nil, err
			}
			children, anyAll = append(children, c...), anyAll || all
		}
	}
	return combine(op, children, anyAll), nil
}

func (p *filterParser) leaf(m rawNode, path, colID, ft, typ string) (Node, error) {
	if colID == "" {
		return nil, errorf(path+".colId", "condition at %s has no colId", path)
	}
	col, err := p.schema.Column(colID, path+".colId")
	if err != nil {
		return nil, err
	}
	if !filterTypes[ft] {
		return nil, errorf(path+".filterType", "unknown filterType %q at %s.filterType; allowed: %s", ft, path, allowedFilterTypes)
	}
	p.conditions++
	if p.conditions > MaxConditions {
		return nil, errorf(path, "filterModel has more than %d conditions", MaxConditions)
	}
	if typ == "" && (ft == "set" || m.has("values")) {
		typ = "isAnyOf"
	}
	allowed := allowedOps(col)
	if typ == "" {
		return nil, errorf(path+".type", "condition on %s at %s has no type; allowed: %s", colID, path, strings.Join(allowed, ", "))
	}
	op := ""
	for _, a := range allowed {
		if strings.EqualFold(a, typ) {
			op = a
		}
	}
	if op == "" {
		if ft == "set" && !col.Set {
			return nil, errorf(path+".filterType", "column %s does not accept set filters at %s", colID, path)
		}
		return nil, errorf(path+".type", "unknown filter type %q for column %s (%s) at %s.type; allowed: %s", typ, colID, col.Kind, path, strings.Join(allowed, ", "))
	}
	c := &Condition{ColID: colID, Column: col}
	switch op {
	case "isAnyOf", "isNoneOf":
		return p.set(m, path, c, op == "isNoneOf")
	case "blank":
		c.Op = OpBlank
		return c, nil
	case "notBlank":
		c.Op = OpNotBlank
		return c, nil
	}
	value := func(key, alt string) (json.RawMessage, error) {
		if m.has(key) {
			return m[key], nil
		}
		if alt != "" && m.has(alt) {
			return m[alt], nil
		}
		return nil, errorf(path+"."+key, "condition %s on %s at %s needs a value in %s.%s", op, colID, path, path, key)
	}
	bad := func(key string, err error) error {
		return errorf(path+"."+key, "invalid value for %s condition on %s (%s) at %s.%s: %v", op, colID, col.Kind, path, key, err)
	}
	switch col.Kind {
	case KindText, KindEnum:
		raw, err := value("filter", "")
		if err != nil {
			return nil, err
		}
		s, err := textValue(raw)
		if err != nil {
			return nil, bad("filter", err)
		}
		if col.Kind == KindEnum {
			return enumCondition(c, op, s, path)
		}
		c.Op, c.Values = Op(op), []any{s}
		return c, nil
	case KindNumber:
		raw, err := value("filter", "")
		if err != nil {
			return nil, err
		}
		v, err := numberValue(raw)
		if err != nil {
			return nil, bad("filter", err)
		}
		c.Op, c.Values = Op(op), []any{v}
		if op == "inRange" {
			raw, err := value("filterTo", "")
			if err != nil {
				return nil, err
			}
			to, err := numberValue(raw)
			if err != nil {
				return nil, bad("filterTo", err)
			}
			if toFloat(v) > toFloat(to) {
				return nil, errorf(path+".filterTo", "inRange on %s at %s: filter %v is greater than filterTo %v", colID, path, v, to)
			}
			c.Values = append(c.Values, to)
		}
		return c, nil
	case KindDate:
		raw, err := value("dateFrom", "filter")
		if err != nil {
			return nil, err
		}
		from, err := dateFromJSON(raw)
		if err != nil {
			return nil, bad("dateFrom", err)
		}
		var to dateValue
		if op == "inRange" {
			raw, err := value("dateTo", "filterTo")
			if err != nil {
				return nil, err
			}
			if to, err = dateFromJSON(raw); err != nil {
				return nil, bad("dateTo", err)
			}
			if from.t.After(to.t) {
				return nil, errorf(path+".dateTo", "inRange on %s at %s: %s is after %s", colID, path, from.t.Format(time.RFC3339), to.t.Format(time.RFC3339))
			}
		}
		return dateCondition(c, Op(op), from, to), nil
	case KindBool:
		c.Op = OpEquals
		switch op {
		case "true", "false":
			c.Values = []any{op == "true"}
			return c, nil
		}
		raw, err := value("filter", "")
		if err != nil {
			return nil, err
		}
		b, err := boolValue(raw)
		if err != nil {
			return nil, bad("filter", err)
		}
		c.Op, c.Values = Op(op), []any{b}
		return c, nil
	}
	return nil, errorf(path, "column %s has an unsupported kind", colID)
}

func toFloat(v any) float64 {
	switch v := v.(type) {
	case int64:
		return float64(v)
	case float64:
		return v
	}
	return 0
}

// enumCondition makes exact (indexable) comparisons of an enum: equals and
// notEqual check the value; contains, startsWith and friends become the set
// of allowed values that match.
func enumCondition(c *Condition, op, s, path string) (Node, error) {
	col := c.Column
	switch op {
	case "equals", "notEqual":
		v, ok := col.enumValue(s)
		if !ok {
			return nil, errorf(path+".filter", "%q at %s.filter is not a value of %s; allowed: %s", s, path, c.ColID, quoteAll(col.Values))
		}
		c.Op, c.Values = OpIn, []any{v}
		if op == "notEqual" {
			c.Op = OpNotIn
		}
		return c, nil
	}
	needle := strings.ToLower(s)
	c.Op, c.Values = OpIn, []any{}
	if op == "notContains" {
		c.Op = OpNotIn
	}
	for _, v := range col.Values {
		var ok bool
		switch op {
		case "contains", "notContains":
			ok = strings.Contains(v, needle)
		case "startsWith":
			ok = strings.HasPrefix(v, needle)
		case "endsWith":
			ok = strings.HasSuffix(v, needle)
		}
		if ok {
			c.Values = append(c.Values, v)
		}
	}
	return c, nil
}

// dateCondition compares with an instant, or with a whole UTC day when only
// a date was given: equals a day is [day, day+1), lessThan a day is before
// it, lessThanOrEqual is before the next, and inRange includes both ends.
func dateCondition(c *Condition, op Op, from, to dateValue) Node {
	at := func(op Op, t time.Time) *Condition {
		return &Condition{ColID: c.ColID, Column: c.Column, Op: op, Values: []any{t}}
	}
	if op == OpInRange {
		lower := at(OpGreaterThanOrEqual, from.t)
		upper := at(OpLessThanOrEqual, to.t)
		if to.day {
			upper = at(OpLessThan, to.t.AddDate(0, 0, 1))
		}
		return &And{Children: []Node{lower, upper}}
	}
	if !from.day {
		return at(op, from.t)
	}
	day, next := from.t, from.t.AddDate(0, 0, 1)
	switch op {
	case OpEquals:
		return &And{Children: []Node{at(OpGreaterThanOrEqual, day), at(OpLessThan, next)}}
	case OpNotEqual:
		return &Or{Children: []Node{at(OpLessThan, day), at(OpGreaterThanOrEqual, next)}}
	case OpLessThan:
		return at(OpLessThan, day)
	case OpLessThanOrEqual:
		return at(OpLessThan, next)
	case OpGreaterThan:
		return at(OpGreaterThanOrEqual, next)
	}
	return at(OpGreaterThanOrEqual, day)
}

// set parses a set condition (AG Grid's set filter, or the advanced filter's
// isAnyOf/isNoneOf) from values or, failing that, an array in filter. A null
// value stands for blank.
func (p *filterParser) set(m rawNode, path string, c *Condition, exclude bool) (Node, error) {
	col := c.Column
	if !col.Set {
		return nil, errorf(path, "column %s does not accept set filters (values, isAnyOf, isNoneOf) at %s", c.ColID, path)
	}
	key := "values"
	if !m.has(key) && m.has("filter") {
		key = "filter"
	}
	var items []json.RawMessage
	if m.has(key) {
		var err error
		if items, err = m.array(key, path); err != nil {
			return nil, err
		}
	}
	if len(items) > MaxValues {
		return nil, errorf(path+"."+key, "set condition on %s at %s has %d values; at most %d", c.ColID, path, len(items), MaxValues)
	}
	c.Op, c.Values = OpIn, []any{}
	if exclude {
		c.Op = OpNotIn
	}
	blank := false
	for i, raw := range items {
		vpath := fmt.Sprintf("%s.%s[%d]", path, key, i)
		if isNull(raw) {
			blank = true
			continue
		}
		var v any
		var err error
		switch col.Kind {
		case KindText:
			v, err = textValue(raw)
		case KindEnum:
			var s string
			if s, err = textValue(raw); err == nil {
				var ok bool
				if v, ok = col.enumValue(s); !ok {
					return nil, errorf(vpath, "%q at %s is not a value of %s; allowed: %s", s, vpath, c.ColID, quoteAll(col.Values))
				}
			}
		case KindNumber:
			v, err = numberValue(raw)
		case KindDate:
			var d dateValue
			d, err = dateFromJSON(raw)
			v = d.t
		case KindBool:
			v, err = boolValue(raw)
		}
		if err != nil {
			return nil, errorf(vpath, "invalid value for set condition on %s (%s) at %s: %v", c.ColID, col.Kind, vpath, err)
		}
		c.Values = append(c.Values, v)
	}
	if !blank {
		return c, nil
	}
	b := &Condition{ColID: c.ColID, Column: col, Op: OpBlank}
	if exclude {
		b.Op = OpNotBlank
	}
	if len(c.Values) == 0 {
		return b, nil
	}
	if exclude {
		return &And{Children: []Node{c, b}}, nil
	}
	return &Or{Children: []Node{c, b}}, nil
}
