package server

import (
	"compress/gzip"
	"net/http"

	"github.com/klauspost/compress/gzhttp"
	"github.com/labstack/echo/v4"
)

// compressMinSize is the smallest answer worth compressing.
const compressMinSize = 1024

// compress answers in gzip to clients that accept it, through klauspost's
// gzhttp at its fastest level. At compress/gzip's default level,
// compressing grid pages took much of the server's CPU; the fastest level
// compresses a page nearly as well, and gzhttp writes it faster than
// compress/gzip's fastest level (see docs/performance.md).
// Answers under compressMinSize, and an error answer written after the
// handler returned (by the error handler, outside this middleware), go out
// plain, as with echo's gzip middleware.
func compress() (echo.MiddlewareFunc, error) {
	wrap, err := gzhttp.NewWrapper(
		gzhttp.MinSize(compressMinSize),
		gzhttp.CompressionLevel(gzip.BestSpeed),
		gzhttp.EnableZstd(false),
	)
	if err != nil {
		return nil, err
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			res := c.Response()
			plain := res.Writer
			var err error
			wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				res.Writer = w
				c.SetRequest(r)
				err = next(c)
			})).ServeHTTP(plain, c.Request())
			// The compressor is closed: what is written from here on (an
			// error answer) is written as it is.
			res.Writer = plain
			return err
		}
	}, nil
}
