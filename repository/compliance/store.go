// Package compliance keeps the per-entity and per-policy counts of issues
// in the write transactions and answers the compliance matrix, the
// metadata, the violations and per-policy compliance from them.
package compliance

import (
	"gorm.io/gorm"

	"github.com/policyresults/policyresults/repository/store"
)

// Store writes, checks and rebuilds an organisation's counts, and answers
// the compliance reads from them.
type Store struct {
	db      *gorm.DB
	dialect store.Dialect
}

// New returns the counts of the database s.
func New(s *store.Store) *Store { return &Store{db: s.DB(), dialect: s.Dialect()} }
