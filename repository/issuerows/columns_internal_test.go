package issuerows

import (
	"database/sql"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"gorm.io/gorm/schema"

	"github.com/policyresults/policyresults/model"
	"github.com/policyresults/policyresults/repository/store"
)

// benchIssues is n issues with every column set, the nullable ones on
// every other row.
func benchIssues(n int) []model.Issue {
	out := make([]model.Issue, n)
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for i := range out {
		v := int64(i)
		is := model.Issue{OrgID: 1, ID: fmt.Sprintf("issue-%06d", i), EntityRef: 7, Scope: "", EntityType: "stack",
			EntityProject: "payments", EntityID: "payments/prod", PolicyPack: "aws-cis", PolicyPackTag: "1.0.0",
			PolicyName: "s3-encryption", ResourceURN: fmt.Sprintf("urn:pulumi:prod::payments::aws:s3/bucket:Bucket::b-%d", i),
			ResourceProvider: "aws", ResourceType: "aws:s3/bucket:Bucket", ResourceName: fmt.Sprintf("b-%d", i),
			Message: "not encrypted", ObservedAt: at, LastModified: at, Level: "mandatory", Severity: "high", SeverityRank: 3,
			Status: "open", StatusRank: 1, Active: true, Kind: "audit", Priority: "p2", PolicyGroupName: "default",
			PolicyGroupType: "stacks", Revision: 1, NameRef: v, MessageRef: 2, URNPrefixRef: 3, URNSuffixRef: v}
		if i%2 == 0 {
			is.StackVersion, is.ResourceVersion, is.AssigneeID = &v, &v, &v
			is.AssigneeLogin, is.AssigneeEmail = "alice", "alice@example.com"
		}
		out[i] = is
	}
	return out
}

// BenchmarkIssueArrays lays out one PostgreSQL bulk statement's issues as
// unnest arrays.
func BenchmarkIssueArrays(b *testing.B) {
	rows := benchIssues(store.ArrayRows)
	b.ReportAllocs()
	for b.Loop() {
		arrays(rows)
	}
}

// ColumnNames and ColumnTypes are the registry's column names
// and PostgreSQL types, for the test against the migrated tables.
var (
	ColumnNames = columnNames(table)
	ColumnTypes = func() map[string]string {
		out := map[string]string{}
		for _, c := range table {
			out[c.name] = c.pgType
		}
		return out
	}()
)

// TestIssueColumnsMatchModel checks that the registry lists model.Issue's
// fields as GORM maps them, in order, and that each column reads and writes
// its own field: an issue with a distinct value in every field goes through
// each column's array, argument and scan destinations (database/sql's and
// pgx's) unchanged.
func TestIssueColumnsMatchModel(t *testing.T) {
	s, err := schema.Parse(&model.Issue{}, &sync.Map{}, schema.NamingStrategy{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(s.DBNames, ColumnNames) {
		t.Fatalf("model.Issue's columns\n %v\nregistry's\n %v", s.DBNames, ColumnNames)
	}
	var want model.Issue
	v := reflect.ValueOf(&want).Elem()
	for i := range v.NumField() {
		switch f := v.Field(i); f.Interface().(type) {
		case string:
			f.SetString(fmt.Sprintf("text %d", i))
		case int64, int:
			f.SetInt(int64(i + 100))
		case bool:
			f.SetBool(true)
		case *int64:
			n := int64(i + 1000)
			f.Set(reflect.ValueOf(&n))
		case time.Time:
			f.Set(reflect.ValueOf(time.Date(2026, 1, i, 0, 0, 0, 0, time.UTC)))
		case *time.Time:
			at := time.Date(2027, 1, i, 0, 0, 0, 0, time.UTC)
			f.Set(reflect.ValueOf(&at))
		default:
			t.Fatalf("field %s of type %T has no test value", v.Type().Field(i).Name, f.Interface())
		}
	}
	var got, gotPgx model.Issue
	for i, c := range table {
		field := v.Field(s.FieldsByDBName[c.name].StructField.Index[0])
		arr := reflect.ValueOf(c.array([]model.Issue{want})).Index(0)
		switch a := arr.Interface().(type) {
		case int32:
			arr = reflect.ValueOf(int(a))
		}
		if !reflect.DeepEqual(arr.Interface(), field.Interface()) {
			t.Errorf("column %d %s: array value %v, field %v", i, c.name, arr.Interface(), field.Interface())
		}
		if arg := c.arg(&want); !reflect.DeepEqual(arg, field.Interface()) {
			t.Errorf("column %d %s: argument %v, field %v", i, c.name, arg, field.Interface())
		}
		switch d := c.dest(&got).(type) {
		case sql.Scanner:
			src := field
			if src.Kind() == reflect.Pointer {
				src = src.Elem()
			}
			if err := d.Scan(src.Interface()); err != nil {
				t.Fatal(err)
			}
		default:
			reflect.ValueOf(d).Elem().Set(field)
		}
		d, finish := c.pgxDest(&gotPgx)
		switch d := d.(type) {
		case *pgtype.Int8:
			*d = pgtype.Int8{Int64: *field.Interface().(*int64), Valid: true}
		case *pgtype.Timestamptz:
			*d = pgtype.Timestamptz{Time: field.Interface().(*time.Time).Local(), Valid: true}
		default:
			reflect.ValueOf(d).Elem().Set(field)
		}
		if finish != nil {
			finish()
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("scanned\n %+v\nwant\n %+v", got, want)
	}
	if !reflect.DeepEqual(gotPgx, want) {
		t.Errorf("scanned by pgx\n %+v\nwant\n %+v", gotPgx, want)
	}
}
