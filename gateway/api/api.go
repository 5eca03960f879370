// Package api is what the gateway says to the outside, as JSON: the
// operators' HTTP API (/api/v1/...), the receipts in the tenants' receipts
// folders, and daemon.json. The command line decodes these types; scripts
// read the same JSON.
//
// They are not the store's records (package store): a record is what the
// gateway keeps, a wire type what it shows, made from the record by the
// part that shows it (receipts' tenant view cuts server paths out on the
// way). Field names are a contract with clients and with receipts already
// written: change them only on purpose, never as a side effect of a change
// to the store.
//
// The package holds types only, no behaviour; it imports nothing of the
// gateway.
package api

import (
	"time"

	"github.com/multikanal/multikanal/formats"
)

// DocState is where a document stands (PRODUCT.md's document states).
type DocState string

// Document states.
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
	DocSkipped   DocState = "skipped"
)

// FileState is where an input file stands.
type FileState string

// File states.
const (
	FileClaimed   FileState = "claimed"
	FileReceived  FileState = "received"
	FileParsed    FileState = "parsed"
	FileRejected  FileState = "rejected"
	FileDuplicate FileState = "duplicate"
	FileApplied   FileState = "applied"
)

// PaymentState is where an invoice's payment stands.
type PaymentState string

// Payment states.
const (
	PaymentOpen       PaymentState = "open"
	PaymentScheduled  PaymentState = "scheduled"
	PaymentCollected  PaymentState = "collected"
	PaymentPaid       PaymentState = "paid"
	PaymentPartlyPaid PaymentState = "partly_paid"
	PaymentRefunded   PaymentState = "refunded"
	PaymentCancelled  PaymentState = "cancelled"
	PaymentFailed     PaymentState = "failed"
)

// RouteStep is one channel routing considered, with the reason.
type RouteStep struct {
	Channel  string `json:"channel"`
	Eligible bool   `json:"eligible"`
	Address  string `json:"address,omitempty"`
	Reason   string `json:"reason"`
}

// Collection is an invoice's payment: a direct debit by a collection
// channel beside distribution, or the payer's own payment as the bank
// reports it.
type Collection struct {
	Method   string         `json:"method"`          // the collection channel ("autogiro", "avtalegiro"), or "transfer"
	Payer    string         `json:"payer,omitempty"` // the mandate's payer key: AutoGiro payer number, AvtaleGiro KID
	State    PaymentState   `json:"state"`
	AtBank   bool           `json:"at_bank,omitempty"`
	File     string         `json:"file,omitempty"` // the payment file that carried the order
	Date     formats.Date   `json:"date,omitzero"`
	Paid     formats.Amount `json:"paid,omitempty"`
	Payments []Received     `json:"payments,omitempty"`
	Reason   string         `json:"reason,omitempty"`
	At       time.Time      `json:"at,omitzero"`
}

// Received is one payment a bank reported for an invoice.
type Received struct {
	Key    string         `json:"key"`
	Amount formats.Amount `json:"amount"`
	Date   formats.Date   `json:"date,omitzero"`
	Source string         `json:"source"`
}

// Ack is an operator's acknowledgement of a dead document.
type Ack struct {
	At  time.Time `json:"at"`
	By  string    `json:"by"`
	Why string    `json:"why"`
}

// Doc is a document as the API shows it.
type Doc struct {
	ID         string            `json:"id"`
	FileID     string            `json:"file_id"`
	Tenant     string            `json:"tenant"`
	Index      int               `json:"index"`
	Source     string            `json:"source,omitempty"`
	Kind       formats.Kind      `json:"kind,omitempty"`
	Number     string            `json:"number,omitempty"`
	Buyer      string            `json:"buyer,omitempty"`
	Currency   string            `json:"currency,omitempty"`
	Amount     formats.Amount    `json:"amount"`
	DueDate    formats.Date      `json:"due_date,omitzero"`
	State      DocState          `json:"state"`
	Channel    string            `json:"channel,omitempty"`
	Address    string            `json:"address,omitempty"`
	Reason     string            `json:"reason,omitempty"`
	Problems   []formats.Problem `json:"problems,omitempty"`
	Route      []RouteStep       `json:"route,omitempty"`
	Tried      int               `json:"tried,omitempty"`
	Output     string            `json:"output,omitempty"`
	Collection *Collection       `json:"collection,omitempty"`
	// Payment is how the invoice is paid as the gateway sees it: its
	// collection, or open (the payer pays) for an invoice sent without
	// one; nil for what is not payable (a credit note, a rejected or held
	// invoice). It is what a receipt line's "collection" shows.
	Payment *Collection `json:"payment,omitempty"`
	Ack     *Ack        `json:"ack,omitempty"`
	Created time.Time   `json:"created"`
	// Opened is when the recipient first opened the invoice page.
	Opened time.Time `json:"opened,omitzero"`
	// Life is where an invoice stands after delivery: delivered, opened,
	// paid, partly_paid, reminded, credited, collection_agency,
	// disputed; any other document's is its state.
	Life       string    `json:"life,omitempty"`
	Dunning    *Dunning  `json:"dunning,omitempty"`
	CreditedBy string    `json:"credited_by,omitempty"`
	Disputed   *Ack      `json:"disputed,omitempty"`
	Reminds    string    `json:"reminds,omitempty"`
	Updated    time.Time `json:"updated"`
	Events     int       `json:"events"`
	Resends    int       `json:"resends,omitempty"`
	SentSHA256 string    `json:"sent_sha256,omitempty"`
	Keys       []string  `json:"keys,omitempty"`
	Summarised time.Time `json:"summarised,omitzero"`
	Anonymised time.Time `json:"anonymised,omitzero"`
}

// File is an input file as the API shows it: never where it is on the
// server.
type File struct {
	ID              string    `json:"id"`
	Tenant          string    `json:"tenant"`
	Name            string    `json:"name"`
	SHA256          string    `json:"sha256"`
	Size            int64     `json:"size"`
	ReceivedAt      time.Time `json:"received_at"`
	State           FileState `json:"state"`
	Reason          string    `json:"reason,omitempty"`
	Format          string    `json:"format,omitempty"`
	Docs            int       `json:"documents"`
	DuplicateOf     string    `json:"duplicate_of,omitempty"`
	Final           bool      `json:"final"`
	FinalAt         time.Time `json:"final_at,omitzero"`
	Receipt         string    `json:"receipt,omitempty"`
	Refused         bool      `json:"refused,omitempty"`
	InputRemoved    time.Time `json:"input_removed,omitzero"`
	PayloadsRemoved time.Time `json:"payloads_removed,omitzero"`
	ReceiptRemoved  time.Time `json:"receipt_removed,omitzero"`
	ArchiveEnded    time.Time `json:"archive_ended,omitzero"`
}

// Event is one entry in a document's history.
type Event struct {
	At      time.Time `json:"at"`
	State   DocState  `json:"state"`
	Channel string    `json:"channel,omitempty"`
	Reason  string    `json:"reason,omitempty"`
}

// Delivery is one document on one channel.
type Delivery struct {
	ID         string    `json:"id"`
	DocID      string    `json:"doc_id"`
	Tenant     string    `json:"tenant"`
	Channel    string    `json:"channel"`
	To         string    `json:"to,omitempty"`
	Collection bool      `json:"collection,omitempty"`
	State      string    `json:"state"` // queued, batched, retrying, delivered, failed
	Batched    bool      `json:"batched,omitempty"`
	BatchID    string    `json:"batch_id,omitempty"`
	Attempts   int       `json:"attempts"`
	NextAt     time.Time `json:"next_at,omitzero"`
	ConfirmBy  time.Time `json:"confirm_by,omitzero"`
	Confirmed  bool      `json:"confirmed,omitempty"`
	// OpenBy is when an unopened invoice page makes the invoice fall
	// back; Opened when the recipient first opened it.
	OpenBy    time.Time `json:"open_by,omitzero"`
	Opened    time.Time `json:"opened,omitzero"`
	LastError string    `json:"last_error,omitempty"`
	Ref       string    `json:"ref,omitempty"`
	Created   time.Time `json:"created"`
	Updated   time.Time `json:"updated"`
}

// DocDetail is everything the gateway knows about one document
// (GET /api/v1/docs/{id}).
type DocDetail struct {
	Doc        *Doc              `json:"document"`
	File       *File             `json:"file"`
	Events     []Event           `json:"events"`
	Deliveries []*Delivery       `json:"deliveries"`
	Invoice    *formats.Document `json:"invoice,omitempty"`
}

// Receipt is what a tenant reads in receipts/<name>.receipt.json: the fate
// of one input file and of every document in it.
type Receipt struct {
	File   string `json:"file"`
	FileID string `json:"file_id"`
	// Receipt is the receipt's own name in the receipts folder; empty
	// until it is first written.
	Receipt    string            `json:"receipt,omitempty"`
	Tenant     string            `json:"tenant"`
	SHA256     string            `json:"sha256"`
	Size       int64             `json:"size"`
	Format     string            `json:"format,omitempty"`
	ReceivedAt time.Time         `json:"received_at"`
	State      FileState         `json:"state"`
	Reason     string            `json:"reason,omitempty"`
	Final      bool              `json:"final"`
	UpdatedAt  time.Time         `json:"updated_at"`
	Summary    map[string]int    `json:"summary"`
	Documents  []ReceiptDocument `json:"documents"`
}

// ReceiptDocument is one document's line in a receipt.
type ReceiptDocument struct {
	ID       string            `json:"id"`
	Number   string            `json:"number,omitempty"`
	Kind     formats.Kind      `json:"kind,omitempty"`
	Source   string            `json:"source,omitempty"`
	Buyer    string            `json:"buyer,omitempty"`
	Amount   string            `json:"amount,omitempty"`
	Currency string            `json:"currency,omitempty"`
	DueDate  string            `json:"due_date,omitempty"`
	State    DocState          `json:"state"`
	Channel  string            `json:"channel,omitempty"`
	Address  string            `json:"address,omitempty"`
	Output   string            `json:"output,omitempty"`
	Reason   string            `json:"reason,omitempty"`
	Problems []formats.Problem `json:"problems,omitempty"`
	Route    []RouteStep       `json:"route,omitempty"`
	// Collection is the invoice's payment state: a direct debit beside
	// distribution, or what the payer paid.
	Collection *Collection `json:"collection,omitempty"`
	// Opened is when the recipient first opened the invoice page.
	Opened time.Time `json:"opened,omitzero"`
	// Life is where an invoice stands after delivery (Doc.Life);
	// Reminders how many reminders it had; Reminds, on a reminder, the
	// invoice's number.
	Life      string    `json:"life,omitempty"`
	Reminders int       `json:"reminders,omitempty"`
	Reminds   string    `json:"reminds,omitempty"`
	Received  time.Time `json:"received"`
	Updated   time.Time `json:"updated"`
}
