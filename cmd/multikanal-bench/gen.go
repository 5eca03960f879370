package main

import (
	"archive/zip"
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/formats/csv"
	"github.com/multikanal/multikanal/formats/ubl"
)

// The recipient mix, in twentieths of a batch: invoice i takes the share
// that i%20 falls in. A fixed cycle rather than random draws keeps every
// batch size, even a small one, at the intended mix.
const (
	mixPeppol   = 6 // 30%: Peppol participant 0007:<orgnr>
	mixEmail    = 5 // 25%: e-mail address
	mixSMS      = 2 // 10%: Swedish mobile number
	mixPrint    = 5 // 25%: postal address only
	mixEfaktura = 1 // 5%: personnummer registered for e-faktura (and an address)
	mixKivra    = 1 // 5%: personnummer registered for Kivra (and an address)
)

// recipient is the channel a generated invoice is meant for.
type recipient string

const (
	toPeppol   recipient = "peppol"
	toEmail    recipient = "email"
	toSMS      recipient = "sms"
	toPrint    recipient = "print"
	toEfaktura recipient = "efaktura"
	toKivra    recipient = "kivra"
)

// recipientOf says which share of the mix invoice i belongs to.
func recipientOf(i int) recipient {
	k := i % 20
	for _, s := range []struct {
		n int
		r recipient
	}{{mixPeppol, toPeppol}, {mixEmail, toEmail}, {mixSMS, toSMS}, {mixPrint, toPrint}, {mixEfaktura, toEfaktura}, {mixKivra, toKivra}} {
		if k < s.n {
			return s.r
		}
		k -= s.n
	}
	panic("the mix does not add up to 20")
}

// withPayer reports whether invoice i carries an AutoGiro payer number
// (10%: one e-mail and one print invoice in every twenty). The embedded
// default has no mandates until a mandate advice file arrives, so these
// invoices are distributed as usual and their collection is "none": the
// cost measured is the registry look-up, not a withdrawal.
func withPayer(i int) bool { k := i % 20; return k == mixPeppol+1 || k == mixPeppol+mixEmail+mixSMS+1 }

// luhn appends the Luhn check digit to digits.
func luhn(digits string) string { return digits + string(formats.LuhnDigit(digits)) }

// orgnr is a valid organisationsnummer for buyer i (third digit 6, as
// companies' numbers have, and a Luhn check digit).
func orgnr(i int) string { return luhn(fmt.Sprintf("556%06d", i%1_000_000)) }

// personnummer is a valid 12-digit personnummer for buyer i.
func personnummer(i int) string {
	ymd := fmt.Sprintf("%04d%02d%02d", 1940+i%60, 1+i/60%12, 1+i/720%28)
	return ymd[:2] + luhn(ymd[2:]+fmt.Sprintf("%03d", i/20%1000))
}

// mobile is a Swedish mobile number for buyer i, written the way ERPs do.
func mobile(i int) string {
	n := fmt.Sprintf("%07d", i%10_000_000)
	return "07" + string("02369"[i%5]) + "-" + n[:3] + " " + n[3:5] + " " + n[5:]
}

// ocr is a valid OCR reference for invoice number n: the digits, a length
// digit and a Luhn check digit, as the demo tenant's bankgiro expects.
func ocr(n string) string {
	return luhn(n + strconv.Itoa((len(n)+2)%10))
}

// item is a priced article; prices are whole öre and quantities whole units,
// so every line amount is exact and the totals need no rounding but VAT's.
type item struct {
	name  string
	unit  string
	price formats.Amount // öre
	rate  int64          // VAT percent
}

var items = []item{
	{"Elhandel, rörligt pris", "KWH", 124, 25},
	{"Månadsavgift", "C62", 3920, 25},
	{"Elnät, överföringsavgift", "KWH", 31, 25},
	{"Facklitteratur: Energieffektiva byggnader", "H87", 34900, 6},
	{"Energikonsultation, timmar", "HUR", 95000, 25},
}

// seller is the demo tenant's company, the seller on every generated invoice.
var seller = formats.Party{
	Name: "Multikanal Demo Energi AB", LegalID: formats.Identifier{Scheme: "0007", Value: "5566123450"},
	Endpoint: formats.Identifier{Scheme: "0007", Value: "5566123450"},
	VATID:    "SE556612345001", TaxRegistration: "Godkänd för F-skatt",
	Address: formats.Address{Street: "Storgatan 12", PostalCode: "111 22", City: "Stockholm", Country: "SE"},
	Contact: formats.Contact{Email: "faktura@demo-energi.example.se"},
}

// generator makes deterministic invoices: the same index gives the same
// invoice, so a batch can be regenerated and its recipients registered
// without keeping the batch.
type generator struct {
	// prefix starts every invoice number, so batches of one run never share
	// bytes (the gateway reports identical files as duplicates).
	prefix int
	issue  formats.Date
	// only, when set, sends every invoice to one channel instead of the
	// mix (-zip-mix email: the all-e-mail batch of issue 24).
	only recipient
}

func newGenerator(prefix int) *generator {
	return &generator{prefix: prefix, issue: formats.DateOf(time.Now())}
}

// onlyTo is the same generator with every invoice meant for r ("" or
// "mixed": the mix).
func (g *generator) onlyTo(r recipient) (*generator, error) {
	o := *g
	switch r {
	case "", "mixed":
		o.only = ""
	case toPeppol, toEmail, toSMS, toPrint, toEfaktura, toKivra:
		o.only = r
	default:
		return nil, fmt.Errorf("no recipient mix %q: write mixed, peppol, email, sms, print, efaktura or kivra", r)
	}
	return &o, nil
}

// recipientOf is the channel invoice i is meant for.
func (g *generator) recipientOf(i int) recipient {
	if g.only != "" {
		return g.only
	}
	return recipientOf(i)
}

// doc is invoice i.
func (g *generator) doc(i int) *formats.Document {
	number := strconv.Itoa(g.prefix*10_000_000 + i)
	cust := strconv.Itoa(100_000 + i)
	ref := ocr(number)
	d := &formats.Document{
		Kind: formats.KindInvoice, TypeCode: "380", Number: number, Currency: "SEK",
		IssueDate: g.issue, DueDate: formats.DateOf(g.issue.Time().AddDate(0, 0, 30)),
		PaymentTerms: "30 dagar netto", Seller: seller,
		Buyer: formats.Party{Name: "Kund " + cust + " Åkesson", CustomerNumber: cust,
			Address: formats.Address{Country: "SE"}},
	}
	b := &d.Buyer
	street := formats.Address{Street: fmt.Sprintf("Björkvägen %d", 1+i%120), PostalCode: fmt.Sprintf("%03d %02d", 100+i%880, i%100),
		City: []string{"Uppsala", "Göteborg", "Malmö", "Umeå", "Karlskrona"}[i%5], Country: "SE"}
	switch g.recipientOf(i) {
	case toPeppol:
		b.Name = "Byggbolaget " + cust + " AB"
		b.LegalID = formats.Identifier{Scheme: "0007", Value: orgnr(i)}
		b.Endpoint = b.LegalID
		b.Address = street
		d.BuyerReference = "Inköp " + cust
	case toEmail:
		b.Contact.Email = "kund" + cust + "@example.se"
	case toSMS:
		b.Contact.Phone = mobile(i)
	case toPrint:
		b.Address = street
	case toEfaktura, toKivra:
		// A consumer known by personnummer also has a postal address: the
		// registry's channel comes first, print is the fallback (and the
		// only way for the UBL share, which has no element for a
		// personnummer).
		b.PersonalID = personnummer(i)
		b.Address = street
	}
	if withPayer(i) {
		d.PaymentMeans = append(d.PaymentMeans, formats.PaymentMeans{Code: formats.MeansDirectDebit, PaymentID: ref, MandateID: cust})
	}
	d.PaymentMeans = append(d.PaymentMeans, formats.PaymentMeans{Code: formats.MeansCreditTransfer, PaymentID: ref,
		Account: "991-2346", AccountScheme: formats.AccountBankgiro})

	var net formats.Amount
	for j := range 1 + i%3 {
		it := items[(i+j)%len(items)]
		qty := int64(1 + (i*7+j*13)%40)
		if it.unit == "KWH" {
			qty = int64(200 + (i*31+j)%1800)
		}
		amount := formats.Amount(qty) * it.price
		d.Lines = append(d.Lines, formats.Line{ID: strconv.Itoa(j + 1), Quantity: formats.Decimal(strconv.FormatInt(qty, 10)), Unit: it.unit,
			NetAmount: amount,
			Item:      it.Item(), Price: formats.Price{Amount: formats.Decimal(it.price.String())}})
		net += amount
		k := 0
		for k < len(d.VAT) && d.VAT[k].Rate != d.Lines[j].Item.VATRate {
			k++
		}
		if k == len(d.VAT) {
			d.VAT = append(d.VAT, formats.VATBreakdown{Category: "S", Rate: d.Lines[j].Item.VATRate})
		}
		d.VAT[k].TaxableAmount += amount
	}
	var tax formats.Amount
	for k := range d.VAT {
		rate, _ := strconv.ParseInt(string(d.VAT[k].Rate), 10, 64)
		d.VAT[k].TaxAmount = (d.VAT[k].TaxableAmount*formats.Amount(rate) + 50) / 100 // half up; amounts are positive
		tax += d.VAT[k].TaxAmount
	}
	d.Totals = formats.Totals{LineExtension: net, TaxExclusive: net, TaxTotal: &tax, TaxInclusive: net + tax, Payable: net + tax}
	return d
}

// Item is the line item an article becomes; its rate is what the VAT
// breakdown groups by.
func (it item) Item() formats.LineItem {
	return formats.LineItem{Name: it.name, VATCategory: "S", VATRate: formats.Decimal(strconv.FormatInt(it.rate, 10))}
}

// writeCSV writes invoices [from, from+n) as one Multikanal CSV file,
// generating each as it is written, so memory stays flat for any n.
func (g *generator) writeCSV(path string, from, n int) (int64, error) {
	return writeFile(path, func(w io.Writer) error {
		cw := csv.NewWriter(w)
		for i := from; i < from+n; i++ {
			if err := cw.Write(g.doc(i)); err != nil {
				return err
			}
		}
		return cw.Flush()
	})
}

// writeUBLZip writes invoices [from, from+n) as a ZIP of UBL 2.1 files.
func (g *generator) writeUBLZip(path string, from, n int) (int64, error) {
	return writeFile(path, func(w io.Writer) error {
		zw := zip.NewWriter(w)
		for i := from; i < from+n; i++ {
			d := g.doc(i)
			f, err := zw.Create("invoice-" + d.Number + ".xml")
			if err != nil {
				return err
			}
			if err := ubl.Write(f, d); err != nil {
				return err
			}
		}
		return zw.Close()
	})
}

// writeRecipients writes the registration CSV that makes the personnummer
// shares of invoices [from, from+n) eligible for e-faktura and Kivra.
func (g *generator) writeRecipients(w io.Writer, from, n int) (int, error) {
	bw := bufio.NewWriter(w)
	fmt.Fprintln(bw, "key;channel;address;valid_from")
	rows := 0
	for i := from; i < from+n; i++ {
		if r := g.recipientOf(i); r == toEfaktura || r == toKivra {
			fmt.Fprintf(bw, "pnr:%s;%s;;\n", personnummer(i), r)
			rows++
		}
	}
	return rows, bw.Flush()
}

// writeFile writes path through a buffer and syncs it, so that the disk
// write of a generated batch is done before the daemon is timed on it.
func writeFile(path string, write func(io.Writer) error) (int64, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	err = write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, fmt.Errorf("writing %s: %w", path, err)
	}
	st, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}
