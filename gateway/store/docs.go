package store

import (
	"strings"
	"time"

	"github.com/multikanal/multikanal/formats"
)

// DocTx is the aggregate of documents: their records, parsed bodies,
// histories and the indexes routing keeps of them (invoice numbers, the
// duplicate keys). A document's id is its file's id and its position
// ("F0000042-0000003"), so a file's documents are one range.
type DocTx interface {
	Doc(id string) (*Doc, error)
	// PutDoc records a document and keeps the counts per state and
	// channel, per payment state, the overview's (OverviewChange), and
	// the index of dead documents that need attention.
	PutDoc(d *Doc) error
	// Body is the parsed document, kept so retries and fallbacks need not
	// parse the input again.
	Body(docID string) (*formats.Document, error)
	PutBody(docID string, doc *formats.Document) error
	// FileDocs calls fn for every document of a file, in file order.
	FileDocs(fileID string, fn func(*Doc) error) error
	// AppendEvent adds to a document's history and sets d.Events.
	AppendEvent(d *Doc, e Event) error
	Events(docID string) ([]Event, error)
	// Counts is the number of documents per state and channel.
	Counts() (map[DocState]map[string]int64, error)
	// NeedsAttention returns the newest limit dead documents that no
	// operator has acknowledged, and how many there are in all.
	NeedsAttention(limit int) ([]*Doc, int, error)

	// PutNumberRef indexes an invoice by its number, so a credit note can
	// find the invoice it credits.
	PutNumberRef(tenant, number, docID string) error
	// NumberRef finds the latest document with the number, or ErrNotFound.
	NumberRef(tenant, number string) (string, error)
	// PutDocKey records the document that first carried a seller's
	// document kind and number, for duplicate detection; a key already
	// recorded keeps its first document.
	PutDocKey(tenant string, k DocKey, docID string) error
	// DocByKey finds the first document recorded under the key, or
	// ErrNotFound.
	DocByKey(tenant string, k DocKey) (string, error)
}

// DocState is where a document stands.
type DocState string

// Document states, as PRODUCT.md names them.
const (
	DocReceived  DocState = "received"
	DocParsed    DocState = "parsed"
	DocRejected  DocState = "rejected"
	DocHeld      DocState = "held"
	DocRouted    DocState = "routed"
	DocQueued    DocState = "queued"
	DocDelivered DocState = "delivered"
	DocRetrying  DocState = "retrying"
	DocFailed    DocState = "failed"
	DocDead      DocState = "dead"
	// DocSkipped is an entry of an archive that holds no document (a
	// folder, an archiver's metadata): listed with why, never delivered.
	DocSkipped DocState = "skipped"
)

// End reports whether the state is final for the document.
func (s DocState) End() bool {
	return s == DocDelivered || s == DocRejected || s == DocDead || s == DocHeld || s == DocSkipped
}

// RouteStep is one channel considered by routing, with the reason.
type RouteStep struct {
	Channel  string `json:"channel"`
	Eligible bool   `json:"eligible"`
	Address  string `json:"address,omitempty"`
	Reason   string `json:"reason"`
}

// Doc is the gateway's record of one document.
type Doc struct {
	ID       string         `json:"id"`
	FileID   string         `json:"file_id"`
	Tenant   string         `json:"tenant"`
	Index    int            `json:"index"`
	Source   string         `json:"source,omitempty"`
	Kind     formats.Kind   `json:"kind,omitempty"`
	Number   string         `json:"number,omitempty"`
	Buyer    string         `json:"buyer,omitempty"`
	Currency string         `json:"currency,omitempty"`
	Amount   formats.Amount `json:"amount"`
	DueDate  formats.Date   `json:"due_date,omitzero"`
	// Opened is when the recipient first opened the invoice page.
	Opened time.Time `json:"opened,omitzero"`

	State    DocState          `json:"state"`
	Channel  string            `json:"channel,omitempty"`
	Address  string            `json:"address,omitempty"`
	Reason   string            `json:"reason,omitempty"`
	Problems []formats.Problem `json:"problems,omitempty"`
	Route    []RouteStep       `json:"route,omitempty"`
	// Tried counts the route steps already used (failed or in use).
	Tried  int    `json:"tried,omitempty"`
	Output string `json:"output,omitempty"`
	// Collection is the invoice's payment, when something happened to it:
	// an AutoGiro withdrawal beside distribution, or a payment the bank
	// reported. See Payment.
	Collection *Collection `json:"collection,omitempty"`
	// Ack is an operator's acknowledgement of a dead document: it no longer
	// needs attention. A retry clears it.
	Ack     *Ack      `json:"ack,omitempty"`
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
	Events  int       `json:"events"`
	// Dunning is what followed an unpaid invoice: its reminders and its
	// hand-off to debt collection; CreditedBy the credit note (document
	// id) that credited it; Disputed an operator's word that the customer
	// disputes it, which stops reminders; Reminds, on a reminder, the
	// invoice it is about (dunning.go).
	Dunning    *Dunning `json:"dunning,omitempty"`
	CreditedBy string   `json:"credited_by,omitempty"`
	Disputed   *Ack     `json:"disputed,omitempty"`
	Reminds    string   `json:"reminds,omitempty"`
	// Resends counts the deliberate resends (`docs resend`); each has
	// deliveries of its own (DeliveryID).
	Resends int `json:"resends,omitempty"`

	// SentSHA256 is the SHA-256 of what was sent (the message, or the
	// batch file it went in): the summary's proof of what left.
	SentSHA256 string `json:"sent_sha256,omitempty"`
	// Keys are the pseudonyms (Store.HashKey) of the recipient's keys, so
	// an erasure finds the document after its body is gone.
	Keys []string `json:"keys,omitempty"`
	// Summarised is when retention removed the payload and kept this
	// summary (Summarise); Anonymised when an erasure or the end of the
	// archive period removed what could point at the recipient.
	Summarised time.Time `json:"summarised,omitzero"`
	Anonymised time.Time `json:"anonymised,omitzero"`
}

// DocKey is what makes a document the same document for duplicate
// detection: its seller, its kind and its number, per tenant. Seller is
// "orgnr:" and the 10 digits of a Swedish organisationsnummer (from the
// legal id or a Swedish VAT id), else "id:" the legal id with its scheme,
// "vat:" the VAT id, or "name:" the seller's name, lower case with single
// spaces. Number is the number as given, trimmed.
type DocKey struct {
	Seller string
	Kind   string
	Number string
}

// DocKeyOf is the key of a parsed document; ok is false for a document
// without a number, which cannot be recognised again.
func DocKeyOf(doc *formats.Document) (k DocKey, ok bool) {
	number := strings.TrimSpace(doc.Number)
	if number == "" {
		return k, false
	}
	kind := string(doc.Kind)
	if kind == "" {
		kind = string(formats.KindInvoice)
	}
	return DocKey{Seller: sellerKey(doc.Seller), Kind: kind, Number: number}, true
}

func sellerKey(p formats.Party) string {
	upper := func(s string) string {
		return strings.ToUpper(strings.NewReplacer(" ", "", "-", "", ".", "").Replace(strings.TrimSpace(s)))
	}
	legal := formats.OnlyDigits(p.LegalID.Value)
	if len(legal) == 12 && strings.HasPrefix(legal, "16") {
		legal = legal[2:]
	}
	vat := upper(p.VATID)
	switch {
	case (p.LegalID.Scheme == "" || p.LegalID.Scheme == "0007") && len(legal) == 10:
		return "orgnr:" + legal
	case len(vat) == 14 && strings.HasPrefix(vat, "SE") && strings.HasSuffix(vat, "01") && formats.OnlyDigits(vat) == vat[2:]:
		return "orgnr:" + vat[2:12]
	case p.LegalID.Value != "":
		return "id:" + p.LegalID.Scheme + ":" + upper(p.LegalID.Value)
	case vat != "":
		return "vat:" + vat
	}
	return "name:" + strings.Join(strings.Fields(strings.ToLower(p.Name)), " ")
}

func (k DocKey) String() string { return k.Seller + " " + k.Kind + " " + k.Number }

// Event is one entry in a document's history.
type Event struct {
	At      time.Time `json:"at"`
	State   DocState  `json:"state"`
	Channel string    `json:"channel,omitempty"`
	Reason  string    `json:"reason,omitempty"`
}

// Ack is an operator's acknowledgement of a dead document: who, when, why.
type Ack struct {
	At  time.Time `json:"at"`
	By  string    `json:"by"`
	Why string    `json:"why"`
}
