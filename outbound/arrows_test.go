package outbound_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestArrows: outbound's packages, their tests included, depend on neither
// the gateway, the commands nor the configuration: cmd -> gateway ->
// {outbound -> formats, config}. (Its tests once imported the gateway's
// SFTP server.)
func TestArrows(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH")
	}
	out, err := exec.Command(goTool, "list", "-deps", "-test", "github.com/multikanal/multikanal/outbound/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, up := range []string{"gateway", "cmd", "config"} {
			if p := "github.com/multikanal/multikanal/" + up; dep == p || strings.HasPrefix(dep, p+"/") {
				t.Errorf("outbound (or one of its tests) depends on %s", dep)
			}
		}
	}
}
