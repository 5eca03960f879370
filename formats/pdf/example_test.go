package pdf_test

import (
	"bytes"
	"fmt"
	"log"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/formats/pdf"
)

// A channel sends the document's own PDF when it has one and renders
// otherwise; one Renderer serves every document.
func ExampleRenderer() {
	r, err := pdf.NewRenderer(pdf.Options{SwishPayee: "1234567890"})
	if err != nil {
		log.Fatal(err)
	}
	doc := &formats.Document{Number: "1001", Currency: "SEK", Totals: formats.Totals{Payable: formats.MustAmount("125.00")}}
	out, ok := pdf.Attached(doc)
	if !ok {
		var b bytes.Buffer
		if err := r.Render(&b, doc); err != nil {
			log.Fatal(err)
		}
		out = b.Bytes()
	}
	fmt.Println(pdf.PageCount(out), "page")
	// Output: 1 page
}
