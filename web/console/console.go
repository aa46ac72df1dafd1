// Package console holds the web console served at GET /: the single-page
// app that web/console/build.mjs builds with Vite into dist/, embedded here
// so that the binary serves it offline and `go build` needs no npm.
package console

import (
	"embed"
	"io/fs"
	"path"
	"strings"
)

//go:embed dist
var files embed.FS

// IndexHTML is the app's page, served at every client-side route.
var IndexHTML = mustRead("dist/index.html")

// Assets are the files served under /assets/, by name, read once (embed.FS
// copies a file on every read). Their names carry a hash of their content.
// Callers must not modify them.
var Assets = readAssets()

// Routes are the client-side routes of the app (echo's path syntax): a GET
// of any of them answers IndexHTML, and the app renders the page. They are
// listed rather than matched by a catch-all so that every other path keeps
// answering the API's JSON 404.
var Routes = []string{
	"/",
	"/issues",
	"/issues/:issueId",
	"/policies",
	"/policypacks",
	"/policygroups",
	"/policygroups/:policyGroup",
	"/webhooks",
}

func readAssets() map[string][]byte {
	out := make(map[string][]byte)
	err := fs.WalkDir(files, "dist/assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		out[strings.TrimPrefix(p, "dist/assets/")] = mustRead(p)
		return nil
	})
	if err != nil {
		panic("console: " + err.Error())
	}
	return out
}

func mustRead(name string) []byte {
	b, err := fs.ReadFile(files, path.Clean(name))
	if err != nil {
		// Only a dist/ built without index.html gets here.
		panic("console: " + err.Error())
	}
	return b
}
