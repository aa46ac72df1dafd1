package grid

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// maxExactFloat bounds the integers a float64 holds exactly.
const maxExactFloat = 1 << 53

// dateValue is a parsed date; day is set when only a calendar day was given.
type dateValue struct {
	t   time.Time
	day bool
}

// dateLayouts are tried in order; the first two give calendar days.
var dateLayouts = []struct {
	layout string
	day    bool
}{
	{"2006-01-02", true},
	{"2006-01-02 15:04:05", false},
	{"2006-01-02T15:04:05", false},
	{time.RFC3339Nano, false},
	{"2006-01-02 15:04:05Z07:00", false},
	{"2006-01-02 15:04:05.999999999Z07:00", false},
}

// parseDate reads YYYY-MM-DD, YYYY-MM-DD hh:mm:ss (UTC) or RFC 3339. A
// date-only value, or AG Grid's midnight "YYYY-MM-DD 00:00:00" (how its date
// filter sends a picked day), is a calendar day in UTC.
func parseDate(s string) (dateValue, error) {
	s = strings.TrimSpace(s)
	for _, l := range dateLayouts {
		t, err := time.Parse(l.layout, s)
		if err != nil {
			continue
		}
		t = t.UTC()
		day := l.day || (l.layout == "2006-01-02 15:04:05" && t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0)
		return dateValue{t: t, day: day}, nil
	}
	return dateValue{}, errors.New("expected YYYY-MM-DD, YYYY-MM-DD hh:mm:ss or RFC 3339")
}

// numberFromString parses a decimal number; integral values become int64.
func numberFromString(s string) (any, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, errors.New("not a number")
	}
	if f == math.Trunc(f) && math.Abs(f) <= maxExactFloat {
		return int64(f), nil
	}
	return f, nil
}

// isNull reports an absent or null JSON value.
func isNull(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) == 0 || bytes.Equal(t, []byte("null"))
}

// jsonScalar decodes a JSON string, number or boolean.
func jsonScalar(raw json.RawMessage) (any, error) {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// describeJSON shows a raw value in an error message.
func describeJSON(raw json.RawMessage) string {
	s := string(bytes.TrimSpace(raw))
	if len(s) > 60 {
		s = s[:60] + "…"
	}
	return s
}

// textValue reads a string (or number, as written) for a text or enum
// condition.
func textValue(raw json.RawMessage) (string, error) {
	v, err := jsonScalar(raw)
	if err != nil {
		return "", fmt.Errorf("%s is not a string", describeJSON(raw))
	}
	switch v := v.(type) {
	case string:
		return v, nil
	case json.Number:
		return v.String(), nil
	}
	return "", fmt.Errorf("%s is not a string", describeJSON(raw))
}

// numberValue reads a JSON number or a numeric string.
func numberValue(raw json.RawMessage) (any, error) {
	v, err := jsonScalar(raw)
	if err == nil {
		switch v := v.(type) {
		case json.Number:
			return numberFromString(v.String())
		case string:
			if n, err := numberFromString(v); err == nil {
				return n, nil
			}
		}
	}
	return nil, fmt.Errorf("%s is not a number", describeJSON(raw))
}

// dateFromJSON reads a JSON string holding a date.
func dateFromJSON(raw json.RawMessage) (dateValue, error) {
	v, err := jsonScalar(raw)
	s, ok := v.(string)
	if err != nil || !ok {
		return dateValue{}, fmt.Errorf("%s is not a date string (YYYY-MM-DD, YYYY-MM-DD hh:mm:ss or RFC 3339)", describeJSON(raw))
	}
	d, err := parseDate(s)
	if err != nil {
		return dateValue{}, fmt.Errorf("%q is not a date (YYYY-MM-DD, YYYY-MM-DD hh:mm:ss or RFC 3339)", s)
	}
	return d, nil
}

// boolValue reads a JSON boolean or "true"/"false".
func boolValue(raw json.RawMessage) (bool, error) {
	v, err := jsonScalar(raw)
	if err == nil {
		switch v := v.(type) {
		case bool:
			return v, nil
		case string:
			if b, err := strconv.ParseBool(v); err == nil {
				return b, nil
			}
		}
	}
	return false, fmt.Errorf("%s is not a boolean", describeJSON(raw))
}
