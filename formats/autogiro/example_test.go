package autogiro_test

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/formats/autogiro"
)

// A payment file with one withdrawal, sealed with Bankgirot's test key.
func ExamplePaymentFile_WriteTo() {
	pf := autogiro.PaymentFile{
		WriteDate:      autogiro.Date{Year: 2026, Month: 3, Day: 2},
		CustomerNumber: "471117",
		PayeeBankgiro:  "5050-1055",
		Payments: []autogiro.Payment{{
			Type:        autogiro.Withdrawal,
			Date:        autogiro.Date{Year: 2026, Month: 3, Day: 31},
			Period:      autogiro.PeriodOnce,
			PayerNumber: "8812125555",
			Amount:      formats.MustAmount("1656.25"),
			Reference:   "1234567897",
		}},
	}
	var buf bytes.Buffer
	if _, err := pf.WriteTo(&buf); err != nil {
		fmt.Println(err)
		return
	}
	sealed, err := autogiro.Seal(buf.Bytes(), "1234567890ABCDEF1234567890ABCDEF", time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, line := range strings.Split(strings.TrimSpace(string(sealed)), "\r\n") {
		fmt.Println(strings.TrimRight(line, " "))
	}
	// Output:
	// 00260302HMAC
	// 0120260302AUTOGIRO                                            4711170050501055
	// 82202603310    000000881212555500000016562500505010551234567897
	// 99260302FF365893D899291C3BF505FB3175E880413AAB91D2BDDDFB18FC3FF34D90B3A1
}

// Reading a mandate advice and what each record means for the register.
func ExampleParse() {
	advice := "01AUTOGIRO              20260302            AG-MEDAVI           4711170050501055\r\n" +
		"73005050105500000000000001013300001212121212191212121212     043220260302\r\n" +
		"7300505010550000000000000102                                 463320260302\r\n" +
		"092026030299000000002\r\n"
	f, err := autogiro.Parse(strings.NewReader(advice))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range f.Records {
		a := r.(*autogiro.MandateAdvice)
		fmt.Printf("line %d payer %s: %s\n", a.LineNo, a.PayerNumber, a.Info.Meaning().En)
	}
	// Output:
	// line 2 payer 101: New mandate, initiated by the payee.
	// line 3 payer 102: Cancellation, initiated by the payer or the payer's bank.
}
