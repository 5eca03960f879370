package ubl

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
)

const validationDir = "../../../shared/reference/validation"

// saxon finds java and the Saxon HE jar (SAXON_JAR overrides the Debian path).
func saxon(t *testing.T) (java, jar string) {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: not running the EN 16931 / Peppol validation artefacts")
	}
	java, err := exec.LookPath("java")
	if err != nil {
		t.Skip("java is not installed: apt-get install -y default-jre-headless libsaxonhe-java to run the official validation")
	}
	jar = os.Getenv("SAXON_JAR")
	if jar == "" {
		jar = "/usr/share/java/Saxon-HE.jar"
	}
	if _, err := os.Stat(jar); err != nil {
		t.Skipf("Saxon HE jar %s is missing: apt-get install -y libsaxonhe-java (or set SAXON_JAR)", jar)
	}
	for _, x := range []string{"EN16931-UBL-validation.xslt", "PEPPOL-EN16931-UBL.xslt"} {
		if _, err := os.Stat(filepath.Join(validationDir, x)); err != nil {
			t.Skipf("validation artefact %s is absent: %v", x, err)
		}
	}
	return java, jar
}

// transformDir runs one stylesheet over a whole directory in a single JVM,
// which is what keeps this test at seconds rather than a minute.
func transformDir(java, jar, xslt, in, out string) error {
	cmd := exec.Command(java, "-cp", jar, "net.sf.saxon.Transform", "-s:"+in, "-xsl:"+filepath.Join(validationDir, xslt), "-o:"+out)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return &exec.ExitError{ProcessState: cmd.ProcessState, Stderr: stderr.Bytes()}
	}
	return nil
}

var failedAssertRE = regexp.MustCompile(`<svrl:failed-assert\b([^>]*)>`)
var attrRE = regexp.MustCompile(`(\w+)="([^"]*)"`)

// failedAsserts lists the rule ids of a report's failed asserts; with flag
// set, only those of that flag ("fatal", "warning").
func failedAsserts(t *testing.T, svrl, flag string) []string {
	t.Helper()
	b, err := os.ReadFile(svrl)
	if err != nil {
		t.Fatalf("validation report: %v", err)
	}
	var ids []string
	for _, m := range failedAssertRE.FindAllSubmatch(b, -1) {
		attrs := map[string]string{}
		for _, a := range attrRE.FindAllSubmatch(m[1], -1) {
			attrs[string(a[1])] = string(a[2])
		}
		if flag == "" || attrs["flag"] == flag {
			ids = append(ids, attrs["id"])
		}
	}
	sort.Strings(ids)
	return ids
}

// TestValidation writes every example and runs the official artefacts over
// the output: EN 16931 must report no failed assert at all, Peppol BIS 3 no
// fatal one for the Peppol examples, and for the EN 16931 examples (not all
// Peppol-valid to begin with) no fatal rule the input did not already break.
func TestValidation(t *testing.T) {
	java, jar := saxon(t)
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
		if err := os.Mkdir(r.out, 0o755); err != nil {
			t.Fatal(err)
		}
		wg.Go(func() { errs[i] = transformDir(java, jar, r.xslt, r.in, r.out) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Saxon %s over %s: %v: %s", runs[i].xslt, runs[i].in, err, err.(*exec.ExitError).Stderr)
		}
	}
	inputFatals := map[string][]string{}
	reports, _ := os.ReadDir(filepath.Join(tmp, "peppol-input"))
	for _, r := range reports {
		inputFatals[strings.ToLower(r.Name())] = failedAsserts(t, filepath.Join(tmp, "peppol-input", r.Name()), "fatal")
	}

	names := make([]string, 0, len(set))
	for n := range set {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if got := failedAsserts(t, filepath.Join(tmp, "en", n), ""); len(got) > 0 {
			t.Errorf("%s: EN 16931 failed asserts after Write: %v", n, got)
		}
		fatal := failedAsserts(t, filepath.Join(tmp, "peppol", n), "fatal")
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
