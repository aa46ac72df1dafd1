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

	"github.com/policyresults/policyresults/web/docs"
)

// docsCSP keeps the reference page to what the server itself serves: the
// page works offline and loads nothing from elsewhere. Redoc injects its
// styles at run time (styled-components) and runs its search index in a
// blob: worker.
const docsCSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// docFile is a file of the reference page with its content type and ETag.
type docFile struct {
	name        string
	contentType string
	etag        string
	body        []byte
}

func newDocFile(name string, body []byte) docFile {
	ct := mime.TypeByExtension(path.Ext(name))
	if ct == "" {
		ct = echo.MIMEOctetStream
	}
	sum := sha256.Sum256(body)
	return docFile{name: name, contentType: ct, etag: `"` + hex.EncodeToString(sum[:16]) + `"`, body: body}
}

// serve answers the file, or 304 when the client's If-None-Match matches.
func (f docFile) serve(c echo.Context) error {
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, f.contentType)
	h.Set("ETag", f.etag)
	// Revalidate every time: the names carry no version, and a 304 is cheap.
	h.Set("Cache-Control", "no-cache")
	h.Set(echo.HeaderXContentTypeOptions, "nosniff")
	http.ServeContent(c.Response(), c.Request(), f.name, time.Time{}, bytes.NewReader(f.body))
	return nil
}

// registerDocs serves the browsable API reference of openapi.yaml: GET /docs
// is a Redoc page that loads its script from /docs/assets/ and the spec from
// /openapi.yaml, all embedded in the binary. These paths need no token (see
// publicPaths) and are not validated against the spec.
func registerDocs(e *echo.Echo) {
	page := newDocFile("index.html", docs.IndexHTML)
	assets := make(map[string]docFile)
	for _, name := range docs.AssetNames() {
		body, _ := docs.Asset(name)
		assets[name] = newDocFile(name, body)
	}
	e.GET("/docs", func(c echo.Context) error {
		c.Response().Header().Set("Content-Security-Policy", docsCSP)
		c.Response().Header().Set("Referrer-Policy", "no-referrer")
		return page.serve(c)
	})
	e.GET("/docs/", func(c echo.Context) error {
		return c.Redirect(http.StatusMovedPermanently, "/docs")
	})
	e.GET("/docs/assets/*", func(c echo.Context) error {
		f, ok := assets[c.Param("*")]
		if !ok {
			return &apiError{status: http.StatusNotFound, message: "Not found: no such documentation asset"}
		}
		return f.serve(c)
	})
}
