package validate_test

import (
	"fmt"

	"github.com/multikanal/multikanal/formats/validate"
)

// A bankgiro number with a wrong check digit and an amount due that does
// not add up: each problem names its rule, the invoice and the values.
func ExampleDocument() {
	doc := validInvoice()
	doc.PaymentMeans[0].Account = "5050-1056"
	doc.Totals.Payable = 165625
	for _, p := range validate.Document(doc, validate.Options{}) {
		fmt.Println(p.Error())
	}
	// Output:
	// BR-CO-16: invoice 2018210: amount due (BT-115) 1656.25 ≠ total with VAT 1546.68 − paid 0.00 + rounding 0.32 = 1547.00
	// MK-BG: invoice 2018210: bankgiro 5050-1056: check digit is wrong, expected 5
}
