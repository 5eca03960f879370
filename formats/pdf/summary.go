package pdf

import (
	"strings"
	"unicode/utf8"

	"github.com/multikanal/multikanal/formats"
)

const (
	sumLineH   = 4.6
	boxGap     = 6.0
	boxRowH    = 5.6
	qrSide     = 24.0
	qrBoxH     = qrSide + 12
	boxHeadH   = 7.0
	termsLineH = 4.0
)

func (s *sheet) vatRows() []formats.VATBreakdown {
	if len(s.doc.VAT) > maxVATRows {
		return s.doc.VAT[:maxVATRows]
	}
	return s.doc.VAT
}

func (s *sheet) boxHeight() float64 {
	if s.credit {
		return boxHeadH + boxRowH
	}
	where, what := s.payment()
	h := boxHeadH + float64(max(len(where), len(what)))*boxRowH + 1
	if swishPayload(s.swish(), s.doc, s.credit) != "" {
		h = max(h, qrBoxH)
	}
	return h
}

func (s *sheet) summaryHeight() float64 {
	rows := max(len(s.vatRows())+1, len(s.totals())+1)
	h := float64(rows)*sumLineH + 3 + boxGap + s.boxHeight()
	if s.doc.PaymentTerms != "" {
		h += termsLineH
	}
	if s.link() != "" {
		h += linkBlockH
	}
	return h
}

// The invoice page's link under the payment box: its QR code at the right
// (a phone's camera opens the page) and the URL to type beside it.
const (
	linkBlockH = 22.0
	linkQRSide = 18.0
)

// link is the invoice page's link the letter carries (a paper invoice
// sent with one), or "".
func (s *sheet) link() string {
	if s.doc.Letter == nil {
		return ""
	}
	return s.doc.Letter.Link
}

// summary draws the VAT breakdown, the totals and the payment box from y.
func (s *sheet) summary(y float64) error {
	c := s.c
	// VAT breakdown, left.
	const vatBase, vatTax = 80.0, 104.0
	c.setFont(bold, 8)
	base := y + 4
	c.text(left, base, s.t("Momsspecifikation"))
	textRight(c, vatBase, base, s.t("Underlag"))
	textRight(c, vatTax, base, s.t("Moms"))
	for i, v := range s.vatRows() {
		b := base + float64(i+1)*sumLineH
		c.setFont(regular, 8.5)
		c.text(left, b, fit(c, vatText(v, s.translator), vatBase-left-24))
		textRight(c, vatBase, b, v.TaxableAmount.Swedish())
		textRight(c, vatTax, b, v.TaxAmount.Swedish())
	}

	// Totals, right.
	const valX = right - 1
	tt := s.totals()
	for i, t := range tt {
		b := base + float64(i)*sumLineH
		c.setFont(regular, 9)
		c.text(metaX, b, t.label)
		textRight(c, valX, b, t.value.Swedish())
	}
	b := base + float64(len(tt))*sumLineH + 1
	c.line(metaX, b-4, right, b-4)
	c.setFont(bold, 11)
	label := s.t("Att betala")
	switch {
	case s.credit:
		label = s.t("Er tillgodo")
	case s.pay.DirectDebit():
		label = s.t(s.pay.Words().Label)
	}
	c.text(metaX, b, label)
	textRight(c, valX, b, fit(c, s.payable(), valX-metaX-25))

	rows := max(len(s.vatRows())+1, len(tt)+1)
	y += float64(rows)*sumLineH + 3 + boxGap
	return s.paymentBox(y)
}

func (s *sheet) paymentBox(y float64) error {
	c, d := s.c, s.doc
	h := s.boxHeight()
	c.stroke(left, y, right-left, h)
	c.setFont(bold, 9)
	if s.credit {
		c.text(left+4, y+5.5, s.t("Kreditnota – betala inte"))
		c.setFont(regular, 9)
		msg := s.t("Beloppet dras av från er nästa betalning eller betalas tillbaka.")
		if len(d.Preceding) > 0 && d.Preceding[0].Number != "" {
			msg = s.t("Krediterar faktura") + " " + d.Preceding[0].Number + ". " + msg
		}
		c.text(left+4, y+5.5+boxRowH, fit(c, msg, right-left-8))
	} else {
		head := s.t("Betalning")
		switch {
		case s.pay.DirectDebit():
			head = s.pay.WithdrawalText() + " – betala inte själv"
			if s.translator {
				w := s.pay.Words()
				head = s.t(w.Label) + " " + s.t(w.When) + " – " + s.t("betala inte själv")
			}
		case s.pay.Method == formats.PayNothing:
			head = s.t("Inget att betala")
		}
		c.text(left+4, y+5.5, head)
		where, what := s.payment()
		col := func(x, valX, maxW float64, pairs [][2]string, strong int) {
			for i, p := range pairs {
				b := y + boxHeadH + 4 + float64(i)*boxRowH
				c.setFont(regular, 8)
				c.textGray(labelGray)
				c.text(x, b, p[0])
				c.textGray(0)
				f := regular
				if i == strong {
					f = bold
				}
				fitText(c, valX, b, p[1], maxW, f, 10.5)
			}
		}
		qr := swishPayload(s.swish(), d, s.credit)
		rightEdge := right - 3
		if qr != "" {
			rightEdge = right - qrSide - 8
		}
		col(left+4, left+28, 100-left-28, where, -1)
		col(102, 126, rightEdge-126, what, 0)
		if qr != "" {
			code, err := qrModules(qr)
			if err != nil {
				return err
			}
			x := right - qrSide - 3
			// One bit a module (grid): far cheaper than encoding and
			// embedding a PNG, and sharp at any print resolution.
			c.fillGray(0)
			c.grid(x, y+2, qrSide, code)
			c.setFont(regular, 7)
			textCenter(c, x+qrSide/2, y+qrSide+5, s.t("Betala med Swish"))
			textCenter(c, x+qrSide/2, y+qrSide+8, swishNumber(s.swish()))
		}
	}
	below := y + h
	if d.PaymentTerms != "" {
		below += termsLineH
		c.setFont(regular, 8)
		c.text(left, below, fit(c, s.t("Betalningsvillkor")+": "+d.PaymentTerms, right-left))
	}
	if l := s.link(); l != "" {
		top := below + 3
		code, err := qrModules(l)
		if err != nil {
			return err
		}
		c.fillGray(0)
		c.grid(right-linkQRSide, top, linkQRSide, code)
		c.setFont(bold, 9)
		c.text(left, top+6, s.t("Se och betala fakturan på webben"))
		fitText(c, left, top+11, l, right-linkQRSide-left-4, regular, 8.5)
	}
	return nil
}

// swishNumber writes a Swish number as people read it: 123 456 78 90.
func swishNumber(n string) string {
	if len(n) != 10 {
		return n
	}
	return n[:3] + " " + n[3:6] + " " + n[6:8] + " " + n[8:]
}

// footer prints who the seller is, as the law wants it on every invoice:
// name, address, organisationsnummer, VAT number and F-skatt.
func (s *sheet) footer() {
	c, sel := s.c, s.doc.Seller
	c.line(left, footerY-4, right, footerY-4)
	a := sel.Address
	col1 := []string{sel.Name, a.Street, strings.TrimSpace(postal(a.PostalCode, a.Country) + " " + a.City)}
	var col2 []string
	if sel.LegalID.Value != "" {
		col2 = append(col2, s.t("Org.nr")+" "+orgnr(sel.LegalID))
	}
	if sel.VATID != "" {
		col2 = append(col2, s.t("Momsreg.nr")+" "+sel.VATID)
	}
	if strings.Contains(strings.ToLower(sel.TaxRegistration), "f-skatt") {
		col2 = append(col2, s.t("Godkänd för F-skatt"))
	}
	col3 := []string{sel.Contact.Phone, sel.Contact.Email, sel.LegalInfo}
	if l := s.r.look; l.Phone != "" || l.Email != "" || l.Web != "" {
		// The biller's own contact block wins over the invoice's.
		col3 = []string{l.Phone, l.Email, l.Web}
	}
	if f := strings.TrimSpace(s.r.look.Footer); f != "" {
		c.setFont(regular, 7)
		c.textGray(labelGray)
		textCenter(c, (left+right)/2, footerY+3*3.4+3.5, fit(c, f, right-left))
		c.textGray(0)
	}
	for i, col := range [][]string{col1, col2, col3} {
		x := left + float64(i)*58
		y := footerY
		for j, l := range col {
			if strings.TrimSpace(l) == "" {
				continue
			}
			if i == 0 && j == 0 {
				c.setFont(bold, 7.5)
			} else {
				c.setFont(regular, 7.5)
			}
			c.text(x, y, fit(c, l, 56))
			y += 3.4
		}
	}
}

// orgnr writes a Swedish organisationsnummer as NNNNNN-NNNN.
func orgnr(id formats.Identifier) string {
	d := formats.OnlyDigits(id.Value)
	if (id.Scheme == "" || id.Scheme == "0007") && len(d) == 10 {
		return d[:6] + "-" + d[6:]
	}
	return id.Value
}

func textRight(c canvas, x, y float64, s string) {
	c.text(x-c.width(s), y, s)
}

func textCenter(c canvas, x, y float64, s string) {
	c.text(x-c.width(s)/2, y, s)
}

// fitText prints s at size, or smaller (down to 6 pt) when it would not fit
// maxW: a bank account or an amount must never be cut off.
func fitText(c canvas, x, y float64, s string, maxW float64, f face, size float64) {
	c.setFont(f, size)
	if w := c.width(s); w > maxW && w > 0 {
		c.setFont(f, max(6, size*maxW/w))
	}
	c.text(x, y, fit(c, s, maxW))
}

// maxFitBytes is more text than the widest line holds at the smallest size.
const maxFitBytes = 600

// fit shortens s with an ellipsis until it is at most maxW wide.
func fit(c canvas, s string, maxW float64) string {
	if len(s) > maxFitBytes { // more than any line holds; spare the measuring
		k := maxFitBytes
		for k > 0 && !utf8.RuneStart(s[k]) {
			k--
		}
		s = s[:k]
	}
	if c.width(s) <= maxW {
		return s
	}
	r := []rune(s)
	lo, hi := 0, len(r)
	for lo < hi { // the longest prefix that fits with the ellipsis
		m := (lo + hi + 1) / 2
		if c.width(string(r[:m])+"…") <= maxW {
			lo = m
		} else {
			hi = m - 1
		}
	}
	return strings.TrimRight(string(r[:lo]), " ") + "…"
}

// wrap breaks s into at most n lines of at most maxW; a word longer than a
// line is broken where it must be, and text beyond n lines ends in "…".
func wrap(c canvas, s string, maxW float64, n int) []string {
	words := strings.Fields(s)
	var lines []string
	cur := ""
	for len(words) > 0 && len(lines) < n {
		w := words[0]
		try := w
		if cur != "" {
			try = cur + " " + w
		}
		switch {
		case c.width(try) <= maxW:
			cur = try
			words = words[1:]
		case cur != "":
			lines = append(lines, cur)
			cur = ""
		default: // a single word wider than the line
			k := fitRunes(c, w, maxW)
			lines = append(lines, w[:k])
			words[0] = w[k:]
		}
	}
	if cur != "" && len(lines) < n {
		lines = append(lines, cur)
		cur = ""
	}
	if (len(words) > 0 || cur != "") && len(lines) > 0 {
		lines[len(lines)-1] = fit(c, lines[len(lines)-1]+" "+strings.Join(words, " "), maxW)
	}
	return lines
}

// fitRunes is the byte length of the longest prefix of w (at least one
// rune) that fits maxW.
func fitRunes(c canvas, w string, maxW float64) int {
	k := 0
	for k < len(w) {
		_, size := utf8.DecodeRuneInString(w[k:])
		if k > 0 && c.width(w[:k+size]) > maxW {
			break
		}
		k += size
	}
	return k
}
