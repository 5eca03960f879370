package csv_test

import (
	"fmt"
	"strings"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/formats/csv"
)

func ExampleFormat_Read() {
	file := `invoice_number;issue_date;seller_name;buyer_name;buyer_email;ocr;seller_bankgiro;line_description;line_quantity;line_price;line_vat_rate
1001;2025-03-03;Demo AB;Lisa Andersson;lisa@example.se;2025100104;991-2346;Elhandel;843,5;1,2375;25
1001;2025-03-03;Demo AB;Lisa Andersson;lisa@example.se;2025100104;991-2346;Månadsavgift;1;39,20;25
1002;2025-03-03;Demo AB;Karl Nilsson;;2025100203;991-2346;Elhandel;412;0,99;25
1003;2025-02-30;Demo AB;Gunnel Ek;;2025100302;991-2346;Elhandel;100;1,00;25
`
	r := strings.NewReader(file)
	err := csv.Format{}.Read(formats.Input{Name: "invoices.csv", R: r, Size: r.Size()}, func(it formats.Item) error {
		if it.Err != nil {
			fmt.Println(it.Source, "rejected:", it.Err)
			return nil
		}
		d := it.Doc
		fmt.Println(it.Source, d.Label(), "to", d.Buyer.Name, "pay", d.Totals.Payable, "OCR", d.PaymentReference())
		return nil
	})
	if err != nil {
		fmt.Println("file refused:", err)
	}
	// Output:
	// lines 2-3 invoice 1001 to Lisa Andersson pay 1353.79 OCR 2025100104
	// line 4 invoice 1002 to Karl Nilsson pay 509.85 OCR 2025100203
	// line 5 rejected: line 5, column issue_date: "2025-02-30" is not a date in the form YYYY-MM-DD (invoice 1003)
}
