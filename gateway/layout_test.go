package gateway

import (
	"bufio"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The bounds the architecture keeps (issue 19): no Go file of the module
// over maxFileLines lines, tests included (a file that grows past it is
// split by concern), and the daemon's own package, the wiring, under
// maxWiringLines lines of code that is not a test.
const (
	maxFileLines   = 600
	maxWiringLines = 1500
)

func lines(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	for sc := bufio.NewScanner(f); sc.Scan(); {
		n++
	}
	return n
}

func TestFileSizes(t *testing.T) {
	err := filepath.WalkDir("..", func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() && (strings.HasPrefix(e.Name(), ".") && path != ".." || e.Name() == "testdata") {
			return filepath.SkipDir
		}
		if !e.IsDir() && strings.HasSuffix(path, ".go") {
			if n := lines(t, path); n > maxFileLines {
				t.Errorf("%s has %d lines, more than %d: split it by concern", path, n, maxFileLines)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("*.go")
	total := 0
	for _, f := range files {
		if !strings.HasSuffix(f, "_test.go") {
			total += lines(t, f)
		}
	}
	if total > maxWiringLines {
		t.Errorf("package gateway has %d lines, more than %d: it wires the parts; what does work belongs in one of them", total, maxWiringLines)
	}
	t.Logf("package gateway: %d lines", total)
}

// parts are the daemon's packages and the packages of the gateway each may
// import: dependencies point one way, from the wiring to the parts, from
// the parts to the store and the vocabularies, never back. A part another
// part uses at run time (deliver queues what intake reads) is reached
// through an interface the user owns, not an import.
var parts = map[string][]string{
	"api":                   {},
	"errkind":               {},
	"store":                 {"errkind"},
	"store/bolt":            {"store", "errkind"},
	"store/postgres":        {"store", "errkind"},
	"store/postgres/pgtest": {},
	"store/storetest":       {"store"},
	"metrics":               {"store"},
	"metrics/metricstest":   {},
	"registry":              {"store", "errkind"},
	"route":                 {"store", "registry", "errkind"},
	"receipts":              {"store", "api", "errkind"},
	"deliver":               {"store", "route", "errkind"},
	"collection":            {"store", "route", "registry", "deliver", "api", "errkind"},
	"intake":                {"store", "route", "registry", "metrics", "sftpd", "errkind"},
	"upkeep":                {"store", "registry", "route", "api", "errkind"},
	"httpapi":               {"store", "api", "errkind", "receipts", "collection", "upkeep"},
	"convert":               {"route", "deliver", "intake", "api", "design"},
	"design":                {"store", "deliver"},
	"dunning":               {"store", "route", "api", "errkind"},
	"hooks":                 {"store", "api", "errkind", "receipts"},
	"sftpd":                 {},
	"sftpd/sftpdtest":       {"sftpd"},
}

func TestPartsImportOneWay(t *testing.T) {
	const prefix = "github.com/multikanal/multikanal/gateway"
	seen := map[string]bool{}
	err := filepath.WalkDir(".", func(path string, e fs.DirEntry, err error) error {
		if err != nil || !e.IsDir() || path == "." {
			return err
		}
		if e.Name() == "testdata" || e.Name() == "web" {
			return filepath.SkipDir
		}
		files, _ := filepath.Glob(filepath.Join(path, "*.go"))
		var imports []string
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			af, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
			if err != nil {
				return err
			}
			for _, im := range af.Imports {
				p, _ := strconv.Unquote(im.Path.Value)
				if p == prefix || strings.HasPrefix(p, prefix+"/") {
					imports = append(imports, strings.TrimPrefix(strings.TrimPrefix(p, prefix), "/"))
				}
			}
		}
		if len(files) == 0 {
			return nil
		}
		pkg := filepath.ToSlash(path)
		allowed, known := parts[pkg]
		if !known {
			t.Errorf("package gateway/%s is not in the table of parts: say what it may import", pkg)
			return nil
		}
		seen[pkg] = true
		for _, im := range imports {
			if im == "" {
				t.Errorf("gateway/%s imports gateway: nothing imports the wiring but cmd", pkg)
			} else if !slices.Contains(allowed, im) {
				t.Errorf("gateway/%s imports gateway/%s, which it may not (it may import %v)", pkg, im, allowed)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for pkg := range parts {
		if !seen[pkg] {
			t.Errorf("the table names gateway/%s, which does not exist", pkg)
		}
	}
}
