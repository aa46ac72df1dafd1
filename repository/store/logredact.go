package store

import (
	"context"

	"gorm.io/gorm/logger"
)

// ParamsFilter makes GORM hand the logger SQL with its placeholders instead
// of the bound values: slow-query and failed-query lines must never show
// token hashes, emails or other values from requests.
func (l *gormLogger) ParamsFilter(_ context.Context, sql string, _ ...any) (string, []any) {
	return sql, nil
}

func init() {
	// Scan and Row record their SQL through GORM's own trace recorder, which
	// consults this package-level filter instead of the logger's.
	logger.RecorderParamsFilter = func(_ context.Context, sql string, _ ...any) (string, []any) {
		return sql, nil
	}
}
