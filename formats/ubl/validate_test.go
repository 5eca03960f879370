package ubl

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/multikanal/multikanal/formats/ubl/ubltest"
)

const validationDir = "../../../shared/reference/validation"

// TestValidation writes every example and runs the official artefacts over
// the output: EN 16931 must report no failed assert at all, Peppol BIS 3 no
// fatal one for the Peppol examples, and for the EN 16931 examples (not all
// Peppol-valid to begin with) no fatal rule the input did not already break.
func TestValidation(t *testing.T) {
	v := ubltest.New(t, validationDir)
	tmp := t.TempDir()
	out := filepath.Join(tmp, "out")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	set := map[string]string{} // output name -> example set
	for _, name := range examples(t, allSets...) {
		doc := readOne(t, readFile(t, name))
		var buf bytes.Buffer
		if err := Write(&buf, doc); err != nil {
			t.Fatal(err)
		}
		base := strings.ToLower(filepath.Base(name))
		if err := os.WriteFile(filepath.Join(out, base), buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		set[base] = filepath.Base(filepath.Dir(name))
	}

	runs := []struct{ xslt, in, out string }{
		{"EN16931-UBL-validation.xslt", out, filepath.Join(tmp, "en")},
		{"PEPPOL-EN16931-UBL.xslt", out, filepath.Join(tmp, "peppol")},
		{"PEPPOL-EN16931-UBL.xslt", filepath.Join(dataDir, "en16931-ubl-examples"), filepath.Join(tmp, "peppol-input")},
	}
	errs := make([]error, len(runs))
	var wg sync.WaitGroup
	for i, r := range runs {
		wg.Go(func() { errs[i] = v.TransformDir(r.xslt, r.in, r.out) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	inputFatals := map[string][]string{}
	reports, _ := os.ReadDir(filepath.Join(tmp, "peppol-input"))
	for _, r := range reports {
		inputFatals[strings.ToLower(r.Name())] = ubltest.FailedAsserts(t, filepath.Join(tmp, "peppol-input", r.Name()), "fatal")
	}

	names := make([]string, 0, len(set))
	for n := range set {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if got := ubltest.FailedAsserts(t, filepath.Join(tmp, "en", n), ""); len(got) > 0 {
			t.Errorf("%s: EN 16931 failed asserts after Write: %v", n, got)
		}
		fatal := ubltest.FailedAsserts(t, filepath.Join(tmp, "peppol", n), "fatal")
		if set[n] == "openpeppol-examples" {
			if len(fatal) > 0 {
				t.Errorf("%s: Peppol fatal asserts after Write: %v", n, fatal)
			}
			continue
		}
		was := map[string]bool{}
		for _, id := range inputFatals[n] {
			was[id] = true
		}
		for _, id := range fatal {
			if !was[id] {
				t.Errorf("%s: Write introduced Peppol fatal %s (input broke only %v)", n, id, inputFatals[n])
			}
		}
		t.Logf("%s: Peppol fatal asserts: input %d, written %d", n, len(inputFatals[n]), len(fatal))
	}
	t.Logf("%d documents written and validated: EN 16931 and Peppol BIS 3 artefacts", len(names))
}
