package formats

import (
	"fmt"
	"strings"
	"time"
)

// Kind tells an invoice from a credit note, a reminder or a letter
// (kinds.go).
type Kind string

// The billing kinds. A credit note follows the route of the invoice it credits.
const (
	KindInvoice    Kind = "invoice"
	KindCreditNote Kind = "creditnote"
)

// Document is one invoice, credit note, reminder or letter in the canonical model: what every
// parser produces and every channel renders from. Field comments name the
// EN 16931 business term (BT-n) they carry.
type Document struct {
	Kind            Kind     `json:"kind"`
	Number          string   `json:"number"`                     // BT-1
	IssueDate       Date     `json:"issue_date"`                 // BT-2
	TypeCode        string   `json:"type_code,omitempty"`        // BT-3 (380 invoice, 381 credit note)
	Currency        string   `json:"currency"`                   // BT-5
	TaxCurrency     string   `json:"tax_currency,omitempty"`     // BT-6
	DueDate         Date     `json:"due_date,omitzero"`          // BT-9
	CustomizationID string   `json:"customization_id,omitempty"` // BT-24
	ProfileID       string   `json:"profile_id,omitempty"`       // BT-23
	Notes           []string `json:"notes,omitempty"`            // BT-22

	BuyerReference    string             `json:"buyer_reference,omitempty"`       // BT-10
	OrderReference    string             `json:"order_reference,omitempty"`       // BT-13
	SalesOrderRef     string             `json:"sales_order_reference,omitempty"` // BT-14
	ContractReference string             `json:"contract_reference,omitempty"`    // BT-12
	ProjectReference  string             `json:"project_reference,omitempty"`     // BT-11
	AccountingCost    string             `json:"accounting_cost,omitempty"`       // BT-19
	Preceding         []PrecedingInvoice `json:"preceding,omitempty"`             // BG-3
	Period            *Period            `json:"period,omitempty"`                // BG-14

	Seller   Party     `json:"seller"`             // BG-4
	Buyer    Party     `json:"buyer"`              // BG-7
	Payee    *Party    `json:"payee,omitempty"`    // BG-10
	Delivery *Delivery `json:"delivery,omitempty"` // BG-13

	PaymentMeans []PaymentMeans `json:"payment_means,omitempty"` // BG-16
	PaymentTerms string         `json:"payment_terms,omitempty"` // BT-20
	// Payment is how the customer settles the document, as routing
	// decided it; nil until routing has. Renderers read it through
	// HowToPay, never the payment means directly.
	Payment *Payment `json:"payment,omitempty"`
	// Letter is how the biller speaks to the customer on the channel
	// being rendered (design, language, message, link); the gateway sets
	// it just before rendering. nil renders the plain invoice.
	Letter *Letter `json:"letter,omitempty"`

	AllowanceCharges []AllowanceCharge `json:"allowance_charges,omitempty"` // BG-20, BG-21
	VAT              []VATBreakdown    `json:"vat,omitempty"`               // BG-23
	Totals           Totals            `json:"totals"`                      // BG-22
	Lines            []Line            `json:"lines"`                       // BG-25
	Attachments      []Attachment      `json:"attachments,omitempty"`       // BG-24

	// ForcedChannel, when set by the input (a CSV column or a UBL note), makes
	// routing use that channel only.
	ForcedChannel string `json:"forced_channel,omitempty"`
	// Channels, when set by the input (a letter index's channels column),
	// are the only channels the document may take, in the tenant's
	// priority order.
	Channels []string `json:"channels,omitempty"`
	// Resend, when set by the input (the CSV column resend or a UBL note),
	// says the document is sent again on purpose: the gateway delivers it
	// although it has sent the seller's document of that kind and number.
	Resend bool `json:"resend,omitempty"`
	// Language is the recipient's language ("sv", "en") when the input
	// says it (the CSV's language column); "" leaves it to the tenant.
	Language string `json:"language,omitempty"`
	// CustomerGroup is the biller's group for the buyer (the CSV's
	// customer_group column), which template segments may choose by.
	CustomerGroup string `json:"customer_group,omitempty"`
	// Subject is what a letter, statement, contract or notice is about
	// ("Nya priser från 1 januari"): the e-mail's subject, Kivra's.
	Subject string `json:"subject,omitempty"`
	// Reminder is set on a reminder: the invoice it is about, the fee
	// and interest it adds (kinds.go).
	Reminder *Reminder `json:"reminder,omitempty"`
	// Source says where in the input file the document came from ("entry
	// a.xml", "lines 12-14"), so every message can point at it.
	Source string `json:"source,omitempty"`
}

// PrecedingInvoice is BG-3: the invoice a credit note or correction refers to.
type PrecedingInvoice struct {
	Number    string `json:"number"`              // BT-25
	IssueDate Date   `json:"issue_date,omitzero"` // BT-26
}

// Period is an invoicing or line period (BG-14, BG-26).
type Period struct {
	Start Date `json:"start,omitzero"`
	End   Date `json:"end,omitzero"`
}

// Identifier is an id with the scheme it belongs to (ISO 6523 ICD such as
// 0007 for a Swedish organisationsnummer, or EAS codes for endpoints).
type Identifier struct {
	Scheme string `json:"scheme,omitempty"`
	Value  string `json:"value"`
}

// IsZero reports whether the identifier is empty.
func (i Identifier) IsZero() bool { return i.Value == "" }

// String gives "scheme:value", as Peppol writes participant ids.
func (i Identifier) String() string {
	if i.Scheme == "" {
		return i.Value
	}
	return i.Scheme + ":" + i.Value
}

// Party is a seller, buyer or payee.
type Party struct {
	Name            string       `json:"name"`                       // BT-27/44 registration name
	TradingName     string       `json:"trading_name,omitempty"`     // BT-28/45
	Endpoint        Identifier   `json:"endpoint,omitzero"`          // BT-34/49 electronic address
	Identifiers     []Identifier `json:"identifiers,omitempty"`      // BT-29/46
	LegalID         Identifier   `json:"legal_id,omitzero"`          // BT-30/47 (organisationsnummer)
	VATID           string       `json:"vat_id,omitempty"`           // BT-31/48
	TaxRegistration string       `json:"tax_registration,omitempty"` // BT-32 ("Godkänd för F-skatt")
	LegalInfo       string       `json:"legal_info,omitempty"`       // BT-33
	// PersonalID is a consumer's personnummer (12 digits), used by Kivra and
	// e-faktura to find the recipient.
	PersonalID string `json:"personal_id,omitempty"`
	// CustomerNumber is the seller's own number for this buyer; AutoGiro
	// calls it the payer number (betalarnummer).
	CustomerNumber string  `json:"customer_number,omitempty"`
	Address        Address `json:"address,omitzero"` // BG-5/8
	Contact        Contact `json:"contact,omitzero"` // BG-6/9
}

// DisplayName is the trading name if there is one, else the legal name.
func (p Party) DisplayName() string {
	if p.TradingName != "" {
		return p.TradingName
	}
	return p.Name
}

// Address is a postal address (BG-5, BG-8, BG-12, BG-15).
type Address struct {
	Street      string `json:"street,omitempty"`      // BT-35
	Additional  string `json:"additional,omitempty"`  // BT-36
	Line3       string `json:"line3,omitempty"`       // BT-162
	City        string `json:"city,omitempty"`        // BT-37
	PostalCode  string `json:"postal_code,omitempty"` // BT-38
	Subdivision string `json:"subdivision,omitempty"` // BT-39
	Country     string `json:"country,omitempty"`     // BT-40 (ISO 3166-1 alpha-2)
}

// IsZero reports whether no part of the address is set.
func (a Address) IsZero() bool { return a == Address{} }

// Postal reports whether the address is complete enough to post a letter:
// a street line, a postal code and a city.
func (a Address) Postal() bool {
	return strings.TrimSpace(a.Street) != "" && strings.TrimSpace(a.PostalCode) != "" && strings.TrimSpace(a.City) != ""
}

// Contact is BG-6 / BG-9.
type Contact struct {
	Name  string `json:"name,omitempty"`
	Phone string `json:"phone,omitempty"`
	Email string `json:"email,omitempty"`
}

// Delivery is BG-13.
type Delivery struct {
	Name       string     `json:"name,omitempty"`
	Date       Date       `json:"date,omitzero"`
	LocationID Identifier `json:"location_id,omitzero"`
	Address    Address    `json:"address,omitzero"`
}

// Payment means codes (UNCL4461) that matter for routing and rendering.
const (
	MeansCreditTransfer  = "30"
	MeansSEPACreditTrans = "58"
	MeansSEPADirectDebit = "59"
	MeansDirectDebit     = "49"
)

// Account schemes used on PayeeFinancialAccount/ID/@schemeID in Sweden.
const (
	AccountIBAN     = "IBAN"
	AccountBankgiro = "SE:BANKGIRO"
	AccountPlusgiro = "SE:PLUSGIRO"
)

// PaymentMeans is BG-16 with its account (BG-17) and mandate (BG-19).
type PaymentMeans struct {
	Code           string `json:"code"`                      // BT-81
	Text           string `json:"text,omitempty"`            // BT-82
	PaymentID      string `json:"payment_id,omitempty"`      // BT-83: OCR reference in Sweden
	Account        string `json:"account,omitempty"`         // BT-84
	AccountScheme  string `json:"account_scheme,omitempty"`  // IBAN, SE:BANKGIRO, SE:PLUSGIRO
	AccountName    string `json:"account_name,omitempty"`    // BT-85
	ServiceID      string `json:"service_id,omitempty"`      // BT-86 (BIC)
	MandateID      string `json:"mandate_id,omitempty"`      // BT-89: AutoGiro payer number
	DebitedAccount string `json:"debited_account,omitempty"` // BT-91
	CardPAN        string `json:"card_pan,omitempty"`        // BT-87
}

// AllowanceCharge is a document- or line-level allowance (charge=false) or
// charge (BG-20, BG-21, BG-27, BG-28).
type AllowanceCharge struct {
	Charge      bool    `json:"charge"`
	Amount      Amount  `json:"amount"`
	BaseAmount  *Amount `json:"base_amount,omitempty"`
	Percent     Decimal `json:"percent,omitempty"`
	Reason      string  `json:"reason,omitempty"`
	ReasonCode  string  `json:"reason_code,omitempty"`
	VATCategory string  `json:"vat_category,omitempty"`
	VATRate     Decimal `json:"vat_rate,omitempty"`
}

// VATBreakdown is BG-23: one VAT category and rate with its totals.
type VATBreakdown struct {
	Category        string  `json:"category"`                   // BT-118 (S, Z, E, AE, K, G, O, L, M)
	Rate            Decimal `json:"rate,omitempty"`             // BT-119
	TaxableAmount   Amount  `json:"taxable_amount"`             // BT-116
	TaxAmount       Amount  `json:"tax_amount"`                 // BT-117
	ExemptionReason string  `json:"exemption_reason,omitempty"` // BT-120
	ExemptionCode   string  `json:"exemption_code,omitempty"`   // BT-121
}

// Totals is BG-22. Pointers mark the optional totals, so an absent total
// differs from a zero one.
type Totals struct {
	LineExtension      Amount  `json:"line_extension"`                 // BT-106
	AllowanceTotal     *Amount `json:"allowance_total,omitempty"`      // BT-107
	ChargeTotal        *Amount `json:"charge_total,omitempty"`         // BT-108
	TaxExclusive       Amount  `json:"tax_exclusive"`                  // BT-109
	TaxTotal           *Amount `json:"tax_total,omitempty"`            // BT-110
	TaxTotalAccounting *Amount `json:"tax_total_accounting,omitempty"` // BT-111
	TaxInclusive       Amount  `json:"tax_inclusive"`                  // BT-112
	Prepaid            *Amount `json:"prepaid,omitempty"`              // BT-113
	Rounding           *Amount `json:"rounding,omitempty"`             // BT-114
	Payable            Amount  `json:"payable"`                        // BT-115
}

// Line is one invoice line (BG-25).
type Line struct {
	ID               string            `json:"id"`                        // BT-126
	Note             string            `json:"note,omitempty"`            // BT-127
	Quantity         Decimal           `json:"quantity"`                  // BT-129
	Unit             string            `json:"unit,omitempty"`            // BT-130
	NetAmount        Amount            `json:"net_amount"`                // BT-131
	OrderLineRef     string            `json:"order_line_ref,omitempty"`  // BT-132
	AccountingCost   string            `json:"accounting_cost,omitempty"` // BT-133
	Period           *Period           `json:"period,omitempty"`          // BG-26
	AllowanceCharges []AllowanceCharge `json:"allowance_charges,omitempty"`
	Item             LineItem          `json:"item"`
	Price            Price             `json:"price"`
}

// LineItem is BG-31: what a line sells.
type LineItem struct {
	Name           string       `json:"name"`                     // BT-153
	Description    string       `json:"description,omitempty"`    // BT-154
	SellerID       string       `json:"seller_id,omitempty"`      // BT-155
	BuyerID        string       `json:"buyer_id,omitempty"`       // BT-156
	StandardID     Identifier   `json:"standard_id,omitzero"`     // BT-157
	Classification []Identifier `json:"classification,omitempty"` // BT-158
	OriginCountry  string       `json:"origin_country,omitempty"` // BT-159
	VATCategory    string       `json:"vat_category"`             // BT-151
	VATRate        Decimal      `json:"vat_rate,omitempty"`       // BT-152
}

// Price is BG-29.
type Price struct {
	Amount       Decimal `json:"amount"`                  // BT-146 net price
	BaseQuantity Decimal `json:"base_quantity,omitempty"` // BT-149
	BaseUnit     string  `json:"base_unit,omitempty"`     // BT-150
	Discount     Decimal `json:"discount,omitempty"`      // BT-147
	Gross        Decimal `json:"gross,omitempty"`         // BT-148
}

// Attachment is BG-24: a supporting document, embedded or by URI.
type Attachment struct {
	ID          string `json:"id"`                    // BT-122
	Description string `json:"description,omitempty"` // BT-123
	MimeCode    string `json:"mime_code,omitempty"`
	Filename    string `json:"filename,omitempty"`
	Data        []byte `json:"data,omitempty"` // BT-125, decoded
	URI         string `json:"uri,omitempty"`  // BT-124
}

// Bankgiro returns the first bankgiro number the invoice is payable to.
func (d *Document) Bankgiro() string { return d.account(AccountBankgiro) }

// Plusgiro returns the first plusgiro number the invoice is payable to.
func (d *Document) Plusgiro() string { return d.account(AccountPlusgiro) }

// IBAN returns the first IBAN the invoice is payable to.
func (d *Document) IBAN() string { return d.account(AccountIBAN) }

func (d *Document) account(scheme string) string {
	for _, m := range d.PaymentMeans {
		if strings.EqualFold(m.AccountScheme, scheme) && m.Account != "" {
			return m.Account
		}
	}
	return ""
}

// PaymentReference returns the structured payment reference (in Sweden the
// OCR number) of the first payment means that carries one.
func (d *Document) PaymentReference() string {
	for _, m := range d.PaymentMeans {
		if m.PaymentID != "" {
			return m.PaymentID
		}
	}
	return ""
}

// MandateReference returns the direct-debit mandate reference (BT-89), which
// for AutoGiro is the payer number.
func (d *Document) MandateReference() string {
	for _, m := range d.PaymentMeans {
		if m.MandateID != "" {
			return m.MandateID
		}
	}
	return ""
}

// Label names the document in messages: "invoice 2018210" or, without a
// number, its position in the file.
func (d *Document) Label() string {
	kind := "invoice"
	switch d.Kind {
	case KindInvoice, "":
	case KindCreditNote:
		kind = "credit note"
	default:
		kind = strings.ToLower(d.Kind.English())
	}
	if d.Number != "" {
		return kind + " " + d.Number
	}
	if d.Source != "" {
		return kind + " at " + d.Source
	}
	return kind + " without number"
}

// Date is a calendar date without time or zone, as invoices carry them.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// ParseDate reads an ISO date, YYYY-MM-DD, and checks that it exists.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse("2006-01-02", strings.TrimSpace(s))
	if err != nil {
		return Date{}, fmt.Errorf("%q is not a date in the form YYYY-MM-DD", s)
	}
	return DateOf(t), nil
}

// DateOf returns the calendar date of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// IsZero reports whether the date is unset.
func (d Date) IsZero() bool { return d == Date{} }

// Time returns midnight UTC of the date.
func (d Date) Time() time.Time { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC) }

// Before reports whether d is earlier than e.
func (d Date) Before(e Date) bool { return d.Time().Before(e.Time()) }

// String formats the date as YYYY-MM-DD, or "" when unset.
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	if d.Year < 0 || d.Year > 9999 || d.Month < 0 || d.Month > 99 || d.Day < 0 || d.Day > 99 {
		return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day)
	}
	// The common case without fmt: dates are written for every invoice
	// several times over.
	y, m := d.Year, int(d.Month)
	b := [10]byte{byte('0' + y/1000), byte('0' + y/100%10), byte('0' + y/10%10), byte('0' + y%10), '-',
		byte('0' + m/10), byte('0' + m%10), '-', byte('0' + d.Day/10), byte('0' + d.Day%10)}
	return string(b[:])
}

// MarshalText writes YYYY-MM-DD.
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads YYYY-MM-DD; an empty text is the zero date.
func (d *Date) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*d = Date{}
		return nil
	}
	v, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}
