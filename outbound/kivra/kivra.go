// Package kivra is the Kivra channel: the invoice PDF with its payment
// details, delivered to the recipient's digital mailbox by personnummer
// through Kivra's sender API (developer.kivra.com; the copy this package is
// tested against is shared/reference/kivra-sender-api.swagger.yml).
//
// Channel renders the request body of POST /v2/tenant/{tenantKey}/content;
// Client is the transport that posts it, holding the OAuth2 token, and asks
// usermatch which recipients accept content. The recipient registry (which
// caches usermatch answers) and the PDF renderer live elsewhere.
package kivra

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/outbound"
)

// MaxContent is Kivra's limit on one content request: 1 MB of JSON per
// content and recipient, the base64 PDF included.
const MaxContent = 1 << 20

// Options configures the channel (New reads PDF and Now) and the client
// (NewClient reads the rest). The gateway gives both the same value.
type Options struct {
	// BaseURL is the API root: https://sender.api.kivra.com, or
	// https://sender.sandbox-api.kivra.com for tests.
	BaseURL string
	// ClientID and ClientSecret are the OAuth2 client credentials Kivra
	// issues (avsandare.support@kivra.com).
	ClientID     string
	ClientSecret string
	// TenantKey names the sender (the tenant) at Kivra; every content and
	// usermatch call is made for it.
	TenantKey string
	// HTTP sends the requests; nil means a client with a one-minute timeout.
	HTTP *http.Client
	// Now is the clock for token expiry and for the century of a 10-digit
	// personnummer; nil means time.Now.
	Now func() time.Time
	// PDF renders the invoice the recipient sees; nil means the PDF the
	// invoice carries, if any. Kivra drops a repeated
	// request only when it is byte for byte the same (generated_at aside),
	// so the PDF must not change between renderings of one document.
	PDF func(*formats.Document) ([]byte, error)
}

func (o Options) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

// Channel is the Kivra channel.
type Channel struct {
	opt Options
}

// New returns the Kivra channel.
func New(o Options) *Channel { return &Channel{opt: o} }

// Name is "kivra".
func (*Channel) Name() string { return Name }

// Eligible when the registry holds a Kivra match for the buyer (Kivra's
// usermatch answer, cached); a personnummer alone is not enough.
func (*Channel) Eligible(doc *formats.Document, reg outbound.Registry) outbound.Eligibility {
	if addr, src, found := reg.Lookup(doc, Name); found {
		return outbound.Eligibility{OK: true, Address: addr, Reason: "Kivra match from " + src}
	}
	if doc.Buyer.PersonalID == "" {
		return outbound.Eligibility{Reason: "no personnummer for the buyer, Kivra cannot be asked"}
	}
	return outbound.Eligibility{Reason: "no Kivra match for the buyer"}
}

// content is the request body of the content endpoint for a person
// (the API description's Content_user_v2).
type content struct {
	SSN         string   `json:"ssn"`
	Subject     string   `json:"subject"`
	GeneratedAt string   `json:"generated_at,omitempty"`
	Type        string   `json:"type"`
	Parts       []part   `json:"parts"`
	Payment     *payment `json:"payment_multiple_options,omitempty"`
}

// part is one file (Parts_Responsive, without the optional HTML part).
// Data is the file itself: encoding/json writes a []byte as base64
// straight into the body, where a base64 string would be copied once more
// and scanned for characters to escape, and the PDF is most of the body.
type part struct {
	Name        string `json:"name"`
	Data        []byte `json:"data"`
	ContentType string `json:"content_type"`
}

// payment is PaymentMultipleOptions with the one option an invoice has.
// Kivra allows only payable true in it: content that is not to be paid in
// Kivra (an invoice withdrawn by AutoGiro) carries no payment object and
// goes as a letter.
type payment struct {
	Payable    bool     `json:"payable"`
	Method     string   `json:"method"` // "1" bankgiro, "2" plusgiro
	Account    string   `json:"account"`
	SwishAlias string   `json:"swish_alias,omitempty"` // the payee's Swish number, when the decision offers Swish
	Currency   string   `json:"currency"`
	Options    []option `json:"options"`
}

type option struct {
	DueDate   string `json:"due_date"`
	Amount    string `json:"amount"`
	Type      string `json:"type"` // SE_OCR or TENANT_REF
	Reference string `json:"reference"`
}

// Render produces the JSON body of the content request: to is the
// recipient's personnummer, the PDF is the one part, and an invoice carries
// its bankgiro or plusgiro, reference, amount and due date so the recipient
// can pay in Kivra. Kivra has no idempotency key; it drops an exact repeat of
// a request instead, and the body depends only on the document, to and the
// PDF, so a retry of one delivery is such a repeat.
//
// What Kivra cannot take is refused with a permanent error, so routing
// moves on: an invoice not in SEK, or without bankgiro or plusgiro, due
// date or a reference of at most 25 characters.
func (c *Channel) Render(doc *formats.Document, to, key string) (outbound.Message, error) {
	ssn, err := formats.CheckPersonnummer(to, c.opt.now())
	if err != nil {
		return outbound.Message{}, outbound.Permanent(fmt.Errorf("kivra: %s: recipient: %w", doc.Label(), err))
	}
	pdf, err := c.pdf(doc)
	if err != nil {
		return outbound.Message{}, outbound.Permanent(fmt.Errorf("kivra: %s: %w", doc.Label(), err))
	}
	name, what := kindNames(doc.Kind)
	// The subject shows in the inbox next to the tenant's name, so it says
	// only what the document is: short, and free of personal data as
	// Kivra's policy asks. A letter's is the subject the ERP gave it.
	subject := strings.TrimSpace(what + " " + doc.Number)
	if doc.Kind.Correspondence() && doc.Subject != "" {
		subject = doc.Subject
	}
	pay := doc.HowToPay()
	if doc.Kind != formats.KindCreditNote && pay.DirectDebit() {
		// The inbox shows at a glance that nothing is to be paid; the
		// PDF says when the amount is withdrawn.
		subject += " (" + string(pay.Method) + ")"
	}
	body := content{
		SSN:         ssn,
		Subject:     subject,
		GeneratedAt: doc.IssueDate.String(),
		Parts: []part{{
			Name:        fileName(name, doc.Number),
			Data:        pdf,
			ContentType: "application/pdf",
		}},
	}
	body.Parts = append(body.Parts, extraParts(doc)...)
	switch {
	case doc.Kind.Correspondence():
		// A letter, statement, contract or notice: Kivra's letter.
		body.Type = "letter"
	case doc.Kind == formats.KindCreditNote:
		body.Type = "letter.creditnotice"
	case pay.DirectDebit():
		// Withdrawn by AutoGiro: not payable in Kivra, or the customer
		// could pay it a second time. Kivra's API has no non-payable
		// invoice (type "invoice" requires a payment object with payable
		// true), so it goes as a letter without one.
		body.Type = "letter"
	case pay.Method == formats.PayNothing || doc.Totals.Payable < 100:
		// Kivra takes no payment under 1 krona: an invoice that is paid
		// already goes as a letter, there being nothing to pay.
		body.Type = "letter"
	default:
		body.Type = "invoice"
		if body.Payment, err = paymentOf(doc, pay); err != nil {
			return outbound.Message{}, outbound.Permanent(fmt.Errorf("kivra: %s: %w", doc.Label(), err))
		}
	}
	// Compact: indenting would walk the PDF's base64 once more, for
	// nobody to read.
	out, err := json.Marshal(body)
	if err != nil {
		return outbound.Message{}, fmt.Errorf("kivra: %s: %w", doc.Label(), err)
	}
	if len(out) > MaxContent {
		return outbound.Message{}, outbound.Permanentf("kivra: %s: the request is %d bytes with the PDF, Kivra takes at most %d", doc.Label(), len(out), MaxContent)
	}
	return outbound.Message{Key: key, Name: key + ".json", ContentType: "application/json", To: ssn, Body: out}, nil
}

// pdf renders the document, or without a renderer takes the PDF the
// invoice carries (UBL BG-24). Kivra shows the PDF as the content itself,
// so there is no sending without one.
func (c *Channel) pdf(doc *formats.Document) ([]byte, error) {
	if c.opt.PDF != nil {
		b, err := c.opt.PDF(doc)
		if err != nil {
			return nil, fmt.Errorf("rendering the PDF: %w", err)
		}
		if len(b) == 0 {
			return nil, fmt.Errorf("rendering the PDF: the renderer gave no bytes")
		}
		return b, nil
	}
	for _, a := range doc.Attachments {
		if strings.EqualFold(a.MimeCode, "application/pdf") && len(a.Data) > 0 {
			return a.Data, nil
		}
	}
	return nil, fmt.Errorf("no PDF: no renderer configured and the invoice carries none")
}

// paymentOf builds the payment details Kivra shows with a Pay button,
// from the payment decision (a transfer).
func paymentOf(doc *formats.Document, pay formats.Payment) (*payment, error) {
	if doc.Currency != "SEK" {
		return nil, fmt.Errorf("currency %q: Kivra takes payments in SEK only", doc.Currency)
	}
	if doc.DueDate.IsZero() {
		return nil, fmt.Errorf("no due date (BT-9), which a payable Kivra invoice needs")
	}
	p := &payment{Payable: true, Currency: "SEK", SwishAlias: formats.OnlyDigits(pay.Swish)}
	var err error
	switch {
	case pay.Bankgiro != "":
		p.Method = "1"
		p.Account, err = formats.CheckBankgiro(pay.Bankgiro)
	case pay.Plusgiro != "":
		p.Method = "2"
		p.Account, err = formats.CheckPlusgiro(pay.Plusgiro)
	default:
		return nil, fmt.Errorf("no bankgiro or plusgiro account: Kivra pays to nothing else")
	}
	if err != nil {
		return nil, err
	}
	o := option{DueDate: doc.DueDate.String(), Amount: doc.Totals.Payable.String(), Type: "SE_OCR", Reference: pay.Reference}
	if formats.CheckOCR(o.Reference, false) != nil {
		// Not an OCR number: the payer writes it as a message, and
		// without one the invoice number is what they would write.
		o.Type = "TENANT_REF"
		if o.Reference == "" {
			o.Reference = doc.Number
		}
	}
	if o.Reference == "" || len(o.Reference) > 25 {
		return nil, fmt.Errorf("payment reference %q: Kivra needs one of 1 to 25 characters", o.Reference)
	}
	p.Options = []option{o}
	return p, nil
}

// fileName names the PDF the recipient downloads: "faktura-2018210.pdf".
func fileName(prefix, number string) string {
	safe := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '-' || r == '_' {
			return r
		}
		return '-'
	}, number)
	if safe == "" {
		return prefix + ".pdf"
	}
	return prefix + "-" + safe + ".pdf"
}
