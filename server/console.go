package server

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/policyresults/policyresults/web/console"
)

// consoleCSP allows the console only what the server itself serves: its
// script and styles from /assets/, API calls to the same origin, no inline
// script or style, no framing. The grid uses its static CSS theme, so no
// style is injected at run time; data: images are the theme's icons.
const consoleCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; " +
	"frame-ancestors 'none'"

// consoleAssetsPrefix is where the console's hashed files are served.
const consoleAssetsPrefix = "/assets/"

// consoleRoutes are the paths of the console's page, for the auth and
// validation middleware, which let them through without a token: the page
// holds no data, the API calls it makes carry the token.
var consoleRoutes = func() map[string]bool {
	m := map[string]bool{consoleAssetsPrefix + "*": true}
	for _, r := range console.Routes {
		m[r] = true
	}
	return m
}()

// registerConsole serves the web console: its page at each client-side
// route (never cached, so a new binary's page is picked up at once) and its
// hashed assets (cached for a year). Paths that are neither keep the API's
// JSON 404.
func registerConsole(e *echo.Echo) {
	page := newStaticFile("index.html", console.IndexHTML, revalidate)
	servePage := func(c echo.Context) error {
		// echo lets a route's last parameter take the rest of the path
		// ("/issues/a/b"): the app has no such page.
		for _, v := range c.ParamValues() {
			if strings.Contains(v, "/") {
				return notFound("Not found: " + c.Request().Method + " " + c.Request().URL.Path)
			}
		}
		h := c.Response().Header()
		h.Set("Content-Security-Policy", consoleCSP)
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		return page.serve(c)
	}
	for _, r := range console.Routes {
		e.GET(r, servePage)
	}
	assets := make(map[string]staticFile)
	for name, body := range console.Assets {
		assets[name] = newStaticFile(name, body, immutable)
	}
	e.GET(consoleAssetsPrefix+"*", func(c echo.Context) error {
		f, ok := assets[c.Param("*")]
		if !ok {
			return &apiError{status: http.StatusNotFound, message: "Not found: no such console asset"}
		}
		c.Response().Header().Set("Referrer-Policy", "no-referrer")
		return f.serve(c)
	})
}
