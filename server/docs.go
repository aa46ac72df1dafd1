package server

import (
	"net/http"

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

// registerDocs serves the browsable API reference of openapi.yaml: GET /docs
// is a Redoc page that loads its script from /docs/assets/ and the spec from
// /openapi.yaml, all embedded in the binary. These paths need no token (see
// publicPaths) and are not validated against the spec.
func registerDocs(e *echo.Echo) {
	page := newStaticFile("index.html", docs.IndexHTML, revalidate)
	assets := make(map[string]staticFile)
	for _, name := range docs.AssetNames() {
		body, _ := docs.Asset(name)
		assets[name] = newStaticFile(name, body, revalidate)
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
