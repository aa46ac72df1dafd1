package repository

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/policyresults/policyresults/model"
)

// exportPG streams an export query on PostgreSQL through pgx itself rather
// than database/sql: a million rows through database/sql box every value
// in an interface and convert it again, which cost as much CPU as the rest
// of the export.
func (r *Repository) exportPG(ctx context.Context, query string, args []any, each func(*model.Issue) error) error {
	sqlDB, err := r.db.DB()
	if err != nil {
		return err
	}
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(driverConn any) error {
		sc, ok := driverConn.(*stdlib.Conn)
		if !ok {
			return errors.New("export: the PostgreSQL connection is not a pgx connection")
		}
		rows, err := sc.Conn().Query(ctx, dollarPlaceholders(query), args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		var (
			is                              model.Issue
			stackV, resourceV, assignee     pgtype.Int8
			severityRank, statusRank, revis int32
			accepted                        pgtype.Timestamptz
		)
		dest := []any{&is.OrgID, &is.ID, &is.EntityRef, &is.Scope, &is.EntityType, &is.EntityProject, &is.EntityID,
			&stackV, &resourceV, &is.PolicyPack, &is.PolicyPackTag, &is.PolicyName, &is.ResourceURN,
			&is.ResourceProvider, &is.ResourceType, &is.ResourceName, &is.Message, &is.ObservedAt, &is.LastModified, &is.Level,
			&is.Severity, &severityRank, &is.Status, &statusRank, &is.Active, &is.Kind, &is.Priority, &assignee,
			&is.AssigneeLogin, &is.AssigneeEmail, &is.PolicyGroupName, &is.PolicyGroupType, &revis,
			&accepted, &is.AcceptanceReason}
		for rows.Next() {
			if err := rows.Scan(dest...); err != nil {
				return err
			}
			is.StackVersion, is.ResourceVersion, is.AssigneeID = int8Ptr(stackV), int8Ptr(resourceV), int8Ptr(assignee)
			is.SeverityRank, is.StatusRank, is.Revision = int(severityRank), int(statusRank), int(revis)
			is.ObservedAt, is.LastModified = is.ObservedAt.UTC(), is.LastModified.UTC()
			is.AcceptedUntil = nil
			if accepted.Valid {
				t := accepted.Time.UTC()
				is.AcceptedUntil = &t
			}
			if err := each(&is); err != nil {
				return err
			}
		}
		return rows.Err()
	})
}

func int8Ptr(v pgtype.Int8) *int64 {
	if !v.Valid {
		return nil
	}
	n := v.Int64
	return &n
}

// dollarPlaceholders numbers the ? placeholders of a query the repository
// wrote ($1, $2, ...); its SQL text holds no ? in literals.
func dollarPlaceholders(query string) string {
	var b strings.Builder
	n := 0
	for _, c := range query {
		if c == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}
