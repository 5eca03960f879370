package pdf

import (
	"strconv"
	"strings"

	"github.com/multikanal/multikanal/formats"
)

// Page geometry in millimetres (A4, 210 × 297).
const (
	left  = 20.0  // left margin
	right = 190.0 // right margin

	logoX, logoY = 20.0, 12.0
	logoW, logoH = 70.0, 22.0 // the space reserved for the seller's logo

	// The recipient address sits in the window of a C5 or C4 window
	// envelope with the window on the left (Swedish "V2" placement): the
	// window starts about 20 mm from the left edge and 44–45 mm from the
	// top of the folded A4 sheet and is at least 35 × 90 mm. The block
	// starts a few millimetres inside it so a sheet that shifts in the
	// envelope still shows the whole address. docs/formats/pdf.md has the
	// sources.
	addrX, addrY = 22.0, 50.0 // first baseline
	addrW        = 85.0
	addrLines    = 7

	metaX, metaValX = 115.0, 150.0 // right-hand column: labels, values

	// The lines table: left edge of the description and unit, right edges
	// of the figures.
	colDesc   = left + 1
	colDescW  = 78.0
	colQty    = 114.0
	colUnit   = 116.0
	colUnitW  = 14.0
	colPrice  = 148.0
	colVAT    = 163.0
	colAmount = right - 1

	headH       = 6.5   // table header row
	nextTop     = 32.0  // top of the table on pages after the first
	bottom      = 262.0 // nothing but the footer below this
	footerY     = 271.0
	summaryGap  = 6.0
	maxVATRows  = 12
	nameLineH   = 4.2
	subLineH    = 3.5
	rowPad      = 1.4
	nameLines   = 4
	subLines    = 2
	labelGray   = 0.35
	headerGray  = 0.90
	tableFontPt = 9.0
)

// row is one invoice line, wrapped and formatted, ready to draw.
type row struct {
	name, sub                     []string
	qty, unit, price, vat, amount string
}

func (r *row) height() float64 {
	return float64(len(r.name))*nameLineH + float64(len(r.sub))*subLineH + rowPad
}

// page is the part of the document one page shows.
type page struct {
	from, to int // lines[from:to]
	table    bool
	summary  bool
}

// sheet is one document being laid out.
type sheet struct {
	r          *Renderer
	c          canvas
	doc        *formats.Document
	credit     bool
	title      string
	rows       []row
	pages      []page
	pay        formats.Payment // how the document is paid: the box shows this and nothing else
	translator                 // the letter's language
}

// layout draws the whole document on c.
func (r *Renderer) layout(c canvas, doc *formats.Document) error {
	s := &sheet{r: r, c: c, doc: doc, pay: doc.HowToPay(), translator: translator(doc.Letter.English())}
	s.credit = doc.Kind == formats.KindCreditNote || strings.TrimSpace(doc.TypeCode) == "381"
	s.title, _, _, _ = s.heading()
	s.prepareRows()
	tableTop := s.firstTableTop()
	s.pages = paginate(s.rows, tableTop, s.summaryHeight())
	for i, p := range s.pages {
		c.addPage()
		top := nextTop
		if i == 0 {
			s.firstHeader()
			top = tableTop
		} else {
			s.nextHeader()
		}
		s.pageNumber(i)
		y := top
		if p.table {
			y = s.table(y, p.from, p.to)
		}
		if p.summary {
			if p.table {
				y += summaryGap
			}
			if err := s.summary(y); err != nil {
				return err
			}
		}
		s.footer()
	}
	return nil
}

// paginate splits the rows over pages: every page gets as many rows as fit
// (at least one, so a freak row cannot loop forever), and the summary goes
// under the last row or, if it does not fit there, on a page of its own.
func paginate(rows []row, firstTop, summaryH float64) []page {
	var pages []page
	top := firstTop
	i := 0
	for {
		p := page{from: i, table: true}
		y := top + headH
		for i < len(rows) && (i == p.from || y+rows[i].height() <= bottom) {
			y += rows[i].height()
			i++
		}
		p.to = i
		if i == len(rows) {
			if y+summaryGap+summaryH <= bottom || (len(rows) == 0 && len(pages) == 0) {
				p.summary = true
				return append(pages, p)
			}
			return append(pages, p, page{from: i, to: i, summary: true})
		}
		pages = append(pages, p)
		top = nextTop
	}
}

func (s *sheet) prepareRows() {
	c := s.c
	s.rows = make([]row, len(s.doc.Lines))
	for i := range s.doc.Lines {
		l := &s.doc.Lines[i]
		name := l.Item.Name
		var sub []string
		if name == "" {
			name = l.Note
		} else if l.Note != "" {
			sub = append(sub, l.Note)
		}
		if l.Item.Description != "" {
			sub = append(sub, l.Item.Description)
		}
		if l.Period != nil && (!l.Period.Start.IsZero() || !l.Period.End.IsZero()) {
			sub = append(sub, s.t("Period")+" "+l.Period.Start.String()+" – "+l.Period.End.String())
		}
		vat := percent(l.Item.VATRate)
		if vat == "" {
			vat = l.Item.VATCategory
		}
		rw := row{
			qty:    decimal(l.Quantity, 0),
			unit:   unit(l.Unit),
			price:  decimal(l.Price.Amount, 2),
			vat:    vat,
			amount: l.NetAmount.Swedish(),
		}
		c.setFont(regular, tableFontPt)
		rw.name = wrap(c, name, colDescW, nameLines)
		if len(sub) > 0 {
			c.setFont(regular, 7.5)
			rw.sub = wrap(c, strings.Join(sub, " · "), colDescW, subLines)
		}
		s.rows[i] = rw
	}
}

// firstTableTop is where the table starts on the first page: under the
// address window and the invoice details, and under the notes if any.
func (s *sheet) firstTableTop() float64 {
	top := 92.0
	if n := len(s.notes()); n > 0 {
		top += float64(n)*3.8 + 3
	}
	if n := len(s.message()); n > 0 {
		top += float64(n)*messageLineH + 2*messagePad + 3
	}
	return top
}

const (
	messageLineH = 4.4
	messagePad   = 2.5
	messageLines = 4
)

// message is the biller's message to the customer (the letter's segment
// message), wrapped to at most four lines.
func (s *sheet) message() []string {
	if s.doc.Letter == nil || strings.TrimSpace(s.doc.Letter.Message) == "" {
		return nil
	}
	s.c.setFont(regular, 9.5)
	return wrap(s.c, strings.Join(strings.Fields(s.doc.Letter.Message), " "), right-left-8, messageLines)
}

// drawMessage draws the message from y, with a bar in the biller's
// colour at its left.
func (s *sheet) drawMessage(y float64) {
	lines := s.message()
	if len(lines) == 0 {
		return
	}
	c := s.c
	h := float64(len(lines))*messageLineH + 2*messagePad
	c.fillGray(0.96)
	c.fill(left, y, right-left, h)
	c.fillColour(s.r.accent)
	c.fill(left, y, 1.2, h)
	c.setFont(regular, 9.5)
	for i, l := range lines {
		c.text(left+5, y+messagePad+3.3+float64(i)*messageLineH, l)
	}
	c.fillGray(0)
}

func (s *sheet) notes() []string {
	var all []string
	for _, n := range s.doc.Notes {
		if t := strings.TrimSpace(n); t != "" {
			all = append(all, t)
		}
	}
	if len(all) == 0 {
		return nil
	}
	s.c.setFont(regular, 8.5)
	return wrap(s.c, strings.Join(all, " "), right-left, 4)
}

// firstHeader draws the seller, the recipient and the invoice details.
func (s *sheet) firstHeader() {
	c, d := s.c, s.doc
	if len(s.r.opt.Logo) > 0 {
		c.logo(logoX, logoY+(logoH-s.r.logoH)/2, s.r.logoW, s.r.logoH)
	} else {
		s.sellerName()
	}
	a := d.Seller.Address
	var from []string
	for _, p := range []string{d.Seller.DisplayName(), a.Street, strings.TrimSpace(postal(a.PostalCode, a.Country) + " " + a.City)} {
		if strings.TrimSpace(p) != "" {
			from = append(from, p)
		}
	}
	c.setFont(regular, 7.5)
	c.textGray(labelGray)
	c.text(left, logoY+logoH+5, fit(c, strings.Join(from, " · "), metaX-left-4))
	c.textGray(0)

	// Recipient, in the envelope window.
	b := d.Buyer
	lines := []string{b.Name}
	if b.Contact.Name != "" {
		lines = append(lines, s.t("Att")+": "+b.Contact.Name)
	}
	ba := b.Address
	lines = append(lines, ba.Street, ba.Additional, ba.Line3, strings.TrimSpace(postal(ba.PostalCode, ba.Country)+" "+ba.City))
	if ba.Country != "" && !strings.EqualFold(ba.Country, "SE") {
		lines = append(lines, strings.ToUpper(ba.Country))
	}
	y := addrY
	n := 0
	for i, l := range lines {
		if strings.TrimSpace(l) == "" || n == addrLines {
			continue
		}
		if i == 0 {
			c.setFont(bold, 10)
		} else {
			c.setFont(regular, 10)
		}
		c.text(addrX, y, fit(c, l, addrW))
		y += 4.6
		n++
	}

	// Title and invoice details.
	c.setFont(bold, 20)
	c.textColour(s.r.accent)
	c.text(metaX, logoY+10, s.title)
	c.textGray(0)
	type kv struct{ k, v string }
	_, number, issued, due := s.heading()
	meta := []kv{
		{number, d.Number},
		{issued, d.IssueDate.String()},
		{due, d.DueDate.String()},
	}
	for _, p := range d.Preceding {
		v := p.Number
		if !p.IssueDate.IsZero() {
			v += " (" + p.IssueDate.String() + ")"
		}
		meta = append(meta, kv{s.t("Avser faktura"), v})
	}
	meta = append(meta,
		kv{s.t("Kundnummer"), b.CustomerNumber},
		kv{s.t("Er referens"), d.BuyerReference},
		kv{s.t("Ert ordernummer"), d.OrderReference},
		kv{s.t("Vår referens"), d.Seller.Contact.Name},
		kv{s.t("Projekt"), d.ProjectReference},
		kv{s.t("Avtal"), d.ContractReference},
	)
	if d.Delivery != nil && !d.Delivery.Date.IsZero() {
		meta = append(meta, kv{s.t("Leveransdatum"), d.Delivery.Date.String()})
	}
	if d.Period != nil && (!d.Period.Start.IsZero() || !d.Period.End.IsZero()) {
		meta = append(meta, kv{s.t("Period"), d.Period.Start.String() + " – " + d.Period.End.String()})
	}
	y = logoY + 20
	for _, m := range meta {
		if strings.TrimSpace(m.v) == "" || y > 86 {
			continue
		}
		c.setFont(regular, 8)
		c.textGray(labelGray)
		c.text(metaX, y, m.k)
		c.textGray(0)
		fitText(c, metaValX, y, m.v, right-metaValX, regular, 9.5)
		y += 5
	}

	// The message box starts where the notes end (their first baseline
	// is at 92, their text 3 mm above it), so the table's top stays where
	// firstTableTop put it.
	msgTop := 89.0
	if notes := s.notes(); len(notes) > 0 {
		c.setFont(regular, 8.5)
		for i, l := range notes {
			c.text(left, 92+float64(i)*3.8, l)
		}
		msgTop += float64(len(notes))*3.8 + 3
	}
	s.drawMessage(msgTop)
}

func (s *sheet) sellerName() {
	c := s.c
	c.setFont(bold, 14)
	lines := wrap(c, s.doc.Seller.DisplayName(), logoW, 2)
	y := logoY + logoH/2 + 2 - float64(len(lines)-1)*3
	for _, l := range lines {
		c.text(logoX, y, l)
		y += 6
	}
}

// nextHeader heads the pages after the first.
func (s *sheet) nextHeader() {
	c := s.c
	c.setFont(bold, 10)
	c.text(left, 20, fit(c, s.doc.Seller.DisplayName(), metaX-left-5))
	c.setFont(bold, 12)
	c.text(metaX, 20, fit(c, strings.TrimSpace(s.title+" "+s.doc.Number), right-metaX-25))
}

func (s *sheet) pageNumber(i int) {
	c := s.c
	c.setFont(regular, 8)
	textRight(c, right, 14, s.t("Sida")+" "+strconv.Itoa(i+1)+" "+s.t("av")+" "+strconv.Itoa(len(s.pages)))
}

// table draws the header and rows[from:to] from y and returns the y under it.
func (s *sheet) table(y float64, from, to int) float64 {
	c := s.c
	c.fillGray(headerGray)
	if s.r.accented {
		// White on the biller's colour, which configuration keeps at a
		// contrast of 4.5:1 or more against white.
		c.fillColour(s.r.accent)
		c.textGray(1)
	}
	c.fill(left, y, right-left, headH)
	c.setFont(bold, 8)
	base := y + 4.4
	c.text(colDesc, base, s.t("Beskrivning"))
	textRight(c, colQty, base, s.t("Antal"))
	c.text(colUnit, base, s.t("Enhet"))
	textRight(c, colPrice, base, s.t("À-pris"))
	textRight(c, colVAT, base, s.t("Moms"))
	textRight(c, colAmount, base, s.t("Belopp"))
	c.textGray(0)
	y += headH
	for i := from; i < to; i++ {
		r := &s.rows[i]
		base := y + nameLineH - 0.3
		c.setFont(regular, tableFontPt)
		for j, l := range r.name {
			c.text(colDesc, base+float64(j)*nameLineH, l)
		}
		textRight(c, colQty, base, r.qty)
		c.text(colUnit, base, fit(c, r.unit, colUnitW))
		textRight(c, colPrice, base, r.price)
		textRight(c, colVAT, base, r.vat)
		textRight(c, colAmount, base, r.amount)
		if len(r.sub) > 0 {
			c.setFont(regular, 7.5)
			c.textGray(labelGray)
			sb := base + float64(len(r.name)-1)*nameLineH + subLineH
			for j, l := range r.sub {
				c.text(colDesc, sb+float64(j)*subLineH, l)
			}
			c.textGray(0)
		}
		y += r.height()
	}
	c.line(left, y+0.5, right, y+0.5)
	return y + 0.5
}

// total is one row of the totals.
type total struct {
	label string
	value formats.Amount
}

func (s *sheet) totals() []total {
	t := s.doc.Totals
	var out []total
	hasAC := (t.AllowanceTotal != nil && *t.AllowanceTotal != 0) || (t.ChargeTotal != nil && *t.ChargeTotal != 0)
	if hasAC {
		out = append(out, total{s.t("Summa rader"), t.LineExtension})
		if t.AllowanceTotal != nil && *t.AllowanceTotal != 0 {
			out = append(out, total{s.t("Rabatter"), -*t.AllowanceTotal})
		}
		if t.ChargeTotal != nil && *t.ChargeTotal != 0 {
			out = append(out, total{s.t("Avgifter"), *t.ChargeTotal})
		}
	}
	out = append(out, total{s.t("Summa exkl. moms"), t.TaxExclusive})
	vat := formats.Amount(0)
	if t.TaxTotal != nil {
		vat = *t.TaxTotal
	} else {
		for _, v := range s.doc.VAT {
			vat += v.TaxAmount
		}
	}
	out = append(out, total{s.t("Moms"), vat})
	paid := t.Prepaid != nil && *t.Prepaid != 0
	round := t.Rounding != nil && *t.Rounding != 0
	if paid || round {
		out = append(out, total{s.t("Summa inkl. moms"), t.TaxInclusive})
	}
	if round {
		out = append(out, total{s.t("Öresavrundning"), *t.Rounding})
	}
	if paid {
		out = append(out, total{s.t("Betalt i förskott"), -*t.Prepaid})
	}
	return out
}

// payment is what the payment box shows: label and value pairs for the
// left column (where to pay, or how the amount is withdrawn) and the right
// (how much, when). It shows the payment decision (formats.Payment) and
// nothing else: a document withdrawn by AutoGiro names no account and no
// OCR number to pay to, so the customer is not invited to pay twice.
func (s *sheet) payment() (where, what [][2]string) {
	p := s.pay
	switch {
	case p.DirectDebit():
		w := p.Words()
		if p.Payer != "" {
			where = append(where, [2]string{s.t(w.Payer), p.Payer})
		}
		return where, [][2]string{{s.t("Belopp"), s.payable()}, {s.t("Dragningsdag"), s.t(w.When)}}
	case p.Method == formats.PayNothing:
		return nil, [][2]string{{s.t("Att betala"), s.payable()}}
	}
	switch {
	case p.Bankgiro != "":
		where = append(where, [2]string{s.t("Bankgiro"), bankgiro(p.Bankgiro)})
	case p.Plusgiro != "":
		where = append(where, [2]string{s.t("Plusgiro"), plusgiro(p.Plusgiro)})
	case p.IBAN != "":
		where = append(where, [2]string{"IBAN", groupIBAN(p.IBAN)})
		if p.BIC != "" {
			where = append(where, [2]string{"BIC", p.BIC})
		}
	}
	if ref := p.Reference; ref != "" {
		label := s.t("Referens")
		if isOCR(ref) {
			label = s.t("OCR-nummer")
		}
		where = append(where, [2]string{label, ref})
	}
	what = append(what, [2]string{s.t("Att betala"), s.payable()})
	if !s.doc.DueDate.IsZero() {
		what = append(what, [2]string{s.t("Förfallodatum"), s.doc.DueDate.String()})
	}
	return where, what
}

// swish is the Swish number the box offers: the payment decision's, else
// the renderer's own (a renderer used on its own); only for a transfer.
func (s *sheet) swish() string {
	if s.pay.Method != formats.PayTransfer {
		return ""
	}
	if n := formats.OnlyDigits(s.pay.Swish); len(n) == 10 {
		return n
	}
	return s.r.swishNum
}

func (s *sheet) payable() string {
	return strings.TrimSpace(s.doc.Totals.Payable.Swedish() + " " + s.doc.Currency)
}

// groupIBAN writes an IBAN in groups of four, as it is printed.
func groupIBAN(iban string) string {
	d := strings.ReplaceAll(iban, " ", "")
	var b strings.Builder
	for i := 0; i < len(d); i += 4 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(d[i:min(i+4, len(d))])
	}
	return b.String()
}
