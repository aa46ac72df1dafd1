package issuequery

import (
	"fmt"
	"math"
	"strconv"

	"github.com/policyresults/policyresults/grid"
	"github.com/policyresults/policyresults/repository/issuerows"
)

// scanColumnValue converts a scanned value to the Go type of the column's kind:
// string, int64 or float64, time.Time (UTC), bool; NULL stays nil.
func scanColumnValue(col grid.ColumnDef, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch col.Kind {
	case grid.KindText, grid.KindEnum:
		switch v := v.(type) {
		case string:
			return v, nil
		case []byte:
			return string(v), nil
		}
		return fmt.Sprint(v), nil
	case grid.KindNumber:
		return scanNumber(v)
	case grid.KindDate:
		return issuerows.ScanTime(v)
	case grid.KindBool:
		switch v := v.(type) {
		case bool:
			return v, nil
		case int64:
			return v != 0, nil
		}
	}
	return nil, fmt.Errorf("unexpected value %T for a %s column", v, col.Kind)
}

func scanInt(v any) (int64, error) {
	n, err := scanNumber(v)
	if err != nil {
		return 0, err
	}
	switch n := n.(type) {
	case int64:
		return n, nil
	case float64:
		return int64(n), nil
	}
	return 0, fmt.Errorf("unexpected number %v", n)
}

func scanNumber(v any) (any, error) {
	switch v := v.(type) {
	case int64:
		return v, nil
	case int32:
		return int64(v), nil
	case int16:
		return int64(v), nil
	case int:
		return int64(v), nil
	case float64:
		if v == math.Trunc(v) && math.Abs(v) < 1<<53 {
			return int64(v), nil
		}
		return v, nil
	case []byte:
		return scanNumber(string(v))
	case string:
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return n, nil
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a number", v)
		}
		return f, nil
	}
	return nil, fmt.Errorf("unexpected number type %T", v)
}
