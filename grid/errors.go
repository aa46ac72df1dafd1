package grid

import "fmt"

// Error is a request the parser refuses. Field locates the offending input
// (like "filterModel.conditions[1].colId"); Message says what is wrong and
// what is allowed, and already names Field.
type Error struct {
	Field   string
	Message string
}

func (e *Error) Error() string { return e.Message }

func errorf(field, format string, args ...any) *Error {
	return &Error{Field: field, Message: fmt.Sprintf(format, args...)}
}
