// Package accounts stores organisations, users, their memberships and
// tokens, and authenticates a request's token.
package accounts

import (
	"gorm.io/gorm"

	"github.com/policyresults/policyresults/repository/store"
)

// Store serves the accounts of one database.
type Store struct {
	store   *store.Store
	db      *gorm.DB
	dialect store.Dialect
}

// New returns the accounts of s.
func New(s *store.Store) *Store {
	return &Store{store: s, db: s.DB(), dialect: s.Dialect()}
}
