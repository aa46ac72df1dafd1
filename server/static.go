package server

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"mime"
	"net/http"
	"path"
	"time"

	"github.com/labstack/echo/v4"
)

// Cache-Control values of the embedded files.
const (
	// revalidate: names without a version; the ETag makes a revalidation a
	// cheap 304.
	revalidate = "no-cache"
	// immutable: names carrying a hash of their content never change.
	immutable = "public, max-age=31536000, immutable"
)

// staticFile is an embedded file of the API reference or the console, with
// its content type, ETag and caching.
type staticFile struct {
	name         string
	contentType  string
	etag         string
	cacheControl string
	body         []byte
}

func newStaticFile(name string, body []byte, cacheControl string) staticFile {
	ct := mime.TypeByExtension(path.Ext(name))
	if ct == "" {
		ct = echo.MIMEOctetStream
	}
	sum := sha256.Sum256(body)
	return staticFile{name: name, contentType: ct, etag: `"` + hex.EncodeToString(sum[:16]) + `"`, cacheControl: cacheControl, body: body}
}

// serve answers the file, or 304 when the client's If-None-Match matches.
func (f staticFile) serve(c echo.Context) error {
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, f.contentType)
	h.Set("ETag", f.etag)
	h.Set("Cache-Control", f.cacheControl)
	h.Set(echo.HeaderXContentTypeOptions, "nosniff")
	http.ServeContent(c.Response(), c.Request(), f.name, time.Time{}, bytes.NewReader(f.body))
	return nil
}
