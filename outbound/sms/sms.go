// Package sms is the SMS channel: a short Swedish text with amount, due
// date, OCR reference and a payment link, sent through a 46elks-shaped SMS
// gateway (POST /a1/sms, form fields, HTTP basic auth), with the gateway's
// delivery reports parsed for the daemon's webhook.
//
// It is not an invoice: the text points at the invoice (the payment link)
// and says how to pay; it carries no lines and no PDF.
package sms

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/outbound"
)

// DefaultMaxParts is how many concatenated parts a text may take when
// Options.MaxParts is not set: three parts are 459 GSM-7 characters, more
// than any invoice text needs, and each part is billed.
const DefaultMaxParts = 3

// Options configures the channel (New reads the rendering fields) and its
// HTTP transport (NewHTTP reads the sending fields). The gateway gives both
// the same value from the channel's configuration.
type Options struct {
	// From is the sender the phone shows: 3 to 11 letters and digits
	// (starting with a letter) or an E.164 number. Empty means the seller's
	// name, shortened to fit.
	From string
	// LinkBase, when set, makes the text end with a payment link:
	// LinkBase + the url-escaped delivery key. Without it the text names
	// the bankgiro, plusgiro or IBAN to pay to.
	LinkBase string
	// MaxParts is the longest concatenated SMS a text may take; 0 means
	// DefaultMaxParts.
	MaxParts int
	// RefuseLong refuses a text that does not fit in one SMS instead of
	// sending it in parts (each part is billed as one SMS).
	RefuseLong bool
	// Callback, when set, returns the URL the gateway is to post the
	// delivery report of the delivery key to, sent as whendelivered; ""
	// asks for no report. The daemon's URL carries the key and a
	// signature of it (46elks signs nothing itself), so a report names its
	// delivery without a lookup and cannot be forged.
	Callback func(key string) string

	// BaseURL is the gateway's API root, such as https://api.46elks.com.
	BaseURL string
	// Username and Password are the API credentials (HTTP basic auth).
	Username string
	Password string
	// Client sends the requests; nil means a client with a one-minute
	// timeout.
	Client *http.Client
}

// Channel is the SMS channel.
type Channel struct {
	opt Options
}

// New returns the SMS channel.
func New(o Options) *Channel {
	if o.MaxParts <= 0 {
		o.MaxParts = DefaultMaxParts
	}
	return &Channel{opt: o}
}

// Name is "sms".
func (*Channel) Name() string { return Name }

// Eligible when the buyer's phone number is a Swedish mobile number, or the
// registry knows one.
func (*Channel) Eligible(doc *formats.Document, reg outbound.Registry) outbound.Eligibility {
	phone := doc.Buyer.Contact.Phone
	if e164, ok := formats.SwedishMobile(phone); ok {
		return outbound.Eligibility{OK: true, Address: e164, Reason: "mobile number in the invoice"}
	}
	if addr, src, found := reg.Lookup(doc, Name); found {
		return outbound.Eligibility{OK: true, Address: addr, Reason: "mobile number registered by " + src}
	}
	if phone != "" {
		return outbound.Eligibility{Reason: "buyer phone " + phone + " is not a Swedish mobile number"}
	}
	return outbound.Eligibility{Reason: "no mobile number for the buyer"}
}

// Render produces the request the gateway receives: the form-encoded body
// of POST /a1/sms (from, to, message and, with a webhook, whendelivered), so
// the spool transport shows exactly what would be posted. A text that needs
// more parts than allowed (or more than one with RefuseLong) is refused with
// a permanent error, and routing moves on to the next channel.
func (c *Channel) Render(doc *formats.Document, to, key string) (outbound.Message, error) {
	number, ok := e164(to)
	if !ok {
		return outbound.Message{}, outbound.Permanentf("sms: %s: %q is not a mobile number in E.164 form (+46701234567)", doc.Label(), to)
	}
	from := c.opt.From
	if from == "" {
		from = senderName(doc.Seller.DisplayName())
	} else if !validSender(from) {
		return outbound.Message{}, outbound.Permanentf("sms: sender %q: use 3 to 11 letters and digits starting with a letter, or an E.164 number", from)
	}
	text, err := c.text(doc, key)
	if err != nil {
		return outbound.Message{}, err
	}
	form := url.Values{"from": {from}, "to": {number}, "message": {text}}
	if c.opt.Callback != nil {
		if hook := c.opt.Callback(key); hook != "" {
			form.Set("whendelivered", hook)
		}
	}
	return outbound.Message{
		Key:         key,
		Name:        key + ".txt",
		ContentType: "application/x-www-form-urlencoded",
		To:          number,
		Body:        []byte(form.Encode()),
	}, nil
}

// text picks the wording that takes the fewest SMS parts, the fuller one
// on a tie; the wordings differ only in what a reader can do without.
func (c *Channel) text(doc *formats.Document, key string) (string, error) {
	var best string
	bestParts, bestUCS2 := 0, false
	for _, t := range c.wordings(doc, key) {
		if parts, ucs2 := Split(t); bestParts == 0 || len(parts) < bestParts {
			best, bestParts, bestUCS2 = t, len(parts), ucs2
		}
	}
	limit := c.opt.MaxParts
	if c.opt.RefuseLong {
		limit = 1
	}
	if bestParts > limit {
		enc := "GSM-7"
		if bestUCS2 {
			enc = "UCS-2"
		}
		return "", outbound.Permanentf("sms: %s: the text needs %d SMS parts (%s), at most %d allowed; shorten the seller name or the link base",
			doc.Label(), bestParts, enc, limit)
	}
	return best, nil
}

// wordings returns the text with the seller's name and without it.
func (c *Channel) wordings(doc *formats.Document, key string) []string {
	w := smsWords(doc.Letter.English())
	what := w.invoice
	switch {
	case doc.Kind == formats.KindCreditNote:
		what = w.credit
	case doc.Kind == formats.KindReminder && doc.Letter.English():
		what = doc.Kind.English()
	case doc.Kind == formats.KindReminder:
		what = doc.Kind.Swedish()
	}
	if doc.Number != "" {
		what += " " + doc.Number
	}
	// Amount.Swedish groups thousands with a no-break space, which GSM-7
	// lacks: one such space would turn the whole text into UCS-2 and halve
	// what fits in an SMS.
	amount := strings.ReplaceAll(doc.Totals.Payable.Swedish(), "\u00a0", " ") + " " + currency(doc.Currency)

	link := c.link(doc, key)
	var rest strings.Builder
	if doc.Kind == formats.KindCreditNote {
		fmt.Fprintf(&rest, w.creditText, amount)
		if link != "" {
			fmt.Fprintf(&rest, w.see, link)
		}
	} else if pay := doc.HowToPay(); pay.DirectDebit() {
		// Withdrawn by AutoGiro: nothing to pay to, and no payment link
		// that would invite a second payment.
		fmt.Fprintf(&rest, w.autogiro, amount, withdrawal(pay, w))
		if link != "" {
			fmt.Fprintf(&rest, w.see, link)
		}
	} else {
		fmt.Fprintf(&rest, ": %s", amount)
		if !doc.DueDate.IsZero() {
			fmt.Fprintf(&rest, w.due, doc.DueDate)
		}
		rest.WriteString(".")
		if pay.Method != formats.PayTransfer {
			if link != "" {
				fmt.Fprintf(&rest, w.see, link)
			}
		} else {
			if pay.Reference != "" {
				fmt.Fprintf(&rest, " OCR %s.", pay.Reference)
			} else if doc.Number != "" {
				fmt.Fprintf(&rest, w.mark, doc.Number)
			}
			switch {
			case link != "":
				fmt.Fprintf(&rest, w.pay, link)
			case pay.Bankgiro != "":
				fmt.Fprintf(&rest, " Bankgiro %s.", pay.Bankgiro)
			case pay.Plusgiro != "":
				fmt.Fprintf(&rest, " Plusgiro %s.", pay.Plusgiro)
			case pay.IBAN != "":
				fmt.Fprintf(&rest, " IBAN %s.", pay.IBAN)
			}
			if pay.Swish != "" {
				fmt.Fprintf(&rest, " Swish %s.", pay.Swish)
			}
		}
	}
	var out []string
	if seller := strings.TrimSpace(doc.Seller.DisplayName()); seller != "" {
		out = append(out, what+w.from+seller+rest.String())
	}
	return append(out, what+rest.String())
}

// link is the payment link: the invoice page's signed link the document's
// letter carries (the tenant's [tenant.page]), else LinkBase and the key;
// "" for none.
func (c *Channel) link(doc *formats.Document, key string) string {
	if doc.Letter != nil && doc.Letter.Link != "" {
		return doc.Letter.Link
	}
	if c.opt.LinkBase == "" {
		return ""
	}
	return c.opt.LinkBase + url.PathEscape(key)
}

// currency writes SEK the way Swedish readers expect it.
func currency(code string) string {
	if code == "" || code == "SEK" {
		return "kr"
	}
	return code
}

// e164 normalises a Swedish mobile number and accepts a foreign number the
// registry already holds in E.164 form.
func e164(to string) (string, bool) {
	if n, ok := formats.SwedishMobile(to); ok {
		return n, true
	}
	d, plus := strings.CutPrefix(strings.TrimSpace(to), "+")
	if !plus || len(d) < 7 || len(d) > 15 || d[0] == '0' || formats.OnlyDigits(d) != d {
		return "", false
	}
	return "+" + d, true
}

// validSender reports whether s is a sender the gateway accepts: an E.164
// number or an alphanumeric name of 3 to 11 ASCII letters and digits that
// starts with a letter (phones show such names; longer ones are cut or
// refused by operators).
func validSender(s string) bool {
	if n, ok := e164(s); ok && n == s {
		return true
	}
	if len(s) < 3 || len(s) > 11 || !isLetter(s[0]) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isLetter(s[i]) && !(s[i] >= '0' && s[i] <= '9') {
			return false
		}
	}
	return true
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// senderName shortens a seller's name into an alphanumeric sender:
// "Åkesson & Söner AB" becomes "AkessonSone".
func senderName(name string) string {
	fold := strings.NewReplacer("å", "a", "ä", "a", "ö", "o", "Å", "A", "Ä", "A", "Ö", "O", "é", "e", "É", "E", "ü", "u", "Ü", "U")
	var b strings.Builder
	for _, r := range fold.Replace(name) {
		c := byte(r)
		if r < 0x80 && (isLetter(c) || (b.Len() > 0 && c >= '0' && c <= '9')) && b.Len() < 11 {
			b.WriteByte(c)
		}
	}
	if b.Len() < 3 {
		return "Faktura"
	}
	return b.String()
}

// words are the SMS's wording in one language: Swedish, or English for a
// recipient whose letter is in English.
type words struct {
	invoice, credit, from, creditText, autogiro, due, mark, pay, see, next, on string
}

func smsWords(english bool) words {
	if english {
		return words{invoice: "Invoice", credit: "Credit note", from: " from ", creditText: ": %s in your favour, nothing to pay.",
			autogiro: ": %s. %s, you need not pay yourself.", due: ", due %s", mark: " Mark the payment %s.", pay: " Pay: %s", see: " See %s",
			next: "Withdrawn by direct debit on the next bank day", on: "Withdrawn by direct debit on "}
	}
	return words{invoice: "Faktura", credit: "Kreditnota", from: " från ", creditText: ": %s till godo, inget att betala.",
		autogiro: ": %s. %s, du behöver inte betala själv.", due: ", förfaller %s", mark: " Märk betalningen %s.", pay: " Betala: %s", see: " Se %s"}
}

// withdrawal is the AutoGiro sentence in the wording's language.
func withdrawal(pay formats.Payment, w words) string {
	switch {
	case w.on == "":
		return pay.WithdrawalText()
	case pay.Date.IsZero():
		return w.next
	}
	return w.on + pay.Date.String()
}
