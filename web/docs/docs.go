// Package docs holds the API reference page served at GET /docs: its HTML,
// its script and Redoc's standalone bundle, copied from npm into dist/ by
// build.mjs and embedded here so that the binary serves the page offline.
package docs

import (
	"embed"
	"io/fs"
	"slices"
)

//go:embed index.html assets/init.js dist/redoc.standalone.js dist/redoc.standalone.js.LICENSE.txt
var files embed.FS

// IndexHTML is the page served at GET /docs.
var IndexHTML = mustRead("index.html")

// assets are the files served under /docs/assets/, by name. They are read
// once: embed.FS copies a file on every read.
var assets = map[string][]byte{
	"init.js":                         mustRead("assets/init.js"),
	"redoc.standalone.js":             mustRead("dist/redoc.standalone.js"),
	"redoc.standalone.js.LICENSE.txt": mustRead("dist/redoc.standalone.js.LICENSE.txt"),
}

// Asset returns the content of /docs/assets/<name>, and false when there is
// no asset of that name. The caller must not modify the content.
func Asset(name string) ([]byte, bool) {
	b, ok := assets[name]
	return b, ok
}

// AssetNames lists the names served under /docs/assets/, sorted.
func AssetNames() []string {
	names := make([]string, 0, len(assets))
	for n := range assets {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func mustRead(name string) []byte {
	b, err := fs.ReadFile(files, name)
	if err != nil {
		// Only a name missing from the go:embed line gets here.
		panic("docs: " + err.Error())
	}
	return b
}
