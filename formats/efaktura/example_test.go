package efaktura_test

import (
	"fmt"
	"strings"

	"github.com/multikanal/multikanal/formats/efaktura"
)

// The gateway turns each result of a report into the delivery state of the
// invoice it names in the batch it names.
func ExampleParseReport() {
	rep, err := efaktura.ParseReport(strings.NewReader(`<?xml version="1.0" encoding="UTF-8"?>
<InvoiceBatchReport xmlns="urn:multikanal:efaktura:report:1">
	<BatchID>B20240410-0001</BatchID>
	<Invoice status="accepted"><ID>2024-0001</ID></Invoice>
	<Invoice status="rejected"><ID>2024-0002</ID><Reason code="E-REG">no active registration</Reason></Invoice>
</InvoiceBatchReport>`))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range rep.Results {
		if r.Status == efaktura.Rejected {
			fmt.Println(rep.BatchID, r.Invoice, r.Status, r.Code, r.Reason)
			continue
		}
		fmt.Println(rep.BatchID, r.Invoice, r.Status)
	}
	// Output:
	// B20240410-0001 2024-0001 accepted
	// B20240410-0001 2024-0002 rejected E-REG no active registration
}
