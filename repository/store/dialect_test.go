package store

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestNoDialectBranches keeps the differences between the databases in
// the two Dialect implementations: production code outside this package
// asks the dialect instead of comparing it (tests and their harness,
// repotest, choose databases by comparing).
func TestNoDialectBranches(t *testing.T) {
	branch := regexp.MustCompile(`(==|!=)\s*(repository\.|store\.)?(Postgres|SQLite)\b|case\s+(repository\.|store\.)?(Postgres|SQLite)\b`)
	root := filepath.Join("..", "..")
	var found []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case "node_modules", ".git", "gen", "web", "sdk", "repotest":
				return filepath.SkipDir
			}
			if abs, _ := filepath.Abs(path); abs == mustAbs(t, ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(src), "\n") {
			if branch.MatchString(line) {
				found = append(found, path+":"+strconv.Itoa(i+1)+": "+strings.TrimSpace(line))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(found) > 0 {
		t.Fatalf("branches on the dialect outside repository/store (add a Dialect method instead):\n%s", strings.Join(found, "\n"))
	}
}

func mustAbs(t *testing.T, path string) string {
	t.Helper()
	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}
