package finvoice_test

import (
	"fmt"

	"github.com/multikanal/multikanal/formats/finvoice"
)

// A consumer's e-invoice address comes from the bank's reception notice,
// with the bank's BIC as its intermediator; a business is usually reached
// at its OVT code through its operator.
func ExampleParseAddress() {
	for _, s := range []string{"FI2112345600000785@ndeafihh", "003713669598@003721291126", "003713669597@003721291126"} {
		a, err := finvoice.ParseAddress(s)
		if err != nil {
			fmt.Println("error:", err)
			continue
		}
		fmt.Println(a.ID, "via", a.Intermediator)
	}
	// Output:
	// FI2112345600000785 via NDEAFIHH
	// 003713669598 via 003721291126
	// error: e-invoice address 003713669597 is an OVT code (0037 and a Y-tunnus), but Y-tunnus 13669597: check digit is 7, expected 8
}
