package repository

import (
	"fmt"
	"strconv"
	"strings"

	"gorm.io/gorm"

	"github.com/policyresults/policyresults/repository/webhooks"
)

// writeHookEvents writes c to the webhook outbox in tx, the transaction of
// the change: one event per entity the changes touch (an evaluation's are
// one), when the organisation has an active webhook.
func writeHookEvents(tx *gorm.DB, c *issueChanges) error {
	if len(c.changes) == 0 {
		return nil
	}
	active, err := webhooks.HasActiveHooks(tx, c.orgID)
	if err != nil || !active {
		return err
	}
	for _, e := range hookEvents(c) {
		if err := webhooks.WriteEvent(tx, e); err != nil {
			return err
		}
	}
	return nil
}

// hookEvents summarises c's changes by entity, naming each issue's change
// as the webhook filters do.
func hookEvents(c *issueChanges) []*webhooks.Event {
	type entityKey struct{ typ, project, name string }
	var order []entityKey
	events := map[entityKey]*webhooks.Event{}
	for _, ch := range c.changes {
		change := hookChange(c.cause, ch)
		if change == "" || ch.after == nil {
			continue
		}
		a := ch.after
		typ := "stack"
		if a.EntityType != "stack" {
			typ = "account"
		}
		k := entityKey{typ, a.EntityProject, a.EntityID}
		e := events[k]
		if e == nil {
			e = &webhooks.Event{OrgID: c.orgID, Cause: string(c.cause), EntityType: typ, Project: a.EntityProject, Stack: a.EntityID,
				EvaluationID: c.evaluationID, Actor: c.actor, BatchID: c.batchID}
			if typ != "stack" {
				e.Stack = ""
			}
			events[k] = e
			order = append(order, k)
		}
		ref := webhooks.IssueRef{Change: change, ID: a.ID, Policy: a.PolicyName, PolicyPack: a.PolicyPack, Resource: a.ResourceURN,
			Severity: a.Severity, Level: a.Level}
		if change == webhooks.ChangeTriaged || change == webhooks.ChangeExpired {
			ref.Status, ref.Priority, ref.Assignee = a.Status, a.Priority, a.AssigneeLogin
		}
		e.Add(ref)
	}
	out := make([]*webhooks.Event, 0, len(order))
	for _, k := range order {
		out = append(out, events[k])
	}
	return out
}

// hookChange names what a change did to an issue for the webhook filters,
// "" when nothing they follow changed.
func hookChange(cause changeCause, ch issueChange) string {
	b, a := ch.before, ch.after
	switch cause {
	case causeEvaluation:
		switch {
		case b == nil:
			return webhooks.ChangeOpened
		case a.Status == "fixed" && b.Status != "fixed":
			return webhooks.ChangeFixed
		case b.Status == "fixed" && a.Status != "fixed":
			return webhooks.ChangeReopened
		}
	case causePerson, causeBatch:
		if b != nil && (a.Status != b.Status || a.Priority != b.Priority || a.AssigneeLogin != b.AssigneeLogin ||
			!equalID(a.AssigneeID, b.AssigneeID)) {
			return webhooks.ChangeTriaged
		}
	case causeExpiry:
		return webhooks.ChangeExpired
	}
	return ""
}

func equalID(a, b *int64) bool {
	return (a == nil) == (b == nil) && (a == nil || *a == *b)
}

// hookEventCTE appends to the PostgreSQL triage statement (see recordCTEs)
// the CTE writing c's webhook event, when cond holds and the organisation
// has an active webhook, so that the event commits with the change.
func hookEventCTE(c *issueChanges, q *strings.Builder, args []any, cond string) []any {
	for i, e := range hookEvents(c) {
		// An event is strings and numbers: encoding it cannot fail.
		data, _ := e.Data()
		n := len(args)
		p := func(k int) string { return "$" + strconv.Itoa(n+k) }
		q.WriteString(fmt.Sprintf(`, hook_event_%d AS (INSERT INTO webhook_events (org_id, cause, entity_type, project, stack, evaluation_id, actor, data)
			SELECT %s::bigint, %s, %s, %s, %s, %s::bigint, %s, %s %s AND EXISTS (SELECT 1 FROM webhooks WHERE org_id = %s::bigint AND active))`,
			i, p(1), p(2), p(3), p(4), p(5), p(6), p(7), p(8), cond, p(1)))
		args = append(args, e.OrgID, e.Cause, e.EntityType, e.Project, e.Stack, e.EvaluationID, e.Actor, data)
	}
	return args
}
