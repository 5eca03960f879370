package validate_test

import (
	"bytes"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/formats/ubl"
	"github.com/multikanal/multikanal/formats/validate"
)

// vefaDir holds OpenPEPPOL's unit tests for the Swedish national rules, in
// the vefa validator's <testSet> format. They are read where they are and
// never copied into the project.
const vefaDir = "../../../shared/testdata/peppol/openpeppol-unit-se"

// vefaTest is one <test>: the verdict the official artefact gives and the
// embedded UBL document it gives it for.
type vefaTest struct {
	Assert struct {
		Success []string `xml:"success"`
		Error   []string `xml:"error"`
		Warning []string `xml:"warning"`
	} `xml:"assert"`
	Inner []byte `xml:",innerxml"`
}

// TestVefa runs every Swedish unit test of the Peppol BIS artefacts: the
// UBL document is read with formats/ubl, checked with Peppol, and the
// asserted rule must be silent (success) or fire with the asserted flag
// (error = fatal, warning).
func TestVefa(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(vefaDir, "*.xml"))
	if len(files) == 0 {
		t.Skipf("no vefa test sets in %s (the shared test data is not checked out next to the project)", vefaDir)
	}
	matched, total := 0, 0
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var set struct {
			Tests []vefaTest `xml:"test"`
		}
		if err := xml.Unmarshal(raw, &set); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		for i, vt := range set.Tests {
			name := strings.TrimSuffix(filepath.Base(file), ".xml") + "/" + verdictName(vt)
			total++
			t.Run(name, func(t *testing.T) {
				doc := readEmbedded(t, file, i, vt.Inner)
				if vefaVerdict(t, vt, validate.Peppol(doc)) {
					matched++
				}
			})
		}
	}
	t.Logf("vefa verdicts matched: %d/%d", matched, total)
}

func verdictName(vt vefaTest) string {
	switch {
	case len(vt.Assert.Error) > 0:
		return "error-" + vt.Assert.Error[0]
	case len(vt.Assert.Warning) > 0:
		return "warning-" + vt.Assert.Warning[0]
	case len(vt.Assert.Success) > 0:
		return "success-" + vt.Assert.Success[0]
	}
	return "no-assert"
}

// readEmbedded parses the UBL document that follows a test's <assert>.
func readEmbedded(t *testing.T, file string, i int, inner []byte) *formats.Document {
	t.Helper()
	_, after, ok := bytes.Cut(inner, []byte("</assert>"))
	if !ok {
		t.Fatalf("test %d has no <assert>", i)
	}
	return readUBL(t, filepath.Base(file), bytes.TrimSpace(after))
}

// readUBL reads the one document in a UBL file with formats/ubl.
func readUBL(t *testing.T, name string, b []byte) *formats.Document {
	t.Helper()
	var docs []*formats.Document
	err := ubl.Format{}.Read(formats.Input{Name: name, R: bytes.NewReader(b), Size: int64(len(b))}, func(it formats.Item) error {
		if it.Err != nil {
			return it.Err
		}
		docs = append(docs, it.Doc)
		return nil
	})
	if err != nil {
		t.Fatalf("formats/ubl cannot read %s: %v", name, err)
	}
	if len(docs) != 1 {
		t.Fatalf("formats/ubl read %d documents from %s, want 1", len(docs), name)
	}
	return docs[0]
}

// vefaVerdict reports whether Peppol's problems agree with the test's
// assertion, and says how when they do not.
func vefaVerdict(t *testing.T, vt vefaTest, ps formats.Problems) bool {
	t.Helper()
	severity := func(rule string) (formats.Severity, bool) {
		for _, p := range ps {
			if p.Rule == rule {
				return p.Severity, true
			}
		}
		return "", false
	}
	ok := true
	for _, rule := range vt.Assert.Success {
		if _, fired := severity(rule); fired {
			t.Errorf("%s fired, the artefact accepts this document:\n%s", rule, lines(ps))
			ok = false
		}
	}
	for want, rules := range map[formats.Severity][]string{formats.SeverityError: vt.Assert.Error, formats.SeverityWarning: vt.Assert.Warning} {
		for _, rule := range rules {
			sev, fired := severity(rule)
			if !fired || sev != want {
				t.Errorf("want %s as %s, got:\n%s", rule, want, lines(ps))
				ok = false
			}
		}
	}
	return ok
}

// TestOfficialExamples reads the example documents published with EN 16931
// and Peppol BIS and checks that no EN 16931 rule fires on them, and no
// Peppol rule on the Peppol ones. Multikanal's own rules (MK-...) may: the
// examples include negative invoices and made-up organisationsnummer.
func TestOfficialExamples(t *testing.T) {
	for _, c := range []struct {
		dir    string
		peppol bool
	}{
		{"../../../shared/testdata/peppol/en16931-ubl-examples", false},
		{"../../../shared/testdata/peppol/openpeppol-examples", true},
	} {
		files, _ := filepath.Glob(filepath.Join(c.dir, "*"))
		if len(files) == 0 {
			t.Skipf("no examples in %s (the shared test data is not checked out next to the project)", c.dir)
		}
		for _, file := range files {
			t.Run(filepath.Base(file), func(t *testing.T) {
				raw, err := os.ReadFile(file)
				if err != nil {
					t.Fatal(err)
				}
				doc := readUBL(t, filepath.Base(file), raw)
				ps := validate.Document(doc, validate.Options{Now: now})
				if c.peppol {
					ps = append(ps, validate.Peppol(doc)...)
				}
				for _, p := range ps {
					if !strings.HasPrefix(p.Rule, "MK-") {
						t.Errorf("%s [%s]", p.Error(), p.Severity)
					}
				}
			})
		}
	}
}
