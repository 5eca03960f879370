package validate_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/formats/validate"
)

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func amt(s string) *formats.Amount {
	a := formats.MustAmount(s)
	return &a
}

// validInvoice builds a Swedish invoice that passes every rule, Peppol
// included: two lines at 25 % and 12 %, a line allowance, a document
// allowance and charge, öre rounding, paid by bankgiro with an OCR
// reference that carries a length digit.
func validInvoice() *formats.Document {
	se := func(street, city, zip string) formats.Address {
		return formats.Address{Street: street, City: city, PostalCode: zip, Country: "SE"}
	}
	return &formats.Document{
		Kind:            formats.KindInvoice,
		Number:          "2018210",
		IssueDate:       formats.Date{Year: 2026, Month: 3, Day: 1},
		DueDate:         formats.Date{Year: 2026, Month: 3, Day: 31},
		TypeCode:        "380",
		Currency:        "SEK",
		CustomizationID: "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0",
		ProfileID:       "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0",
		BuyerReference:  "BuyerRef 123",
		Seller: formats.Party{
			Name:            "Allsälj AB",
			Endpoint:        formats.Identifier{Scheme: "0007", Value: "5561234567"},
			LegalID:         formats.Identifier{Scheme: "0007", Value: "5561234567"},
			VATID:           "SE556123456701",
			TaxRegistration: "Godkänd för F-skatt",
			Address:         se("Storgatan 1", "Stockholm", "11122"),
		},
		Buyer: formats.Party{
			Name:     "Kommunteknisk service AB",
			Endpoint: formats.Identifier{Scheme: "0007", Value: "5560360793"},
			LegalID:  formats.Identifier{Scheme: "0007", Value: "5560360793"},
			Address:  se("Lilla gränd 9", "Stockholm", "10203"),
		},
		PaymentMeans: []formats.PaymentMeans{{
			Code: "30", PaymentID: "12345682", Account: "50501055", AccountScheme: formats.AccountBankgiro,
		}},
		AllowanceCharges: []formats.AllowanceCharge{
			{Charge: false, Amount: 10000, Reason: "Rabatt", VATCategory: "S", VATRate: "25"},
			{Charge: true, Amount: 5000, Reason: "Frakt", VATCategory: "S", VATRate: "25"},
		},
		VAT: []formats.VATBreakdown{
			{Category: "S", Rate: "25", TaxableAmount: 90000, TaxAmount: 22500},
			{Category: "S", Rate: "12", TaxableAmount: 37650, TaxAmount: 4518},
		},
		Totals: formats.Totals{
			LineExtension:  132650,
			AllowanceTotal: amt("100"),
			ChargeTotal:    amt("50"),
			TaxExclusive:   127650,
			TaxTotal:       amt("270.18"),
			TaxInclusive:   154668,
			Rounding:       amt("0.32"),
			Payable:        154700,
		},
		Lines: []formats.Line{
			{
				ID: "1", Quantity: "5", Unit: "EA", NetAmount: 95000,
				AllowanceCharges: []formats.AllowanceCharge{{Amount: 5000, Reason: "Mängdrabatt"}},
				Item:             formats.LineItem{Name: "Utbytesstol", VATCategory: "S", VATRate: "25"},
				Price:            formats.Price{Amount: "200"},
			},
			{
				ID: "2", Quantity: "3", Unit: "KGM", NetAmount: 37650,
				Item:  formats.LineItem{Name: "Kaffe", VATCategory: "S", VATRate: "12"},
				Price: formats.Price{Amount: "125.50"},
			},
		},
	}
}

// acme is the biller the valid invoice is from: its seller, VAT id and
// accounts.
var acme = &validate.Biller{Orgnr: "5561234567", VATID: "SE556123456701", Bankgiros: []string{"50501055"}, Plusgiros: []string{"4410098"}}

// zeroRated turns line 2 of the valid invoice into a zero-rated (cat) supply.
func zeroRated(cat string) func(d *formats.Document) {
	return func(d *formats.Document) {
		d.Lines[1].Item.VATCategory, d.Lines[1].Item.VATRate = cat, "0"
		d.VAT[1] = formats.VATBreakdown{Category: cat, Rate: "0", TaxableAmount: 37650}
		if cat == "E" {
			d.VAT[1].ExemptionReason = "Undantag enligt 3 kap. ML"
		}
		d.Totals.TaxTotal = amt("225")
		d.Totals.TaxInclusive = 150150
		d.Totals.Rounding = amt("-0.50")
		d.Totals.Payable = 150100
	}
}

func TestValidHasNoProblems(t *testing.T) {
	for name, change := range map[string]func(*formats.Document){
		"invoice":     func(*formats.Document) {},
		"zero rated":  zeroRated("Z"),
		"exempt":      zeroRated("E"),
		"credit note": func(d *formats.Document) { d.Kind, d.TypeCode = formats.KindCreditNote, "381" },
		"negative credit note": func(d *formats.Document) {
			d.Kind, d.TypeCode = formats.KindCreditNote, "381"
			d.Lines[1].NetAmount, d.Lines[1].Quantity = -37650, "-3"
			d.VAT[1].TaxableAmount, d.VAT[1].TaxAmount = -37650, -4518
			d.Totals = formats.Totals{LineExtension: 57350, AllowanceTotal: amt("100"), ChargeTotal: amt("50"),
				TaxExclusive: 52350, TaxTotal: amt("179.82"), TaxInclusive: 70332, Prepaid: amt("1000"), Payable: -29668}
		},
		"sole trader buyer": func(d *formats.Document) {
			d.Buyer.LegalID = formats.Identifier{Scheme: "0007", Value: "8112189876"}
			d.Buyer.Endpoint = formats.Identifier{Scheme: "0007", Value: "8112189876"}
		},
		"personnummer":           func(d *formats.Document) { d.Buyer.PersonalID = "198112189876" },
		"samordningsnummer":      func(d *formats.Document) { d.Buyer.PersonalID = "8112789873" },
		"payment terms, no date": func(d *formats.Document) { d.DueDate, d.PaymentTerms = formats.Date{}, "30 dagar netto" },
		"plusgiro": func(d *formats.Document) {
			d.PaymentMeans[0].Account, d.PaymentMeans[0].AccountScheme = "4410098", formats.AccountPlusgiro
		},
		"free-text reference": func(d *formats.Document) { d.PaymentMeans[0].PaymentID = "Faktura 2018210" },
		"VAT within tolerance": func(d *formats.Document) {
			d.VAT[1].TaxAmount = 4500
			d.Totals.TaxTotal = amt("270.00")
			d.Totals.TaxInclusive = 154650
			d.Totals.Rounding = amt("0.50")
		},
		"base quantity": func(d *formats.Document) { d.Lines[1].Price = formats.Price{Amount: "1255", BaseQuantity: "10"} },
		"tax currency": func(d *formats.Document) {
			d.TaxCurrency, d.Currency, d.Totals.TaxTotalAccounting = "SEK", "EUR", amt("3000")
		},
	} {
		t.Run(name, func(t *testing.T) {
			d := validInvoice()
			change(d)
			if ps := validate.Document(d, validate.Options{Now: now, Biller: acme, OCRLengthDigit: true}); ps != nil {
				t.Errorf("Document: want no problems, got\n%s", lines(ps))
			}
			if ps := validate.Peppol(d); ps != nil {
				t.Errorf("Peppol: want no problems, got\n%s", lines(ps))
			}
		})
	}
}

func lines(ps formats.Problems) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = fmt.Sprintf("  %s [%s]", p.Error(), p.Severity)
	}
	return strings.Join(s, "\n")
}

type ruleCase struct {
	name   string
	opt    validate.Options
	change func(d *formats.Document)
	rule   string
}

func TestDocument(t *testing.T) {
	cases := []ruleCase{
		{name: "no number", change: func(d *formats.Document) { d.Number = "" }, rule: "BR-02"},
		{name: "no issue date", change: func(d *formats.Document) { d.IssueDate = formats.Date{} }, rule: "BR-03"},
		{name: "no type", change: func(d *formats.Document) { d.TypeCode, d.Kind = "", "" }, rule: "BR-04"},
		{name: "no currency", change: func(d *formats.Document) { d.Currency = "" }, rule: "BR-05"},
		{name: "bad currency", change: func(d *formats.Document) { d.Currency = "kr" }, rule: "BR-CL-04"},
		{name: "bad tax currency", change: func(d *formats.Document) { d.TaxCurrency = "Euro" }, rule: "BR-CL-05"},
		{name: "no seller name", change: func(d *formats.Document) { d.Seller.Name = " " }, rule: "BR-06"},
		{name: "no buyer name", change: func(d *formats.Document) { d.Buyer.Name = "" }, rule: "BR-07"},
		{name: "no seller country", change: func(d *formats.Document) { d.Seller.Address.Country = "" }, rule: "BR-09"},
		{name: "no buyer country", change: func(d *formats.Document) { d.Buyer.Address.Country = "" }, rule: "BR-11"},
		{name: "no lines", change: func(d *formats.Document) { d.Lines = nil }, rule: "BR-16"},
		{name: "no line id", change: func(d *formats.Document) { d.Lines[0].ID = "" }, rule: "BR-21"},
		{name: "no quantity", change: func(d *formats.Document) { d.Lines[0].Quantity = "" }, rule: "BR-22"},
		{name: "no unit", change: func(d *formats.Document) { d.Lines[0].Unit = "" }, rule: "BR-23"},
		{name: "no item name", change: func(d *formats.Document) { d.Lines[1].Item.Name = "" }, rule: "BR-25"},
		{name: "no price", change: func(d *formats.Document) { d.Lines[1].Price.Amount = "" }, rule: "BR-26"},
		{name: "negative price", change: func(d *formats.Document) { d.Lines[1].Price.Amount = "-125.50" }, rule: "BR-27"},
		{name: "no line VAT category", change: func(d *formats.Document) { d.Lines[1].Item.VATCategory = "" }, rule: "BR-CO-04"},
		{name: "no seller id", change: func(d *formats.Document) { d.Seller.LegalID, d.Seller.VATID = formats.Identifier{}, "" }, rule: "BR-CO-26"},
		{name: "no due date or terms", change: func(d *formats.Document) { d.DueDate = formats.Date{} }, rule: "BR-CO-25"},
		{name: "line sum", change: func(d *formats.Document) { d.Totals.LineExtension++ }, rule: "BR-CO-10"},
		{name: "allowance total absent", change: func(d *formats.Document) { d.Totals.AllowanceTotal = nil }, rule: "BR-CO-11"},
		{name: "allowance total wrong", change: func(d *formats.Document) { d.Totals.AllowanceTotal = amt("90") }, rule: "BR-CO-11"},
		{name: "charge total wrong", change: func(d *formats.Document) { d.Totals.ChargeTotal = amt("0") }, rule: "BR-CO-12"},
		{name: "total without VAT", change: func(d *formats.Document) { d.Totals.TaxExclusive = 132650 }, rule: "BR-CO-13"},
		{name: "VAT total", change: func(d *formats.Document) { d.Totals.TaxTotal = amt("270.00") }, rule: "BR-CO-14"},
		{name: "VAT total absent", change: func(d *formats.Document) { d.Totals.TaxTotal = nil }, rule: "BR-CO-14"},
		{name: "total with VAT", change: func(d *formats.Document) { d.Totals.TaxInclusive = 154700 }, rule: "BR-CO-15"},
		{name: "amount due", change: func(d *formats.Document) { d.Totals.Rounding = nil }, rule: "BR-CO-16"},
		{name: "VAT amount", change: func(d *formats.Document) { d.VAT[0].TaxAmount = 22400 }, rule: "BR-CO-17"},
		{name: "VAT at rate 0", change: func(d *formats.Document) { zeroRated("Z")(d); d.VAT[1].Category = "O"; d.VAT[1].TaxAmount = 1 }, rule: "BR-CO-17"},
		{name: "no VAT breakdown", change: func(d *formats.Document) { d.VAT = nil }, rule: "BR-CO-18"},
		{name: "bad breakdown category", change: func(d *formats.Document) { d.VAT[0].Category = "X" }, rule: "BR-CL-18"},
		{name: "bad line category", change: func(d *formats.Document) { d.Lines[0].Item.VATCategory = "VAT" }, rule: "BR-CL-17"},
		{name: "S without S breakdown", change: func(d *formats.Document) { d.VAT[0].Category, d.VAT[1].Category = "AE", "AE" }, rule: "BR-S-01"},
		{name: "S without seller VAT id", change: func(d *formats.Document) { d.Seller.VATID, d.Seller.TaxRegistration = "", "" }, rule: "BR-S-02"},
		{name: "S allowance without seller VAT id", change: func(d *formats.Document) { d.Seller.VATID, d.Seller.TaxRegistration = "", "" }, rule: "BR-S-03"},
		{name: "S line at 0", change: func(d *formats.Document) { d.Lines[1].Item.VATRate = "0" }, rule: "BR-S-05"},
		{name: "S allowance without rate", change: func(d *formats.Document) { d.AllowanceCharges[0].VATRate = "" }, rule: "BR-S-06"},
		{name: "S charge at 0", change: func(d *formats.Document) { d.AllowanceCharges[1].VATRate = "0" }, rule: "BR-S-07"},
		{name: "S taxable", change: func(d *formats.Document) { d.VAT[0].TaxableAmount, d.VAT[0].TaxAmount = 95000, 23750 }, rule: "BR-S-08"},
		{name: "S rate nothing uses", change: func(d *formats.Document) { d.VAT[1].Rate, d.VAT[1].TaxAmount = "6", 2259 }, rule: "BR-S-08"},
		{name: "S exemption", change: func(d *formats.Document) { d.VAT[0].ExemptionReason = "Undantag" }, rule: "BR-S-10"},
		{name: "two Z breakdowns", change: func(d *formats.Document) { zeroRated("Z")(d); d.VAT = append(d.VAT, d.VAT[1]) }, rule: "BR-Z-01"},
		{name: "Z line rated", change: func(d *formats.Document) { zeroRated("Z")(d); d.Lines[1].Item.VATRate = "12" }, rule: "BR-Z-05"},
		{name: "Z taxable", change: func(d *formats.Document) { zeroRated("Z")(d); d.VAT[1].TaxableAmount = 37600 }, rule: "BR-Z-08"},
		{name: "Z tax", change: func(d *formats.Document) { zeroRated("Z")(d); d.VAT[1].TaxAmount = 1 }, rule: "BR-Z-09"},
		{name: "Z exemption", change: func(d *formats.Document) { zeroRated("Z")(d); d.VAT[1].ExemptionCode = "VATEX-EU-O" }, rule: "BR-Z-10"},
		{name: "E without seller VAT id", change: func(d *formats.Document) { zeroRated("E")(d); d.Seller.VATID, d.Seller.TaxRegistration = "", "" }, rule: "BR-E-02"},
		{name: "E taxable", change: func(d *formats.Document) { zeroRated("E")(d); d.VAT[1].TaxableAmount = 0 }, rule: "BR-E-08"},
		{name: "E without reason", change: func(d *formats.Document) { zeroRated("E")(d); d.VAT[1].ExemptionReason = "" }, rule: "BR-E-10"},
		{name: "OCR check digit", change: func(d *formats.Document) { d.PaymentMeans[0].PaymentID = "12345683" }, rule: "MK-OCR"},
		{name: "OCR too long", change: func(d *formats.Document) { d.PaymentMeans[0].PaymentID = strings.Repeat("1", 26) }, rule: "MK-OCR"},
		{name: "OCR without length digit", opt: validate.Options{OCRLengthDigit: true}, change: func(d *formats.Document) { d.PaymentMeans[0].PaymentID = "12345674" }, rule: "MK-OCR"},
		{name: "OCR to plusgiro", change: func(d *formats.Document) {
			d.PaymentMeans[0].PaymentID, d.PaymentMeans[0].Account, d.PaymentMeans[0].AccountScheme = "1", "4410098", formats.AccountPlusgiro
		}, rule: "MK-OCR"},
		{name: "bankgiro", change: func(d *formats.Document) { d.PaymentMeans[0].Account = "5050-1056" }, rule: "MK-BG"},
		{name: "plusgiro", change: func(d *formats.Document) {
			d.PaymentMeans[0].Account, d.PaymentMeans[0].AccountScheme = "4410097", formats.AccountPlusgiro
		}, rule: "MK-PG"},
		{name: "seller orgnr", change: func(d *formats.Document) { d.Seller.LegalID.Value = "5561234568" }, rule: "MK-ORGNR"},
		{name: "orgnr without scheme", change: func(d *formats.Document) { d.Seller.LegalID = formats.Identifier{Value: "556123-4568"} }, rule: "MK-ORGNR"},
		{name: "seller endpoint orgnr", change: func(d *formats.Document) { d.Seller.Endpoint.Value = "5561234568" }, rule: "MK-ORGNR"},
		{name: "personnummer check digit", change: func(d *formats.Document) { d.Buyer.PersonalID = "198112189875" }, rule: "MK-PNR"},
		{name: "personnummer date", change: func(d *formats.Document) { d.Buyer.PersonalID = "19811318-9876" }, rule: "MK-PNR"},
		{name: "due before issue", change: func(d *formats.Document) { d.DueDate = formats.Date{Year: 2026, Month: 2, Day: 28} }, rule: "MK-DUE"},
		{name: "other seller", opt: validate.Options{Biller: &validate.Biller{Orgnr: "5560360793", Bankgiros: []string{"50501055"}}}, change: func(*formats.Document) {}, rule: "MK-SELLER"},
		{name: "seller without orgnr", opt: validate.Options{Biller: acme}, change: func(d *formats.Document) {
			d.Seller.LegalID, d.Seller.VATID = formats.Identifier{}, ""
			d.Seller.Identifiers = []formats.Identifier{{Value: "ABC"}}
		}, rule: "MK-SELLER"},
		{name: "other seller by VAT id", opt: validate.Options{Biller: acme}, change: func(d *formats.Document) {
			d.Seller.LegalID, d.Seller.VATID = formats.Identifier{}, "SE556036079301"
		}, rule: "MK-SELLER"},
		{name: "other seller by VAT id, no vat_id", opt: validate.Options{Biller: &validate.Biller{Orgnr: "5561234567", Bankgiros: []string{"50501055"}}}, change: func(d *formats.Document) {
			d.Seller.VATID = "SE556036079301"
		}, rule: "MK-SELLER"},
		{name: "foreign seller", opt: validate.Options{Biller: acme}, change: func(d *formats.Document) {
			d.Seller.LegalID, d.Seller.VATID = formats.Identifier{Scheme: "0192", Value: "999999999"}, "NO999999999MVA"
		}, rule: "MK-SELLER"},
		{name: "other seller's Peppol address", opt: validate.Options{Biller: acme}, change: func(d *formats.Document) {
			d.Seller.Endpoint.Value = "5560360793"
		}, rule: "MK-SELLER"},
		{name: "other bankgiro", opt: validate.Options{Biller: acme}, change: func(d *formats.Document) { d.PaymentMeans[0].Account = "9912346" }, rule: "MK-ACCOUNT"},
		{name: "other plusgiro", opt: validate.Options{Biller: acme}, change: func(d *formats.Document) {
			d.PaymentMeans[0].Account, d.PaymentMeans[0].AccountScheme = "4410106", formats.AccountPlusgiro
		}, rule: "MK-ACCOUNT"},
		{name: "IBAN not the tenant's", opt: validate.Options{Biller: acme}, change: func(d *formats.Document) {
			d.PaymentMeans = append(d.PaymentMeans, formats.PaymentMeans{Code: "58", Account: "SE4550000000058398257466"})
		}, rule: "MK-ACCOUNT"},
		{name: "account of another scheme", opt: validate.Options{Biller: acme}, change: func(d *formats.Document) {
			d.PaymentMeans[0].Account, d.PaymentMeans[0].AccountScheme = "8327-9 123456789", "SE:BANKKONTO"
		}, rule: "MK-ACCOUNT"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := validInvoice()
			c.change(d)
			if c.opt.Now.IsZero() {
				c.opt.Now = now
			}
			expect(t, validate.Document(d, c.opt), c.rule, formats.SeverityError, d)
		})
	}
}

// expect asserts that rule is among ps with the given severity and that
// every message names the document.
func expect(t *testing.T, ps formats.Problems, rule string, sev formats.Severity, d *formats.Document) {
	t.Helper()
	found := false
	for _, p := range ps {
		if !strings.HasPrefix(p.Message, d.Label()+": ") {
			t.Errorf("message does not start with the label %q: %s", d.Label(), p.Message)
		}
		if p.Rule == rule {
			found = true
			if p.Severity != sev {
				t.Errorf("%s has severity %s, want %s", rule, p.Severity, sev)
			}
		}
	}
	if !found {
		t.Errorf("want %s, got\n%s", rule, lines(ps))
	}
}

func TestMessages(t *testing.T) {
	for _, c := range []struct {
		change func(d *formats.Document)
		opt    validate.Options
		want   string
	}{
		{
			change: func(d *formats.Document) { d.Totals.Payable = 165625 },
			want:   "BR-CO-16: invoice 2018210: amount due (BT-115) 1656.25 ≠ total with VAT 1546.68 − paid 0.00 + rounding 0.32 = 1547.00",
		},
		{
			change: func(d *formats.Document) { d.PaymentMeans[0].Account = "5050-1056" },
			want:   "MK-BG: invoice 2018210: bankgiro 5050-1056: check digit is wrong, expected 5",
		},
		{
			opt:  validate.Options{Biller: &validate.Biller{Orgnr: "5560360793", Bankgiros: []string{"50501055"}}},
			want: "MK-SELLER: invoice 2018210: the seller's organisationsnummer 556123-4567 is not the tenant's seller 556036-0793: one tenant cannot send in another's name",
		},
		{
			opt:    validate.Options{Biller: acme},
			change: func(d *formats.Document) { d.PaymentMeans[0].Account = "991-2346" },
			want:   "MK-ACCOUNT: invoice 2018210: payable to bankgiro 991-2346, which is not one of the tenant's accounts (bankgiro 5050-1055, plusgiro 441009-8): one tenant cannot be paid into another's account; add the account to the tenant's configuration if it is the biller's",
		},
		{
			change: func(d *formats.Document) { d.VAT[0].TaxAmount = 22400 },
			want:   "BR-CO-17: invoice 2018210: VAT breakdown S 25 %: tax amount 224.00 ≠ taxable 900.00 × 25 % = 225.00",
		},
	} {
		d := validInvoice()
		if c.change != nil {
			c.change(d)
		}
		c.opt.Now = now
		var got []string
		for _, p := range validate.Document(d, c.opt) {
			got = append(got, p.Error())
		}
		if !contains(got, c.want) {
			t.Errorf("want message\n  %s\ngot\n  %s", c.want, strings.Join(got, "\n  "))
		}
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func TestPeppol(t *testing.T) {
	type pc struct {
		name   string
		change func(d *formats.Document)
		rule   string
		sev    formats.Severity
	}
	E, W := formats.SeverityError, formats.SeverityWarning
	cases := []pc{
		{"no profile", func(d *formats.Document) { d.ProfileID = "" }, "PEPPOL-EN16931-R001", E},
		{"bad profile", func(d *formats.Document) { d.ProfileID = "urn:fdc:peppol.eu:2017:poacc:billing:1:1.0" }, "PEPPOL-EN16931-R007", E},
		{"no customization", func(d *formats.Document) { d.CustomizationID = "" }, "PEPPOL-EN16931-R004", E},
		{"EN 16931 customization", func(d *formats.Document) { d.CustomizationID = "urn:cen.eu:en16931:2017" }, "PEPPOL-EN16931-R004", E},
		{"no buyer reference", func(d *formats.Document) { d.BuyerReference = "" }, "PEPPOL-EN16931-R003", E},
		{"no tax subtotals", func(d *formats.Document) { d.VAT = nil }, "PEPPOL-EN16931-R053", E},
		{"tax currency same", func(d *formats.Document) { d.TaxCurrency, d.Totals.TaxTotalAccounting = "SEK", amt("270.18") }, "PEPPOL-EN16931-R005", E},
		{"tax currency without total", func(d *formats.Document) { d.TaxCurrency, d.Currency = "SEK", "EUR" }, "PEPPOL-EN16931-R054", E},
		{"accounting total without currency", func(d *formats.Document) { d.Totals.TaxTotalAccounting = amt("10") }, "PEPPOL-EN16931-R054", E},
		{"accounting total sign", func(d *formats.Document) {
			d.TaxCurrency, d.Currency, d.Totals.TaxTotalAccounting = "SEK", "EUR", amt("-3000")
		}, "PEPPOL-EN16931-R055", E},
		{"direct debit without mandate", func(d *formats.Document) { d.PaymentMeans[0].Code = "49" }, "PEPPOL-EN16931-R061", E},
		{"no buyer endpoint", func(d *formats.Document) { d.Buyer.Endpoint = formats.Identifier{} }, "PEPPOL-EN16931-R010", E},
		{"no seller endpoint", func(d *formats.Document) { d.Seller.Endpoint = formats.Identifier{} }, "PEPPOL-EN16931-R020", E},
		{"buyer e-mail endpoint", func(d *formats.Document) { d.Buyer.Endpoint = formats.Identifier{Scheme: "EM", Value: "ap@example.se"} }, "PEPPOL-EN16931-CL008", E},
		{"seller unknown scheme", func(d *formats.Document) { d.Seller.Endpoint.Scheme = "9901" }, "PEPPOL-EN16931-CL008", E},
		{"0007 not an orgnr", func(d *formats.Document) { d.Buyer.LegalID.Value = "556036-0793" }, "PEPPOL-COMMON-R049", E},
		{"line net amount", func(d *formats.Document) { d.Lines[1].NetAmount += 3 }, "PEPPOL-EN16931-R120", E},
		{"line allowance forgotten", func(d *formats.Document) { d.Lines[0].AllowanceCharges = nil }, "PEPPOL-EN16931-R120", E},
		{"base quantity 0", func(d *formats.Document) { d.Lines[1].Price.BaseQuantity = "0" }, "PEPPOL-EN16931-R121", E},
		{"VAT id length", func(d *formats.Document) { d.Seller.VATID = "SE55612345670101" }, "SE-R-001", E},
		{"VAT id letters", func(d *formats.Document) { d.Seller.VATID = "SE5561234567AB" }, "SE-R-002", E},
		{"orgnr letters", func(d *formats.Document) { d.Seller.LegalID.Value = "SE55612345" }, "SE-R-003", E},
		{"orgnr hyphen", func(d *formats.Document) { d.Seller.LegalID.Value = "556123-4567" }, "SE-R-003", E},
		{"orgnr length", func(d *formats.Document) { d.Seller.LegalID.Value = "165561234567" }, "SE-R-004", E},
		{"F-skatt", func(d *formats.Document) { d.Seller.TaxRegistration = "F-skatt finns" }, "SE-R-005", E},
		{"Swedish rate", func(d *formats.Document) { d.Lines[1].Item.VATRate, d.VAT[1].Rate = "15", "15" }, "SE-R-006", E},
		{"Swedish rate on allowance", func(d *formats.Document) { d.AllowanceCharges[0].VATRate = "" }, "SE-R-006", E},
		{"plusgiro letters", func(d *formats.Document) {
			d.PaymentMeans[0].Account, d.PaymentMeans[0].AccountScheme = "PG4410098", formats.AccountPlusgiro
		}, "SE-R-007", W},
		{"bankgiro hyphen", func(d *formats.Document) { d.PaymentMeans[0].Account = "5050-1055" }, "SE-R-008", W},
		{"bankgiro length", func(d *formats.Document) { d.PaymentMeans[0].Account = "505010555" }, "SE-R-009", W},
		{"plusgiro length", func(d *formats.Document) {
			d.PaymentMeans[0].Account, d.PaymentMeans[0].AccountScheme = "123456789", formats.AccountPlusgiro
		}, "SE-R-010", W},
		{"giro code 50", func(d *formats.Document) { d.PaymentMeans[0].Code = "50" }, "SE-R-011", W},
		{"code 31 domestic", func(d *formats.Document) { d.PaymentMeans[0].Code = "31" }, "SE-R-012", W},
		{"orgnr Luhn", func(d *formats.Document) { d.Seller.LegalID.Value = "5561234568" }, "SE-R-013", E},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := validInvoice()
			c.change(d)
			expect(t, validate.Peppol(d), c.rule, c.sev, d)
		})
	}
}

// TestSwedishRulesNeedSwedishSeller checks that the SE-R rules stay silent
// for a foreign seller, as their schematron contexts do.
func TestSwedishRulesNeedSwedishSeller(t *testing.T) {
	d := validInvoice()
	d.Seller.Address.Country = "NO"
	d.Seller.VATID = "NO999999999MVA"
	d.Seller.LegalID = formats.Identifier{Scheme: "0192", Value: "999999999"}
	d.Seller.Endpoint = d.Seller.LegalID
	d.Seller.TaxRegistration = "Foretaksregisteret"
	d.PaymentMeans[0].Code = "31"
	d.VAT[1].Rate, d.Lines[1].Item.VATRate, d.VAT[1].TaxAmount = "15", "15", 5648
	d.Totals.TaxTotal, d.Totals.TaxInclusive, d.Totals.Rounding, d.Totals.Payable = amt("281.48"), 155798, nil, 155798
	for _, p := range validate.Peppol(d) {
		t.Errorf("unexpected %s", p.Error())
	}
}

// BenchmarkDocument validates a 10-line invoice.
func BenchmarkDocument(b *testing.B) {
	d := validInvoice()
	l := d.Lines[1]
	d.Lines = d.Lines[:1]
	for i := 2; i <= 10; i++ {
		l.ID = fmt.Sprint(i)
		d.Lines = append(d.Lines, l)
	}
	var ext formats.Amount
	for _, l := range d.Lines {
		ext += l.NetAmount
	}
	d.VAT[1].TaxableAmount, d.VAT[1].TaxAmount = 338850, 40662 // 9 × 376.50 at 12 %
	d.Totals.LineExtension = ext
	d.Totals.TaxExclusive = ext - 10000 + 5000
	tax := d.VAT[0].TaxAmount + d.VAT[1].TaxAmount
	d.Totals.TaxTotal = &tax
	d.Totals.TaxInclusive = d.Totals.TaxExclusive + tax
	d.Totals.Rounding = nil
	d.Totals.Payable = d.Totals.TaxInclusive
	opt := validate.Options{Now: now, Biller: acme}
	if ps := validate.Document(d, opt); ps != nil {
		b.Fatalf("benchmark invoice is not valid:\n%s", lines(ps))
	}
	b.ReportAllocs()
	for b.Loop() {
		validate.Document(d, opt)
	}
}

// A negative invoice is valid EN 16931 (a corrective invoice) and is
// delivered; the biller is warned that a credit note is the usual form.
func TestNegativeInvoiceIsAWarning(t *testing.T) {
	d := validInvoice()
	d.Totals.Rounding, d.Totals.Prepaid, d.Totals.Payable = nil, amt("2000"), -45332
	ps := validate.Document(d, validate.Options{})
	expect(t, ps, "MK-PAYABLE", formats.SeverityWarning, d)
	if errs := ps.Errors(); len(errs) > 0 {
		t.Errorf("a negative invoice must not be rejected: %v", errs)
	}
}

// A wrong check digit in the buyer's organisationsnummer is a warning: the
// invoice can still reach the buyer another way. The seller's stays an
// error, as do bankgiro, plusgiro and OCR (TestDocument).
func TestBuyerCheckDigitsAreWarnings(t *testing.T) {
	for name, change := range map[string]func(*formats.Document){
		"buyer legal id":       func(d *formats.Document) { d.Buyer.LegalID.Value = "5560360794" },
		"buyer legal id bare":  func(d *formats.Document) { d.Buyer.LegalID = formats.Identifier{Value: "556036-0794"} },
		"buyer Peppol address": func(d *formats.Document) { d.Buyer.Endpoint.Value = "1234512345" },
		"buyer both":           func(d *formats.Document) { d.Buyer.LegalID.Value, d.Buyer.Endpoint.Value = "5560360794", "5560360794" },
	} {
		t.Run(name, func(t *testing.T) {
			d := validInvoice()
			change(d)
			ps := validate.Document(d, validate.Options{Now: now, Biller: acme, OCRLengthDigit: true})
			expect(t, ps, "MK-ORGNR", formats.SeverityWarning, d)
			if errs := ps.Errors(); len(errs) > 0 {
				t.Errorf("a wrong buyer check digit must not reject the invoice: %v", errs)
			}
		})
	}
}

// Both checks name the tenant's biller: the embedded demo tenant is open,
// and each of its documents says so.
func TestBillerRules(t *testing.T) {
	d := validInvoice()
	d.Seller.LegalID, d.Seller.VATID = formats.Identifier{Scheme: "0192", Value: "999999999"}, "NO999999999MVA"
	d.PaymentMeans[0].Account = "9912346"
	ps := validate.Document(d, validate.Options{Now: now, Biller: &validate.Biller{Open: true}})
	expect(t, ps, "MK-OPEN", formats.SeverityWarning, d)
	if errs := ps.Errors(); len(errs) > 0 {
		t.Errorf("an open tenant must take any seller and account: %v", errs)
	}
	if ps := validate.Document(validInvoice(), validate.Options{Now: now}); ps != nil {
		t.Errorf("without a biller nothing is said about it:\n%s", lines(ps))
	}
	// A direct debit names the buyer's account (BT-91), not the seller's.
	d = validInvoice()
	d.PaymentMeans = append(d.PaymentMeans, formats.PaymentMeans{Code: "49", MandateID: "10017", DebitedAccount: "SE3550000000054910000003"})
	ps = validate.Document(d, validate.Options{Now: now, Biller: &validate.Biller{Orgnr: "5561234567", VATID: "SE556123456701", Bankgiros: []string{"50501055"}, IBANs: []string{"SE4550000000058398257466"}}})
	if ps != nil {
		t.Errorf("the tenant's own seller and accounts: want no problems, got\n%s", lines(ps))
	}
}
