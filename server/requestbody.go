package server

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
	"github.com/labstack/echo/v4"
)

// acceptedEncodings names the request Content-Encodings the server decodes,
// for the 415 answer.
const acceptedEncodings = `"gzip" (or "x-gzip") and "identity"`

// requestBodies bounds and decodes the bodies of the operations that take
// one, in place of echo's BodyLimit and Decompress middlewares: the limit
// (limit, or archiveLimit for a pack archive) counts the bytes after
// decoding, and a gzip body is inflated as it is read, so a small body that
// inflates past the limit is refused after limit bytes whatever it would
// inflate to. Everything after this middleware (the request validator, the
// limits walker, the handlers) reads the decoded body and sees no
// Content-Encoding. A Content-Encoding other than gzip or identity is 415.
//
// Operations without a body never read one, so their Content-Encoding is
// ignored, as is what a client sends along with a GET.
//
// Our own rather than echo's Decompress followed by BodyLimit: Decompress
// hands a bad gzip header to the error handler as a bare error (a 500),
// knows neither x-gzip nor a 415, and leaves the compressed bytes
// unbounded; BodyLimit would check Content-Length
// against the compressed size.
func (s *Server) requestBodies(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		op := s.routeOp(c)
		if op == nil || op.RequestBody == nil || req.Body == nil || req.Body == http.NoBody {
			return next(c)
		}
		limit := s.bodyLimit
		if op.OperationID == "UploadPolicyPackArchive" {
			limit = s.archiveLimit
		}
		gzipped, err := gzipEncoded(req.Header.Values(echo.HeaderContentEncoding))
		if err != nil {
			return err
		}
		sent := limit
		if gzipped {
			sent = compressedLimit(limit)
		}
		if req.ContentLength > sent {
			if gzipped {
				return compressedTooLarge(sent)
			}
			return bodyTooLarge(limit, false)
		}
		b := &boundedBody{sent: req.Body, left: limit, limit: limit, gzipped: gzipped}
		// A shallow copy: the server's own request keeps its body, which
		// tells the server whether the connection can be reused after a
		// body read only in part.
		req = req.WithContext(req.Context())
		if gzipped {
			// The compressed bytes are bounded too: deflate may spend any
			// number of bytes on empty blocks (and gzip on empty members)
			// that inflate to nothing.
			b.sent = http.MaxBytesReader(c.Response().Writer, req.Body, sent)
			req.Header = req.Header.Clone()
			req.Header.Del(echo.HeaderContentEncoding)
			req.Header.Del(echo.HeaderContentLength)
			req.ContentLength = -1
		} else {
			b.decoded = req.Body
		}
		req.Body = b
		c.SetRequest(req)
		return next(c)
	}
}

// gzipEncoded tells a gzip body (true) from a plain one (false) by the
// request's Content-Encoding header lines; any other coding, or more than
// one, is a 415.
func gzipEncoded(lines []string) (bool, error) {
	var codings []string
	for _, line := range lines {
		for _, coding := range strings.Split(line, ",") {
			coding = strings.ToLower(strings.TrimSpace(coding))
			if coding != "" && coding != "identity" {
				codings = append(codings, coding)
			}
		}
	}
	switch {
	case len(codings) == 0:
		return false, nil
	case len(codings) == 1 && (codings[0] == "gzip" || codings[0] == "x-gzip"):
		return true, nil
	case len(codings) == 1:
		return false, unsupportedEncoding("Content-Encoding %q is not supported; request bodies may be encoded with %s", codings[0], acceptedEncodings)
	}
	return false, unsupportedEncoding("Content-Encoding %q applies %d codings; request bodies may be encoded with one of %s", strings.Join(lines, ", "), len(codings), acceptedEncodings)
}

// compressedLimit bounds the compressed size of a gzip body that may
// inflate to limit bytes: gzip of incompressible data (a pack archive is
// already compressed) is larger than the data, by 5 bytes per 64 KiB stored
// block and its header and trailer.
func compressedLimit(limit int64) int64 {
	return limit + limit>>12 + 1<<10
}

// boundedBody is a request body that yields at most limit decoded bytes:
// the body as sent, or its gzip decoding, inflated as it is read (the gzip
// reader is made on the first Read, so a corrupt header is reported where
// the body is read, like the rest of the stream).
type boundedBody struct {
	sent    io.ReadCloser
	decoded io.Reader // nil until the first Read of a gzip body
	left    int64     // decoded bytes still allowed
	limit   int64
	gzipped bool
	err     error // the first error, answered to every later Read
}

func (b *boundedBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if b.decoded == nil {
		// klauspost's gzip reader rather than compress/gzip: it inflates
		// faster, and the server already depends on it for its answers.
		zr, err := gzip.NewReader(b.sent)
		if err != nil {
			if err == io.EOF {
				// An empty body, whatever its Content-Encoding.
				return 0, io.EOF
			}
			b.err = b.decodeError(err)
			return 0, b.err
		}
		b.decoded = zr
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.decoded.Read(p)
	if int64(n) > b.left {
		b.err = bodyTooLarge(b.limit, b.gzipped)
		return int(b.left), b.err
	}
	b.left -= int64(n)
	if err != nil && err != io.EOF {
		err = b.decodeError(err)
		b.err = err
	}
	return n, err
}

func (b *boundedBody) Close() error { return b.sent.Close() }

// decodeError is the answer to a failed read: 413 when the compressed body
// is over its bound, 400 naming what is wrong with a gzip stream, and the
// error itself when the connection failed.
func (b *boundedBody) decodeError(err error) error {
	var tooLarge *http.MaxBytesError
	var corrupt flate.CorruptInputError
	switch {
	case !b.gzipped:
		return err
	case errors.As(err, &tooLarge):
		return compressedTooLarge(tooLarge.Limit)
	case errors.Is(err, gzip.ErrHeader):
		return badRequest("invalid gzip request body: the gzip header is invalid (is the body really gzip-compressed?)")
	case errors.Is(err, gzip.ErrChecksum):
		return badRequest("invalid gzip request body: the CRC-32 checksum does not match the data")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("invalid gzip request body: the stream is truncated")
	case errors.As(err, &corrupt):
		return badRequest("invalid gzip request body: corrupt deflate data at compressed byte %d", int64(corrupt))
	}
	return err
}

func bodyTooLarge(limit int64, gzipped bool) error {
	if gzipped {
		return &apiError{status: http.StatusRequestEntityTooLarge, message: fmt.Sprintf("Request body too large: it inflates to more than %d bytes", limit)}
	}
	return &apiError{status: http.StatusRequestEntityTooLarge, message: fmt.Sprintf("Request body too large: more than %d bytes", limit)}
}

func compressedTooLarge(limit int64) error {
	return &apiError{status: http.StatusRequestEntityTooLarge, message: fmt.Sprintf("Request body too large: more than %d bytes compressed", limit)}
}

func unsupportedEncoding(format string, args ...any) error {
	return &apiError{status: http.StatusUnsupportedMediaType, message: fmt.Sprintf(format, args...)}
}
