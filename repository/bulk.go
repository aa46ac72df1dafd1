package repository

import (
	"time"

	"gorm.io/gorm"

	"github.com/policyresults/policyresults/ingest"
	"github.com/policyresults/policyresults/model"
	"github.com/policyresults/policyresults/repository/issuerows"
	"github.com/policyresults/policyresults/repository/store"
)

// PostgreSQL bulk writes of the ingest path. A multi-row VALUES statement
// binds one parameter per cell, so each batch size is a new statement for
// PostgreSQL to parse and plan (see docs/performance.md).
// unnest over one array per column is a single statement text
// whatever the number of rows: pgx binds each Go slice as one array, the
// plan is cached per connection, and the rows stream through one executor
// node.

// insertHistoryPG appends history rows.
func insertHistoryPG(tx *gorm.DB, rows []model.HistoryEntry) error {
	for _, batch := range store.Chunk(rows, store.ArrayRows) {
		c := historyArrays(batch)
		if err := store.ExecArrays(tx, c.InsertSQL("issue_history", "", 1), c.Args...); err != nil {
			return err
		}
	}
	return nil
}

// historyArrays lays history rows out as unnest columns.
func historyArrays(rows []model.HistoryEntry) *store.Arrays {
	n := len(rows)
	orgID := make([]int64, n)
	issueID, actor, actorType, field := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	at := make([]time.Time, n)
	oldV, newV, batchID, reason := make([]*string, n), make([]*string, n), make([]*string, n), make([]*string, n)
	for i := range rows {
		h := &rows[i]
		batchID[i], reason[i] = h.BatchID, h.Reason
		orgID[i], issueID[i], at[i] = h.OrgID, h.IssueID, h.At.UTC()
		actor[i], actorType[i], field[i], oldV[i], newV[i] = h.Actor, h.ActorType, h.Field, h.OldValue, h.NewValue
	}
	c := &store.Arrays{}
	c.Add("org_id", "bigint", orgID)
	c.Add("issue_id", "text", issueID)
	c.Add("at", "timestamptz", at)
	c.Add("actor", "text", actor)
	c.Add("actor_type", "text", actorType)
	c.Add("field", "text", field)
	c.Add("old_value", "text", oldV)
	c.Add("new_value", "text", newV)
	c.Add("batch_id", "text", batchID)
	c.Add("reason", "text", reason)
	return c
}

// upsertResourcesPG writes resource rows, replacing the listed columns of
// existing ones.
func upsertResourcesPG(tx *gorm.DB, rows []model.Resource) error {
	for _, batch := range store.Chunk(rows, store.ArrayRows) {
		n := len(batch)
		orgID, entityID, version := make([]int64, n), make([]int64, n), make([]int64, n)
		urn, rid, typ, provider, name := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		governed := make([]bool, n)
		updated := make([]time.Time, n)
		for i := range batch {
			r := &batch[i]
			orgID[i], entityID[i], urn[i], rid[i] = r.OrgID, r.EntityID, r.URN, r.ResourceID
			typ[i], provider[i], name[i], version[i] = r.Type, r.Provider, r.Name, r.Version
			governed[i], updated[i] = r.Governed, r.UpdatedAt.UTC()
		}
		c := &store.Arrays{}
		c.Add("org_id", "bigint", orgID)
		c.Add("entity_id", "bigint", entityID)
		c.Add("urn", "text", urn)
		c.Add("resource_id", "text", rid)
		c.Add("type", "text", typ)
		c.Add("provider", "text", provider)
		c.Add("name", "text", name)
		c.Add("version", "bigint", version)
		c.Add("governed", "boolean", governed)
		c.Add("updated_at", "timestamptz", updated)
		suffix := `ON CONFLICT (org_id, entity_id, urn) DO UPDATE SET resource_id = EXCLUDED.resource_id, type = EXCLUDED.type,
			provider = EXCLUDED.provider, name = EXCLUDED.name, version = EXCLUDED.version, governed = EXCLUDED.governed,
			updated_at = EXCLUDED.updated_at`
		if err := store.ExecArrays(tx, c.InsertSQL("resources", suffix, 1), c.Args...); err != nil {
			return err
		}
	}
	return nil
}

// insertOutcomesPG inserts policy outcomes.
func insertOutcomesPG(tx *gorm.DB, rows []model.PolicyOutcome) error {
	for _, batch := range store.Chunk(rows, store.ArrayRows) {
		n := len(batch)
		orgID, entityID := make([]int64, n), make([]int64, n)
		groupID := make([]*int64, n)
		scope, pack, policy, severity, level := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		governed := make([]int32, n)
		for i := range batch {
			o := &batch[i]
			orgID[i], entityID[i], scope[i], pack[i], policy[i] = o.OrgID, o.EntityID, o.Scope, o.PackName, o.PolicyName
			severity[i], level[i], governed[i], groupID[i] = o.Severity, o.EnforcementLevel, int32(o.Governed), o.GroupID
		}
		c := &store.Arrays{}
		c.Add("org_id", "bigint", orgID)
		c.Add("entity_id", "bigint", entityID)
		c.Add("scope", "text", scope)
		c.Add("pack_name", "text", pack)
		c.Add("policy_name", "text", policy)
		c.Add("severity", "text", severity)
		c.Add("enforcement_level", "text", level)
		c.Add("governed", "integer", governed)
		c.Add("group_id", "bigint", groupID)
		if err := store.ExecArrays(tx, c.InsertSQL("policy_outcomes", "", 1), c.Args...); err != nil {
			return err
		}
	}
	return nil
}

// writeIssuesPG is writeIssues on PostgreSQL.
func writeIssuesPG(tx *gorm.DB, orgID int64, d *ingest.Diff) error {
	if err := issuerows.InsertPG(tx, d.Inserts, false); err != nil {
		return translate(err, "an issue of this evaluation was written concurrently; retry")
	}
	if err := issuerows.InsertPG(tx, d.Updates, true); err != nil {
		return err
	}
	if len(d.Unaccepted) > 0 {
		if err := store.ExecArrays(tx, `UPDATE policy_issues SET accepted_until = NULL, acceptance_reason = ''
			WHERE org_id = $1 AND id = ANY($2::text[])`, orgID, d.Unaccepted); err != nil {
			return err
		}
	}
	for v, ids := range d.Moved {
		var stack, resource *int64
		if v.HasStack {
			stack = &v.Stack
		}
		if v.HasResource {
			resource = &v.Resource
		}
		for _, batch := range store.Chunk(ids, store.ArrayRows) {
			if err := store.ExecArrays(tx, `UPDATE policy_issues SET stack_version = $1, resource_version = $2
				WHERE org_id = $3 AND id = ANY($4::text[])`, stack, resource, orgID, batch); err != nil {
				return err
			}
		}
	}
	return nil
}
