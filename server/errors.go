package server

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"syscall"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/labstack/echo/v4"

	"github.com/policyresults/policyresults/gen/api"
	"github.com/policyresults/policyresults/grid"
	"github.com/policyresults/policyresults/repository"
	"github.com/policyresults/policyresults/repository/packs"
	"github.com/policyresults/policyresults/repository/webhooks"
)

// ErrorBody is Pulumi's error body: {"code": <status>, "message": "..."}.
type ErrorBody struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// apiError is an expected failure with a status and a message for the caller.
type apiError struct {
	status  int
	message string
}

func (e *apiError) Error() string { return fmt.Sprintf("%d: %s", e.status, e.message) }

func badRequest(format string, args ...any) error {
	return &apiError{status: http.StatusBadRequest, message: fmt.Sprintf(format, args...)}
}

// noContinuation refuses a continuation token sent to a listing that answers
// everything (every what) in one page: it never issues one.
func noContinuation(token *string, what string) error {
	if deref(token) == "" {
		return nil
	}
	return badRequest("continuationToken: the continuation token is not one this server issued for this listing (it answers every %s in one page); start again without it", what)
}

func forbidden(message string) error {
	return &apiError{status: http.StatusForbidden, message: message}
}

func notFound(message string) error {
	return &apiError{status: http.StatusNotFound, message: message}
}

// notFoundAs words the repository's not found as the thing the request
// named ("Stack not found"); other errors pass unchanged.
func notFoundAs(err error, message string) error {
	if errors.Is(err, repository.ErrNotFound) {
		return notFound(message)
	}
	return err
}

// statusOf is the status an error answers with when it is an expected
// failure (see expected); 0 for any other error.
func statusOf(err error) int {
	var ae *apiError
	if errors.As(expected(err), &ae) {
		return ae.status
	}
	return 0
}

// errorBody renders an expected failure as Pulumi's error body, for the
// operations' typed responses.
func errorBody(err error) api.ErrorResponse {
	var ae *apiError
	if errors.As(expected(err), &ae) {
		return api.ErrorResponse{Code: ae.status, Message: ae.message}
	}
	return api.ErrorResponse{Code: http.StatusInternalServerError, Message: "Internal server error"}
}

// errorHandler is echo's one HTTPErrorHandler: expected failures (see
// expected) answer with their status and message; anything else is logged
// with the request id and answers a generic 500, or 503 when the database
// is unreachable.
func (s *Server) errorHandler(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, message := http.StatusInternalServerError, "Internal server error"
	var ae *apiError
	var he *echo.HTTPError
	switch {
	case errors.As(expected(err), &ae):
		status, message = ae.status, ae.message
	case errors.As(err, &he):
		status = he.Code
		switch m := he.Message.(type) {
		case string:
			message = m
		case error:
			message = m.Error()
		default:
			message = http.StatusText(status)
		}
		if status == http.StatusNotFound && message == "Not Found" {
			message = "Not found: " + c.Request().Method + " " + c.Request().URL.Path
		}
	case isUnavailable(err):
		status, message = http.StatusServiceUnavailable, "Service unavailable: the database is not reachable; try again shortly"
	case errors.Is(err, context.DeadlineExceeded):
		status, message = http.StatusServiceUnavailable, "Service unavailable: the request timed out"
	case errors.Is(err, context.Canceled):
		// The client went away (or the server is stopping): nobody reads
		// this answer, and it is no server fault.
		status, message = http.StatusServiceUnavailable, "Service unavailable: the request was canceled"
	}
	if status >= 500 {
		level := slog.LevelError
		if status == http.StatusServiceUnavailable {
			level = slog.LevelWarn
		}
		s.log.Log(c.Request().Context(), level, "request failed",
			"request_id", c.Response().Header().Get(RequestIDHeader), "operation", s.operationOf(c), "status", status, "error", err)
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(status)
		return
	}
	_ = c.JSON(status, ErrorBody{Code: status, Message: message})
}

// isUnavailable recognises a database that cannot be reached or is
// momentarily busy: the request may succeed if retried, so it answers 503.
func isUnavailable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		// Class 08: connection exception; 57P01-57P03: administrator or
		// crash shutdown, cannot connect now; 53300: too many connections.
		if strings.HasPrefix(pgErr.Code, "08") || pgErr.Code == "57P01" || pgErr.Code == "57P02" || pgErr.Code == "57P03" || pgErr.Code == "53300" {
			return true
		}
	}
	var connectErr *pgconn.ConnectError
	if errors.As(err, &connectErr) || errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) {
		return true
	}
	s := err.Error()
	for _, marker := range []string{"connection refused", "broken pipe", "connection reset", "the database system is", "terminating connection", "bad connection", "conn closed", "no such host", "sql: database is closed", "failed to connect",
		"database is locked", "SQLITE_BUSY"} {
		if strings.Contains(s, marker) {
			return true
		}
	}
	return false
}

// validationMessage turns a kin-openapi request validation error into a
// message that names the field and what is allowed.
func validationMessage(err error) string {
	var re *openapi3filter.RequestError
	hasRequestError := errors.As(err, &re)
	var se *openapi3.SchemaError
	if errors.As(err, &se) {
		// A $ref wrapped in allOf nests the real error in Origin; report the
		// innermost one with the whole path. Within an array the inner error
		// already carries the whole path.
		path := se.JSONPointer()
		for se.Origin != nil {
			var inner *openapi3.SchemaError
			if !errors.As(se.Origin, &inner) {
				break
			}
			if innerPath := inner.JSONPointer(); len(innerPath) >= len(path) && slices.Equal(innerPath[:len(path)], path) {
				path = innerPath
			} else {
				path = append(path, innerPath...)
			}
			se = inner
		}
		field := strings.Join(path, ".")
		where := "request body"
		if hasRequestError && re.Parameter != nil {
			where = re.Parameter.In + " parameter " + re.Parameter.Name
			if field != "" {
				field = re.Parameter.Name + "." + field
			} else {
				field = re.Parameter.Name
			}
		}
		reason := se.Reason
		if se.Origin != nil {
			reason = firstLine(se.Origin.Error())
		}
		if se.SchemaField == "enum" && len(se.Schema.Enum) > 0 {
			allowed := make([]string, 0, len(se.Schema.Enum))
			for _, v := range se.Schema.Enum {
				allowed = append(allowed, fmt.Sprintf("%q", v))
			}
			reason = fmt.Sprintf("%s is not allowed; allowed values: %s", describe(se.Value), strings.Join(allowed, ", "))
		}
		if field == "" {
			return fmt.Sprintf("invalid %s: %s", where, reason)
		}
		return fmt.Sprintf("invalid %s: field %q: %s", where, field, reason)
	}
	if !hasRequestError {
		return firstLine(err.Error())
	}
	if re.Parameter != nil {
		return fmt.Sprintf("invalid %s parameter %q: %v", re.Parameter.In, re.Parameter.Name, firstLine(fmt.Sprint(re.Err)))
	}
	if re.RequestBody != nil && re.Err != nil {
		return "invalid request body: " + firstLine(re.Err.Error())
	}
	return firstLine(re.Error())
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func describe(v any) string {
	switch v := v.(type) {
	case string:
		return fmt.Sprintf("%q", v)
	case nil:
		return "null"
	default:
		return fmt.Sprintf("%v", v)
	}
}

// expected is the one map of expected failures to their API status and
// message: a grid request the parser refuses and the repository's or the
// webhook store's validation 400, a refused presigned upload 403, not found
// 404, conflict 409, stale revision 412. Other errors stay unexpected (echo's
// handler answers them 500 or 503).
//
// Handlers return errors as they come; echo's error handler and errorBody
// (for the operations' typed responses) both map them here.
func expected(err error) error {
	var ge *grid.Error
	var ve *repository.ValidationError
	var ce *repository.ConflictError
	var ude *packs.UploadDeniedError
	var hve *webhooks.ValidationError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ge):
		return badRequest("%s", ge.Message)
	case errors.As(err, &hve):
		return badRequest("%s", hve.Error())
	case errors.Is(err, webhooks.ErrNotFound):
		return notFound("Webhook not found")
	case errors.Is(err, webhooks.ErrConflict):
		return &apiError{status: http.StatusConflict, message: "Conflict: a webhook of this name already exists; choose another name"}
	case errors.As(err, &ude):
		return forbidden(ude.Message)
	case errors.As(err, &ve):
		return &apiError{status: http.StatusBadRequest, message: ve.Error()}
	case errors.As(err, &ce):
		return &apiError{status: http.StatusConflict, message: ce.Message}
	case errors.Is(err, repository.ErrConflict):
		return &apiError{status: http.StatusConflict, message: "Conflict: " + err.Error()}
	case errors.Is(err, repository.ErrNotFound):
		return &apiError{status: http.StatusNotFound, message: "Not found"}
	case errors.Is(err, repository.ErrPreconditionFailed):
		return &apiError{status: http.StatusPreconditionFailed, message: "Precondition failed"}
	}
	return err
}
