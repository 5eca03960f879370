package finvoice

// The check against Finvoice3.0.xsd itself, where it is present.

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// xsdPath finds Finance Finland's Finvoice3.0.xsd: FINVOICE_XSD, or the
// copy the project keeps beside its other reference material. The schema
// is not in the repository: its terms allow use, not clearly
// redistribution (docs/channels/finvoice.md).
func xsdPath() string {
	if p := os.Getenv("FINVOICE_XSD"); p != "" {
		return p
	}
	return filepath.Join("..", "..", "..", "shared", "reference", "finvoice", "Finvoice3.0.xsd")
}

// TestXSD validates every message against the published schema with
// xmllint (Debian's libxml2-utils). It skips, saying why, when either is
// absent.
func TestXSD(t *testing.T) {
	xsd := xsdPath()
	if _, err := os.Stat(xsd); err != nil {
		t.Skipf("Finvoice3.0.xsd not found at %s (set FINVOICE_XSD to Finance Finland's schema file): %v", xsd, err)
	}
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		t.Skip("xmllint not installed (Debian package libxml2-utils); make test installs it")
	}
	dir := t.TempDir()
	for name, b := range schemaCases() {
		var out bytes.Buffer
		if err := WriteBatch(&out, b); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		finvoices, _ := messages(t, out.Bytes())
		for i, f := range finvoices {
			file := filepath.Join(dir, fmt.Sprintf("%s-%d.xml", strings.ReplaceAll(name, " ", "-"), i+1))
			if err := os.WriteFile(file, f, 0o600); err != nil {
				t.Fatal(err)
			}
			if res, err := exec.Command(xmllint, "--noout", "--schema", xsd, file).CombinedOutput(); err != nil {
				t.Errorf("%s message %d does not validate: %v\n%s", name, i+1, err, res)
			}
		}
	}
}
