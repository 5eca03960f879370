package channels_test

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/multikanal/multikanal/outbound"
	"github.com/multikanal/multikanal/outbound/channels"
)

const module = "github.com/multikanal/multikanal/"

// allowed are the files outside a channel's folders that still name it,
// each for a reason that is not a list of channels. An entry whose file no
// longer names the channel fails the test, so the list only shrinks.
var allowed = []struct {
	name  string
	files []string
	why   string
}{
	{"autogiro", []string{"gateway/collection/mandates.go", "cmd/multikanal/mandates.go"},
		"the biller's AutoGiro mandate orders (and its order files to Bankgirot, and the agreement they are " +
			"written under) are Bankgirot's protocol (manual 7.2), which no other collection channel shares: " +
			"collection keeps them in AutoGiro's own file, and `multikanal mandates` calls the API's /autogiro/mandates"},
	{"peppol", []string{"formats/ubl/write.go", "formats/validate/peppol.go", "formats/validate/norwegian.go", "formats/sbdh/sbdh.go", "formats/ubl/ubltest/ubltest.go"},
		"Peppol BIS's own identifiers (customization, profile and process URNs, rule ids, the official rules' file names) name the Peppol network, whose formats these are"},
	{"peppol", []string{"formats/recipients/recipients.go", "gateway/store/registry.go"},
		`"peppol" is also a registry key type, a participant id, that a payer is known by`},
	{"email", []string{"formats/recipients/recipients.go", "gateway/store/registry.go"},
		`"email" is also a registry key type, an e-mail address, that a payer is known by`},
	{"email", []string{"formats/document.go"},
		"the party contact's e-mail address (BT-43, BT-58) in the document's JSON"},
	{"email", []string{"formats/letter/letter.go", "gateway/dunning/export.go"},
		"the recipient's e-mail address, a column of the letters index and of the inkasso export"},
	{"email", []string{"cmd/multikanal/erase.go"},
		"the usage text lists the registry key types, two of which share channels' names"},
	{"peppol", []string{"cmd/multikanal/erase.go"}, "as for email"},
	{"print", []string{"cmd/multikanal-bench/gen.go"},
		"the load generator makes invoices each channel can reach: which fields make an invoice eligible is the benchmark's scenario"},
	{"peppol", []string{"cmd/multikanal-bench/gen.go"}, "as for print"},
	{"efaktura", []string{"cmd/multikanal-bench/gen.go"}, "as for print"},
	{"kivra", []string{"cmd/multikanal-bench/gen.go"}, "as for print"},
	{"email", []string{"cmd/multikanal-bench/gen.go"}, "as for print"},
	{"sms", []string{"cmd/multikanal-bench/gen.go"}, "as for print"},
}

// TestNamedOnlyHere fails when Go code outside a channel's own folders
// (outbound/PKG and, for its file formats, formats/PKG) and this package's
// registration names the channel: every such place is a list that a new
// channel would have to be added to, and that nothing would catch when it
// was not.
func TestNamedOnlyHere(t *testing.T) {
	root := moduleRoot(t)
	regs := channels.All()
	var own []scope
	for _, d := range regs {
		own = append(own, scope{name: d.Name, dirs: folders(t, root, d)})
	}
	hits, err := scan(root, own, "outbound/channels/channels.go")
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{}
	for _, h := range hits {
		if why := allowance(h); why != "" {
			used[h.name+" "+h.file] = true
			continue
		}
		t.Errorf("%s:%d names channel %q in %s: read it from the channel's descriptor (outbound.Descriptor) instead, "+
			"or, when it is not a list of channels, add the file to allowed with the reason", h.file, h.line, h.name, h.text)
	}
	for _, a := range allowed {
		for _, f := range a.files {
			if !used[a.name+" "+f] {
				t.Errorf("allowed: %s no longer names channel %q (or it moved): remove the entry", f, a.name)
			}
		}
	}
}

// allowance returns why a hit is allowed, or "".
func allowance(h hit) string {
	for _, a := range allowed {
		if a.name == h.name && slices.Contains(a.files, h.file) {
			return a.why
		}
	}
	return ""
}

// TestScanFindsLists checks the scan itself on a made-up module: a
// hypothetical channel "fax" in its folder, registered, and named in the
// ways a list elsewhere would name it.
func TestScanFindsLists(t *testing.T) {
	root := t.TempDir()
	write := func(name, src string) {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("outbound/fax/fax.go", "package fax\n\nconst Name = \"fax\"\nvar path = \"outbox/fax\"\n")
	write("formats/fax/fax.go", "package fax\n\nvar root = \"fax\"\n")
	write("outbound/channels/channels.go", "package channels\n\nimport _ \""+module+"outbound/fax\"\n")
	write("config/channels.go", "package config\n\nvar names = []string{\"fax\", \"email\"}\n\ntype T struct {\n\tFax string `toml:\"fax\"`\n}\n")
	write("gateway/hooks.go", "package gateway\n\nimport \""+module+"formats/fax\"\n\nconst hook = \"/hooks/fax\"\nconst key = \"channel.fax.addr\"\nvar x = fax.Root\n")
	write("gateway/words.go", "package gateway\n\nconst msg = \"only the batch channels fax and email cut files\"\nconst ok = \"send a fax to the print house\"\nconst col = \"fax_number\"\n")
	write("gateway/words_test.go", "package gateway\n\nvar inTests = \"fax\"\n")
	write("testdata/x.go", "package x\n\nvar inTestdata = \"fax\"\n")
	own := []scope{{name: "fax", dirs: []string{"outbound/fax", "formats/fax"}}, {name: "email", dirs: []string{"outbound/email"}}}
	hits, err := scan(root, own, "outbound/channels/channels.go")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, h := range hits {
		got = append(got, fmt.Sprintf("%s %s:%d", h.name, h.file, h.line))
	}
	want := []string{
		"fax config/channels.go:3", "email config/channels.go:3", "fax config/channels.go:6",
		"fax gateway/hooks.go:3", "fax gateway/hooks.go:5", "fax gateway/hooks.go:6",
		"fax gateway/words.go:3", "email gateway/words.go:3",
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("hits:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestDescriptors checks every registration: complete, names unique, and
// its name the one the channel it makes gives.
func TestDescriptors(t *testing.T) {
	seen := map[string]bool{}
	for _, d := range channels.All() {
		if err := d.Check(); err != nil {
			t.Error(err)
		}
		if seen[d.Name] {
			t.Errorf("channel %s is registered twice", d.Name)
		}
		seen[d.Name] = true
		// A key of the channel's own that it requires gets its example.
		settings := outbound.Settings{}
		for _, k := range d.Required {
			if k.Example == "" {
				t.Errorf("channel %s: its required key %s has no Example to build it with", d.Name, k.Name)
			}
			settings[k.Name] = k.Example
		}
		ch, err := d.New(outbound.Env{Settings: settings})
		if err != nil {
			t.Errorf("channel %s: New: %v", d.Name, err)
			continue
		}
		if ch.Name() != d.Name {
			t.Errorf("channel %s: New made a channel named %q", d.Name, ch.Name())
		}
		// A collection channel is what routing asks about every invoice.
		if _, ok := ch.(outbound.Collector); ok != (d.Role == outbound.Collection) {
			t.Errorf("channel %s: role %s, but it is a Collector %v", d.Name, d.Role, ok)
		}
		if d.Role == outbound.Collection && (d.Address == "" || d.Agreement == nil) {
			t.Errorf("channel %s: a collection channel needs the key type of its mandates (Address) and the tenant's agreement (Agreement)", d.Name)
		}
		_, doc := ch.(outbound.DocumentRenderer)
		_, batch := ch.(outbound.BatchRenderer)
		if doc == batch || batch != (d.Batch != nil) {
			t.Errorf("channel %s: renders documents %v, batches %v, but its descriptor says batch %v", d.Name, doc, batch, d.Batch != nil)
		}
	}
}

// scope is a channel and the folders that are its own.
type scope struct {
	name string
	dirs []string
}

// hit is a place that names a channel.
type hit struct {
	name, file string
	line       int
	text       string
}

// scan finds, in the Go files under root other than tests, testdata and
// the registration file reg, every string literal (import paths and struct
// tags included) that names a channel outside the channel's own folders.
// A literal without spaces (a name, a key like "channel.sms.from", a path,
// an import path) names every channel that is one of its parts, split at
// anything but letters, digits and "_"; a literal with spaces (a message)
// names channels only when it names two or more, as a list in words does.
// Identifiers are not scanned: at run time a channel is reached only by its
// name or its package, and words like Email name other things too.
func scan(root string, chans []scope, reg string) ([]hit, error) {
	var hits []hit
	err := filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() {
			if p != root && (e.Name() == "testdata" || strings.HasPrefix(e.Name(), ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if rel == reg {
			return nil
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, p, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			v, err := strconv.Unquote(lit.Value)
			if err != nil {
				return true
			}
			for _, c := range named(v, chans) {
				if !c.owns(rel) {
					hits = append(hits, hit{name: c.name, file: rel, line: fset.Position(lit.Pos()).Line, text: lit.Value})
				}
			}
			return true
		})
		return nil
	})
	return hits, err
}

// named returns the channels a string literal names.
func named(v string, chans []scope) []scope {
	parts := strings.FieldsFunc(strings.ToLower(v), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_')
	})
	var out []scope
	for _, c := range chans {
		if slices.Contains(parts, c.name) {
			out = append(out, c)
		}
	}
	if strings.ContainsAny(v, " \t\n") && len(out) < 2 {
		return nil
	}
	return out
}

func (c scope) owns(file string) bool {
	for _, d := range c.dirs {
		if strings.HasPrefix(file, d+"/") {
			return true
		}
	}
	return false
}

// folders are a registered channel's own folders: the package its
// descriptor's New lives in, and the format folder of the same name.
func folders(t *testing.T, root string, d outbound.Descriptor) []string {
	t.Helper()
	// A function is named "path/to/pkg.New", a closure
	// "path/to/pkg.init.func1": the package's path ends at the first dot
	// after the last slash.
	fn := runtime.FuncForPC(reflect.ValueOf(d.New).Pointer()).Name()
	slash := strings.LastIndexByte(fn, '/')
	pkg := fn
	if dot := strings.IndexByte(fn[slash+1:], '.'); dot >= 0 {
		pkg = fn[:slash+1+dot]
	}
	pkg = strings.TrimPrefix(pkg, module)
	if !strings.HasPrefix(pkg, "outbound/") {
		t.Fatalf("channel %s: its descriptor's New is in %s, not in a folder under outbound/", d.Name, pkg)
	}
	dirs := []string{pkg}
	if fi, err := os.Stat(filepath.Join(root, "formats", path.Base(pkg))); err == nil && fi.IsDir() {
		dirs = append(dirs, "formats/"+path.Base(pkg))
	}
	return dirs
}

// moduleRoot is the folder holding go.mod.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's folder")
		}
		dir = parent
	}
}
