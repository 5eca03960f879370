// Package ubltest runs the official validation artefacts (the EN 16931 UBL
// XSLT and the Peppol BIS 3 XSLT, in ../shared/reference/validation) over UBL
// files with Saxon, for tests: whatever leaves on Peppol must pass both.
package ubltest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"testing"
)

// The stylesheets, by file name.
const (
	EN16931 = "EN16931-UBL-validation.xslt"
	Peppol  = "PEPPOL-EN16931-UBL.xslt"
)

// Validator runs the stylesheets in Dir with the java and Saxon jar found.
type Validator struct {
	Java, Jar, Dir string
}

// New finds java, the Saxon HE jar (SAXON_JAR overrides Debian's path) and
// the artefacts in dir, or skips the test saying what to install.
func New(t testing.TB, dir string) *Validator {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: not running the EN 16931 / Peppol validation artefacts")
	}
	java, err := exec.LookPath("java")
	if err != nil {
		t.Skip("java is not installed: apt-get install -y default-jre-headless libsaxonhe-java to run the official validation")
	}
	jar := os.Getenv("SAXON_JAR")
	if jar == "" {
		jar = "/usr/share/java/Saxon-HE.jar"
	}
	if _, err := os.Stat(jar); err != nil {
		t.Skipf("Saxon HE jar %s is missing: apt-get install -y libsaxonhe-java (or set SAXON_JAR)", jar)
	}
	for _, x := range []string{EN16931, Peppol} {
		if _, err := os.Stat(filepath.Join(dir, x)); err != nil {
			t.Skipf("validation artefact %s is absent: %v", x, err)
		}
	}
	return &Validator{Java: java, Jar: jar, Dir: dir}
}

// TransformDir runs one stylesheet over every file of in, writing one SVRL
// report per file into out, in a single JVM: a JVM start costs about two
// seconds, so one per file would make the suite slow.
func (v *Validator) TransformDir(xslt, in, out string) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	cmd := exec.Command(v.Java, "-cp", v.Jar, "net.sf.saxon.Transform", "-s:"+in, "-xsl:"+filepath.Join(v.Dir, xslt), "-o:"+out)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("saxon %s over %s: %w: %s", xslt, in, err, stderr.Bytes())
	}
	return nil
}

var failedAssertRE = regexp.MustCompile(`<svrl:failed-assert\b([^>]*)>`)
var attrRE = regexp.MustCompile(`(\w+)="([^"]*)"`)

// FailedAsserts lists the rule ids of an SVRL report's failed asserts; with
// flag set, only those of that flag ("fatal", "warning").
func FailedAsserts(t testing.TB, svrl, flag string) []string {
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
