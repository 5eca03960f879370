package pdf

import (
	"strings"
	"testing"

	"rsc.io/qr"
)

// qrModules caches rsc.io/qr's plans; the codes must be the ones its
// Encode makes, module for module, in every encoding and size.
func TestQRModulesAsEncode(t *testing.T) {
	payloads := []string{"0", "12345678903", "HTTPS://A.EXAMPLE/P", benchPayload,
		"C1231181189;1656,25;4600263;0", "https://demo.example/i/F0000001-0000001.email/20260501/c2lnbmF0dXJl",
		strings.Repeat("å", 300), strings.Repeat("9", 2000)}
	for _, p := range payloads {
		n, black, err := qrModules(p)
		want, werr := qr.Encode(p, qr.M)
		if (err == nil) != (werr == nil) {
			t.Fatalf("%.20q: error %v, Encode's %v", p, err, werr)
		}
		if err != nil {
			continue
		}
		if n != want.Size {
			t.Fatalf("%.20q: %d modules a side, Encode's %d", p, n, want.Size)
		}
		for y := range n {
			for x := range n {
				if black(x, y) != want.Black(x, y) {
					t.Fatalf("%.20q: module %d,%d differs from Encode's", p, x, y)
				}
			}
		}
	}
	if _, _, err := qrModules(strings.Repeat("å", 3000)); err == nil {
		t.Error("a payload too long for any QR code was encoded")
	}
}
