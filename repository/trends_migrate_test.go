package repository_test

import (
	"context"
	"io/fs"
	"reflect"
	"testing"
	"time"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/database"

	"github.com/policyresults/policyresults/demo"
	"github.com/policyresults/policyresults/repository"
	"github.com/policyresults/policyresults/repository/trends"
)

// TestMigrateBackfillsTrends rolls a database with a few weeks of
// evaluations back to before the trends' migration, migrates it again, and
// checks that the migration replayed the history into the same trends the
// ingest had kept, for the organisation it queued and took off the queue.
func TestMigrateBackfillsTrends(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d repository.Dialect) {
		ctx := context.Background()
		repo := openEmpty(t, d)
		if err := repo.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		now := time.Now().UTC()
		res, err := demo.Load(ctx, repo, demo.Options{Seed: 5, Stacks: 2, Accounts: 1, ResourcesPerEntity: 6, Runs: 8, Triage: 10, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		q := trends.Query{From: now.AddDate(0, 0, -70).Format(time.DateOnly), To: now.Format(time.DateOnly), Interval: "week",
			GroupBy: trends.BySeverity}
		kept, err := repo.Trends().Read(ctx, res.Org.ID, q)
		if err != nil {
			t.Fatal(err)
		}
		if len(kept.Series) == 0 {
			t.Fatal("the demo left no trend")
		}

		sqlDB, err := repo.DB().DB()
		if err != nil {
			t.Fatal(err)
		}
		fsys, err := fs.Sub(repository.MigrationFiles(), d.String())
		if err != nil {
			t.Fatal(err)
		}
		dialect := map[repository.Dialect]database.Dialect{
			repository.SQLite: database.DialectSQLite3, repository.Postgres: database.DialectPostgres,
		}[d]
		p, err := goose.NewProvider(dialect, sqlDB, fsys, goose.WithTableName("goose_schema_version"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.DownTo(ctx, 3); err != nil {
			t.Fatal(err)
		}
		if repo.DB().Migrator().HasTable("issue_trends") {
			t.Fatal("issue_trends is still there at version 3")
		}

		if err := repo.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		var queued int64
		if err := repo.DB().Raw(`SELECT COUNT(*) FROM trend_backfills`).Scan(&queued).Error; err != nil {
			t.Fatal(err)
		}
		if queued != 0 {
			t.Errorf("%d organisations still queued for the backfill", queued)
		}
		if err := repo.Trends().Check(ctx, res.Org.ID); err != nil {
			t.Fatal(err)
		}
		replayed, err := repo.Trends().Read(ctx, res.Org.ID, q)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(replayed.Series, kept.Series) || !reflect.DeepEqual(replayed.MeanTimeToFix, kept.MeanTimeToFix) {
			t.Errorf("replayed %+v %+v, kept %+v %+v", replayed.Series, replayed.MeanTimeToFix, kept.Series, kept.MeanTimeToFix)
		}
		// The compliance cells have no history: the backfill records them today.
		for _, c := range replayed.Compliance {
			if last := c.Values[len(c.Values)-1]; last == nil {
				t.Errorf("compliance of %s has no score today", c.Name)
			}
		}
	})
}
