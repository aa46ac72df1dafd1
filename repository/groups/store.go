// Package groups stores policy groups: the stacks and accounts each holds,
// the packs each applies, the groups and packs that apply to an entity, and
// what the groups protect.
package groups

import (
	"gorm.io/gorm"

	"github.com/policyresults/policyresults/repository/store"
)

// Store serves the policy groups of one database.
type Store struct {
	store   *store.Store
	db      *gorm.DB
	dialect store.Dialect
}

// New returns the policy groups of s.
func New(s *store.Store) *Store {
	return &Store{store: s, db: s.DB(), dialect: s.Dialect()}
}
