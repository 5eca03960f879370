package finvoice

import (
	"time"

	"github.com/multikanal/multikanal/formats"
)

func amt(s string) formats.Amount { return formats.MustAmount(s) }

func amtp(s string) *formats.Amount { a := amt(s); return &a }

// consumer is an electricity invoice to a Finnish consumer: the case the
// Finvoice forwarding service's consumer e-invoice exists for.
func consumer() *formats.Document {
	return &formats.Document{
		Kind: formats.KindInvoice, Number: "2024-1001", Currency: "EUR",
		IssueDate: formats.Date{Year: 2024, Month: 4, Day: 2}, DueDate: formats.Date{Year: 2024, Month: 4, Day: 30},
		Notes:        []string{"Sähkön myynti huhtikuu 2024. Kiitos että valitsit meidät!"},
		PaymentTerms: "14 päivää netto, viivästyskorko 8 %",
		Period:       &formats.Period{Start: formats.Date{Year: 2024, Month: 3, Day: 1}, End: formats.Date{Year: 2024, Month: 3, Day: 31}},
		Seller: formats.Party{Name: "Saimaan Sähkö Oy", LegalID: formats.Identifier{Scheme: "0212", Value: "0199920-7"}, VATID: "FI01999207",
			Address: formats.Address{Street: "Satamakatu 4", City: "Lappeenranta", PostalCode: "53100", Country: "FI"},
			Contact: formats.Contact{Phone: "+358 5 123 4567", Email: "laskutus@saimaansahko.example"}},
		Buyer: formats.Party{Name: "Matti Meikäläinen", CustomerNumber: "10053",
			Address: formats.Address{Street: "Koulukatu 12 B 7", City: "Lappeenranta", PostalCode: "53100", Country: "FI"}},
		PaymentMeans: []formats.PaymentMeans{{Code: "58", PaymentID: "12 34561", Account: "FI48 1950 3000 0000 10", AccountScheme: formats.AccountIBAN, ServiceID: "NDEAFIHH"}},
		VAT:          []formats.VATBreakdown{{Category: "S", Rate: "24", TaxableAmount: amt("100.00"), TaxAmount: amt("24.00")}},
		Totals:       formats.Totals{LineExtension: amt("100.00"), TaxExclusive: amt("100.00"), TaxTotal: amtp("24.00"), TaxInclusive: amt("124.00"), Payable: amt("124.00")},
		Lines: []formats.Line{
			{ID: "1", Quantity: "450", Unit: "KWH", NetAmount: amt("81.00"), Item: formats.LineItem{Name: "Sähköenergia", VATCategory: "S", VATRate: "24"}, Price: formats.Price{Amount: "0.18"}},
			{ID: "2", Quantity: "1", Unit: "MON", NetAmount: amt("19.00"), Item: formats.LineItem{Name: "Perusmaksu", VATCategory: "S", VATRate: "24"}, Price: formats.Price{Amount: "19"}},
		},
	}
}

// business is an invoice between Finnish companies with an RF reference,
// an allowance, an order reference and a delivery.
func business() *formats.Document {
	d := consumer()
	d.Number = "2024-1002"
	d.Buyer = formats.Party{Name: "Rakennusliike Virtanen Oy", LegalID: formats.Identifier{Scheme: "0212", Value: "1366959-8"}, VATID: "FI13669598",
		Endpoint: formats.Identifier{Scheme: "0037", Value: "003713669598"},
		Address:  formats.Address{Street: "Teollisuustie 8", City: "Kouvola", PostalCode: "45100", Country: "FI"},
		Contact:  formats.Contact{Name: "Liisa Virtanen"}}
	d.OrderReference, d.BuyerReference, d.ContractReference = "PO-77", "Työmaa 12", "SOP-2023-4"
	d.Delivery = &formats.Delivery{Date: formats.Date{Year: 2024, Month: 3, Day: 28}}
	d.PaymentMeans[0].PaymentID = "RF18 5390 0754 7034"
	d.AllowanceCharges = []formats.AllowanceCharge{{Amount: amt("10.00"), Reason: "Kanta-asiakasalennus", ReasonCode: "95", VATCategory: "S", VATRate: "24"}}
	d.VAT = []formats.VATBreakdown{{Category: "S", Rate: "24", TaxableAmount: amt("90.00"), TaxAmount: amt("21.60")}}
	d.Totals = formats.Totals{LineExtension: amt("100.00"), AllowanceTotal: amtp("10.00"), TaxExclusive: amt("90.00"), TaxTotal: amtp("21.60"),
		TaxInclusive: amt("111.60"), Payable: amt("111.60")}
	d.Lines[0].Item.SellerID, d.Lines[0].OrderLineRef = "EN-01", "3"
	return d
}

// credit credits the consumer invoice in full.
func credit() *formats.Document {
	d := consumer()
	d.Kind, d.Number, d.TypeCode = formats.KindCreditNote, "2024-H001", "381"
	d.Preceding = []formats.PrecedingInvoice{{Number: "2024-1001", IssueDate: formats.Date{Year: 2024, Month: 4, Day: 2}}}
	d.IssueDate, d.DueDate = formats.Date{Year: 2024, Month: 4, Day: 10}, formats.Date{}
	d.PaymentMeans[0].PaymentID = ""
	return d
}

func testBatch() Batch {
	return Batch{
		Created:       time.Date(2024, 4, 10, 6, 0, 0, 0, time.UTC),
		Intermediator: "OKOYFIHH",
		Items: []Item{
			{ID: "F0000001-0000001.finvoice", To: Address{ID: "FI2112345600000785", Intermediator: "NDEAFIHH"}, Doc: consumer()},
			{ID: "F0000001-0000002.finvoice", To: Address{ID: "003713669598", Intermediator: "003721291126"}, Doc: business()},
			{ID: "F0000001-0000003.finvoice", To: Address{ID: "FI2112345600000785", Intermediator: "NDEAFIHH"}, Doc: credit()},
		},
	}
}
