package repository

import "context"

// MaxTextSet lets tests choose between the two forms of a text match
// (textSets).
var MaxTextSet = &maxTextSet

// NarrowLimit and SmallSegment let tests send small filters down the
// paths of large ones (narrowLimit, smallSegment).
var (
	NarrowLimit  = &narrowLimit
	SmallSegment = &smallSegment
)

// MigrateTo applies the migrations up to version (tests of upgrades).
func (r *Repository) MigrateTo(ctx context.Context, version int64) error {
	p, err := r.migrationProvider()
	if err != nil {
		return err
	}
	_, err = p.UpTo(ctx, version)
	return err
}
