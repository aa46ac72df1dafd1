package repository

import "github.com/policyresults/policyresults/grid"

// IssueFilterSQL is the grid's translation of filter into a condition on
// policy_issues, on the issues' own columns: without the facts ListIssues
// reads first (the text dictionary's matching ids, the issue cube's exact
// names, the entities of a type), so it reads as a straightforward
// implementation would write it. The load generator's naive baseline
// (cmd/policyresults-bench/naive) queries the issues with it. Values are
// bound: the arguments go with the condition.
func (r *Repository) IssueFilterSQL(filter grid.Node) (string, []any) {
	return whereClause(filter, r.dialect)
}

// IssueOrderSQL is the grid's ORDER BY list for sort on policy_issues,
// ending with the issue id as the tie-breaker, as ListIssues orders a page.
func (r *Repository) IssueOrderSQL(sort []grid.SortKey) string {
	return orderClause(sort, "policy_issues.id", r.dialect)
}
