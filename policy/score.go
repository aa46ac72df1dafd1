package policy

// Marks in place of a score.
const (
	// ScoreNotApplicable marks a pack that never ran on the entity.
	ScoreNotApplicable = -1
	// ScoreError marks a pack whose latest evaluation could not run.
	ScoreError = -2
)

// Score is a pack's compliance on an entity: 100 × passing / evaluated
// policies, rounded down, where a policy passes without an active issue;
// 100 when no policy was evaluated, ScoreError when every evaluation of the
// pack failed to run. The SQL of the per-policy and trend scores
// (repository/compliance/policies.go, repository/trends/write.go) computes the
// same formula in the database.
func Score(allError bool, total, failing int) int {
	switch {
	case allError:
		return ScoreError
	case total == 0:
		return 100
	case failing > total:
		failing = total
	}
	return 100 * (total - failing) / total
}
