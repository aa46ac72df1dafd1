// Package packs stores policy packs: their versions with their policies,
// their archives and the presigned uploads of them, and the registry's
// listing of published versions.
package packs

import (
	"gorm.io/gorm"

	"github.com/policyresults/policyresults/repository/store"
)

// Store serves the policy packs of one database.
type Store struct {
	store   *store.Store
	db      *gorm.DB
	dialect store.Dialect
}

// New returns the policy packs of s.
func New(s *store.Store) *Store {
	return &Store{store: s, db: s.DB(), dialect: s.Dialect()}
}
