// Package store keeps the gateway's durable state: input files, documents
// with their append-only event history, deliveries, batches and the work
// queue. The Store interface is narrow on purpose so another backend can
// replace bbolt; the bbolt implementation is in bolt.go.
//
// Every state change is applied in one transaction. Many changes may share a
// transaction (group commit): a bbolt commit costs an fsync, ~1 ms, so one
// commit per invoice would cap the gateway near 1,200 invoices a second.
package store

import (
	"fmt"
	"strings"
	"time"

	json "github.com/goccy/go-json"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/gateway/errkind"
)

// ErrNotFound is returned when a record does not exist; its kind is
// errkind.NotFound.
var ErrNotFound = errkind.New(errkind.NotFound, "not found")

// Store is the durable state of the gateway.
type Store interface {
	// View runs fn in a read-only transaction.
	View(fn func(Tx) error) error
	// Update runs fn in a read-write transaction; fn's changes are committed
	// together or not at all. Concurrent Updates may share one commit.
	Update(fn func(Tx) error) error
	// Backup writes a consistent copy of the whole store to path.
	Backup(path string) error
	// Size is the store's size on disk in bytes.
	Size() int64
	// ScanFileDocs calls fn for every document of a file, in file order,
	// reading them in short transactions of a few thousand: a scan of a
	// million documents must not hold one transaction open for its whole
	// length (the store can grow its memory map only when none is open, so
	// every commit would wait for the scan). The documents are not one
	// snapshot: each is as it was when its part was read.
	ScanFileDocs(fileID string, fn func(*Doc) error) error
	// ScanDocsNewestFirst calls fn for every document of every file, the
	// newest first (the last document of the last file first), in short
	// transactions as ScanFileDocs does. An error from fn ends the scan
	// and is returned.
	ScanDocsNewestFirst(fn func(*Doc) error) error
	// ScanFileDocsAfter is ScanFileDocs starting after the document after,
	// and ScanDocsBefore is ScanDocsNewestFirst starting after (older than)
	// the document before: the cursors a listing pages on. An empty
	// cursor starts at the beginning.
	ScanFileDocsAfter(fileID, after string, fn func(*Doc) error) error
	ScanDocsBefore(before string, fn func(*Doc) error) error
	Close() error
	upkeepStore // retention.go, compact.go
}

// Tx is what a transaction can read and write.
type Tx interface {
	NextFileID() (string, error)
	File(id string) (*File, error)
	PutFile(f *File) error
	// FileByHash finds an earlier file of the tenant with the same content.
	FileByHash(tenant, sha256 string) (*File, error)
	ForEachFile(fn func(*File) error) error
	// ForEachFileNewestFirst calls fn for every file, the last received
	// first, until fn returns an error, which it returns.
	ForEachFileNewestFirst(fn func(*File) error) error
	// ForEachOpenFile calls fn for every file whose receipt is not final,
	// oldest first, without reading the others.
	ForEachOpenFile(fn func(*File) error) error
	// FileCounts is the number of files per state.
	FileCounts() (map[FileState]int64, error)

	Doc(id string) (*Doc, error)
	PutDoc(d *Doc) error
	// Body is the parsed document, kept so retries and fallbacks need not
	// parse the input again.
	Body(docID string) (*formats.Document, error)
	PutBody(docID string, doc *formats.Document) error
	// FileDocs calls fn for every document of a file, in file order.
	FileDocs(fileID string, fn func(*Doc) error) error
	// AppendEvent adds to a document's history and sets d.Events.
	AppendEvent(d *Doc, e Event) error
	// Counts is the number of documents per state and channel.
	Counts() (map[DocState]map[string]int64, error)
	// NeedsAttention returns the newest limit dead documents that no
	// operator has acknowledged, and how many there are in all.
	NeedsAttention(limit int) ([]*Doc, int, error)
	Events(docID string) ([]Event, error)

	Delivery(id string) (*Delivery, error)
	PutDelivery(dl *Delivery) error
	ForEachDelivery(fn func(*Delivery) error) error
	// FilePending reports whether a document of the file has a delivery
	// not yet at an end (or awaiting a confirmation), without decoding one.
	FilePending(fileID string) bool

	Batch(id string) (*Batch, error)
	PutBatch(b *Batch) error
	ForEachBatch(fn func(*Batch) error) error

	// PutRegistration adds or updates a registry entry and indexes it
	// under every one of its keys.
	PutRegistration(r *Registration) error
	// Registrations finds every entry of the tenant with this key, revoked
	// ones included, oldest first.
	Registrations(tenant string, key RecipientKey) ([]*Registration, error)
	ForEachRegistration(tenant string, fn func(*Registration) error) error

	// PutCollectionRef indexes a withdrawal by payer number and reference,
	// as Bankgirot's payment specification names it.
	PutCollectionRef(tenant, payer, ref, docID string) error
	// CollectionRef finds the document of a withdrawal, or ErrNotFound.
	CollectionRef(tenant, payer, ref string) (string, error)

	// ForEachCollectionRef calls fn for the tenant's withdrawals (of one
	// payer, or every payer's when payer is ""), as PutCollectionRef
	// indexed them.
	ForEachCollectionRef(tenant, payer string, fn func(payer, ref, docID string) error) error

	// PutPaymentRef indexes an invoice by a reference its payer pays it
	// with (its OCR number, its invoice number), so a bank's report of
	// incoming payments finds it; a later invoice with the same reference
	// takes it over.
	PutPaymentRef(tenant, ref, docID string) error
	// PaymentRef finds the invoice a payment names, or ErrNotFound.
	PaymentRef(tenant, ref string) (string, error)
	// PaymentCounts is the number of documents per payment state (see
	// Doc.Payment), kept by PutDoc.
	PaymentCounts() (map[PaymentState]int64, error)

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

	// PutMandateOrder adds (giving it an id) or updates a mandate order.
	PutMandateOrder(o *MandateOrder) error
	MandateOrder(tenant, id string) (*MandateOrder, error)
	// ForEachMandateOrder calls fn for the tenant's orders (every tenant's
	// when tenant is ""), oldest first.
	ForEachMandateOrder(tenant string, fn func(*MandateOrder) error) error

	upkeepTx // retention.go
}

// FileState is where an input file stands.
type FileState string

// File states. A file is final when it and all its documents are in end states.
const (
	FileClaimed   FileState = "claimed"   // recorded, being moved into spool/
	FileReceived  FileState = "received"  // in spool/, not yet parsed
	FileParsed    FileState = "parsed"    // every document recorded
	FileRejected  FileState = "rejected"  // unreadable as a whole
	FileDuplicate FileState = "duplicate" // same bytes as an earlier file of the tenant
	FileApplied   FileState = "applied"   // a bank or registry file, applied to the registry
)

// File is one input file.
type File struct {
	ID          string    `json:"id"`
	Tenant      string    `json:"tenant"`
	Name        string    `json:"name"` // the name it arrived with
	InboxPath   string    `json:"inbox_path,omitempty"`
	SHA256      string    `json:"sha256"`
	Size        int64     `json:"size"`
	ReceivedAt  time.Time `json:"received_at"`
	State       FileState `json:"state"`
	Reason      string    `json:"reason,omitempty"`
	Format      string    `json:"format,omitempty"`
	Docs        int       `json:"documents"`
	DuplicateOf string    `json:"duplicate_of,omitempty"`
	Final       bool      `json:"final"`
	FinalAt     time.Time `json:"final_at,omitzero"`
	// Receipt is the name of the file's receipt in the tenant's receipts
	// folder, chosen at its first write and kept for every rewrite.
	Receipt string `json:"receipt,omitempty"`

	// Refused marks a file rejected for the gateway's reason (its store
	// over quota), not for its content: its hash is not indexed, so the
	// same bytes sent again are taken.
	Refused bool `json:"refused,omitempty"`

	// Retention steps done (gateway/retention.go): the input file left
	// spool/, the documents were summarised, the receipt was removed, the
	// archive period ended.
	InputRemoved    time.Time `json:"input_removed,omitzero"`
	PayloadsRemoved time.Time `json:"payloads_removed,omitzero"`
	ReceiptRemoved  time.Time `json:"receipt_removed,omitzero"`
	ArchiveEnded    time.Time `json:"archive_ended,omitzero"`
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

// PaymentState is where an invoice's payment stands: collected by
// AutoGiro beside distribution, or paid by the payer (bankgiro, plusgiro,
// Swish with the OCR number) as the bank reports it.
type PaymentState string

// Payment states. Records written before the payment state had them carry
// queued, submitted, stopped and none, which read as scheduled (not yet at
// the bank), scheduled (at the bank), failed and open.
const (
	PaymentOpen       PaymentState = "open"        // the payer pays; no payment reported yet (the reason says why AutoGiro does not collect it, when the invoice named a payer)
	PaymentScheduled  PaymentState = "scheduled"   // an AutoGiro withdrawal (or deposit) is ordered: waiting for the next payment file, or at Bankgirot for its date (AtBank)
	PaymentCollected  PaymentState = "collected"   // Bankgirot reports the withdrawal made
	PaymentPaid       PaymentState = "paid"        // the bank reports the amount due paid in full
	PaymentPartlyPaid PaymentState = "partly_paid" // the bank reports part of the amount due paid
	PaymentRefunded   PaymentState = "refunded"    // money went back to the payer: a withdrawal taken back by the payer's bank, or a credit note's deposit made
	PaymentCancelled  PaymentState = "cancelled"   // the withdrawal was cancelled before it was made
	PaymentFailed     PaymentState = "failed"      // not collected: the payment file failed, or Bankgirot rejected or stopped the payment
)

// MethodTransfer is the Collection.Method of an invoice the payer pays
// himself; an AutoGiro withdrawal's is "autogiro".
const MethodTransfer = "transfer"

// Collection is an invoice's payment: an AutoGiro withdrawal beside
// distribution, or the payer's own payment as the bank reports it. The
// JSON names are the ones receipts have carried since collection began.
type Collection struct {
	Method string       `json:"method"`          // "autogiro", or "transfer"
	Payer  string       `json:"payer,omitempty"` // AutoGiro payer number
	State  PaymentState `json:"state"`
	// AtBank says Bankgirot has the AutoGiro order: its payment file was
	// delivered, or a report from Bankgirot names it.
	AtBank bool   `json:"at_bank,omitempty"`
	File   string `json:"file,omitempty"` // the payment file that carried the order
	// Date is the payment date Bankgirot reports for the order (a date
	// change moves it); zero until a report names one.
	Date formats.Date `json:"date,omitzero"`
	// Paid is what the bank has reported paid (or paid back) so far, and
	// Payments the reports that said so.
	Paid     formats.Amount `json:"paid,omitempty"`
	Payments []Received     `json:"payments,omitempty"`
	Reason   string         `json:"reason,omitempty"`
	At       time.Time      `json:"at,omitzero"`
}

// Received is one payment a bank reported for an invoice.
type Received struct {
	// Key names the payment within the bank's report (deposit date and
	// serial number, position), so a second copy of a report adds nothing.
	Key    string         `json:"key"`
	Amount formats.Amount `json:"amount"`
	Date   formats.Date   `json:"date,omitzero"`
	Source string         `json:"source"` // "bank file NAME line N"
}

// UnmarshalJSON reads a collection, the states of records written before
// the payment state included.
func (c *Collection) UnmarshalJSON(b []byte) error {
	type plain Collection
	if err := json.Unmarshal(b, (*plain)(c)); err != nil {
		return err
	}
	switch c.State {
	case "queued":
		c.State = PaymentScheduled
	case "submitted":
		c.State, c.AtBank = PaymentScheduled, true
	case "stopped":
		c.State = PaymentFailed
	case "none":
		c.State = PaymentOpen
	}
	return nil
}

// End reports whether collection needs nothing more from the gateway: it
// is no withdrawal still waiting for the next payment file. (The bank's
// reports may still change it; they come as files of their own.)
func (c *Collection) End() bool { return c == nil || c.State != PaymentScheduled || c.AtBank }

// Payment is the document's payment: its collection, or, for an invoice
// routed to a channel without one, open (the payer pays it); nil for
// what is not payable (a credit note, a rejected or held invoice).
func (d *Doc) Payment() *Collection {
	if d.Collection != nil || d.PaymentState() == "" {
		return d.Collection
	}
	// Kept short: it is in the receipt of every invoice nobody paid yet.
	return &Collection{Method: MethodTransfer, State: PaymentOpen}
}

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

// DeliveryState is where one delivery attempt chain stands.
type DeliveryState string

// Delivery states.
const (
	DeliveryQueued    DeliveryState = "queued"
	DeliveryBatched   DeliveryState = "batched" // part of a batch that is not yet sent
	DeliveryRetrying  DeliveryState = "retrying"
	DeliveryDelivered DeliveryState = "delivered"
	DeliveryFailed    DeliveryState = "failed"
)

// Delivery is one document on one channel. Its ID is also its idempotency
// key: retries reuse it, so receivers recognise a repeat.
type Delivery struct {
	ID      string `json:"id"`
	DocID   string `json:"doc_id"`
	Tenant  string `json:"tenant"`
	Channel string `json:"channel"`
	To      string `json:"to,omitempty"`
	// Collection marks a payment collection (an AutoGiro withdrawal), which
	// goes beside the document's distribution and never falls back.
	Collection bool          `json:"collection,omitempty"`
	State      DeliveryState `json:"state"`
	Batched    bool          `json:"batched,omitempty"`
	BatchID    string        `json:"batch_id,omitempty"`
	Attempts   int           `json:"attempts"`
	NextAt     time.Time     `json:"next_at,omitzero"`
	// ConfirmBy, on a delivered message whose receiver reports back (an
	// SMS), is when a missing confirmation counts as a failure; Confirmed
	// is set by the report.
	ConfirmBy time.Time `json:"confirm_by,omitzero"`
	Confirmed bool      `json:"confirmed,omitempty"`
	LastError string    `json:"last_error,omitempty"`
	Ref       string    `json:"ref,omitempty"`
	Created   time.Time `json:"created"`
	Updated   time.Time `json:"updated"`
}

// AwaitsConfirmation reports whether a delivered message still waits for
// its receiver's confirmation.
func (dl *Delivery) AwaitsConfirmation() bool {
	return dl.State == DeliveryDelivered && !dl.ConfirmBy.IsZero() && !dl.Confirmed
}

// DeliveryID names the first delivery of a document on a channel.
func DeliveryID(docID, channel string) string { return docID + "." + channel }

// DeliveryID names the document's delivery on a channel: its first one,
// or after a resend (Resends > 0) the resend's own, "<doc id>-rN.<channel>",
// so the send has an idempotency key (and a spool file name) of its own
// and a receiver does not take it for a repeat of the first.
func (d *Doc) DeliveryID(channel string) string { return resendDeliveryID(d.ID, d.Resends, channel) }

// DeliveryIDs names every delivery the document has had on a channel, the
// first one first.
func (d *Doc) DeliveryIDs(channel string) []string {
	ids := make([]string, 0, d.Resends+1)
	for n := 0; n <= d.Resends; n++ {
		ids = append(ids, resendDeliveryID(d.ID, n, channel))
	}
	return ids
}

func resendDeliveryID(docID string, n int, channel string) string {
	if n == 0 {
		return DeliveryID(docID, channel)
	}
	return fmt.Sprintf("%s-r%d.%s", docID, n, channel)
}

// Batch is a set of deliveries on a batch channel sent as one file.
type Batch struct {
	ID      string `json:"id"`
	Tenant  string `json:"tenant"`
	Channel string `json:"channel"`
	// Kind is BatchDeliveries (""), or BatchMandates for a file of the
	// biller's AutoGiro mandate orders.
	Kind       string        `json:"kind,omitempty"`
	Deliveries []string      `json:"deliveries"` // delivery ids, or mandate order ids`
	State      DeliveryState `json:"state"`
	Attempts   int           `json:"attempts"`
	NextAt     time.Time     `json:"next_at,omitzero"`
	LastError  string        `json:"last_error,omitempty"`
	Ref        string        `json:"ref,omitempty"`
	Created    time.Time     `json:"created"`
	Updated    time.Time     `json:"updated"`
	// OutputRemoved is when retention removed the batch file from the
	// spool transport's outbox.
	OutputRemoved time.Time `json:"output_removed,omitzero"`
}

// Recipient key types: a payer is known by any of them.
const (
	KeyCustomer = "customer" // the biller's customer number = AutoGiro payer number
	KeyPNR      = "pnr"      // personnummer, 12 digits
	KeyOrgnr    = "orgnr"    // organisationsnummer, 10 digits
	KeyPeppol   = "peppol"   // participant id scheme:value
	KeyEmail    = "email"
	KeyMobile   = "mobile" // E.164
)

// RecipientKey is one way to know a payer.
type RecipientKey struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

func (k RecipientKey) String() string { return k.Type + ":" + k.Value }

// Registration is one registry entry: a recipient reachable (or collectable)
// on a channel, from a source, for a time. Entries are never overwritten:
// a cancellation sets RevokedAt and keeps the entry as history.
type Registration struct {
	ID        string         `json:"id"`
	Tenant    string         `json:"tenant"`
	Keys      []RecipientKey `json:"keys"`
	Channel   string         `json:"channel"` // a channel name, or "autogiro" for a mandate
	Address   string         `json:"address,omitempty"`
	Source    string         `json:"source"` // "file X line 7", "import FILE line 3"
	ValidFrom time.Time      `json:"valid_from"`
	RevokedAt time.Time      `json:"revoked_at,omitzero"`
	RevokedBy string         `json:"revoked_by,omitempty"`
	Created   time.Time      `json:"created"`
}

// Active reports whether the entry applies at t.
func (r *Registration) Active(t time.Time) bool {
	return !r.ValidFrom.After(t) && (r.RevokedAt.IsZero() || r.RevokedAt.After(t))
}

// BatchMandates is the kind of a batch of AutoGiro mandate orders.
const BatchMandates = "mandates"

// MandateState is where a biller's mandate order to Bankgirot stands.
type MandateState string

const (
	MandateQueued   MandateState = "queued"   // waits for the AutoGiro cut-off
	MandateBatched  MandateState = "batched"  // in a file being sent
	MandateRetrying MandateState = "retrying" // the file failed for a while
	MandateSent     MandateState = "sent"     // the file is at Bankgirot
	MandateFailed   MandateState = "failed"   // the file could not be sent
)

// End reports whether the order's part is over.
func (s MandateState) End() bool { return s == MandateSent || s == MandateFailed }

// MandateOrder is one order a biller sends Bankgirot about a mandate: a
// new mandate, the answer to one signed in an internet bank, a
// cancellation or a new payer number (manual 7.2). The registry changes
// only when Bankgirot's mandate advice confirms it.
type MandateOrder struct {
	ID     string `json:"id"`
	Tenant string `json:"tenant"`
	// Action is new, approve, reject, cancel or change.
	Action     string       `json:"action"`
	Payer      string       `json:"payer"`
	Account    string       `json:"account,omitempty"`
	PersonalID string       `json:"personal_id,omitempty"`
	NewPayer   string       `json:"new_payer,omitempty"`
	Source     string       `json:"source"` // "api", "file X line 3"
	State      MandateState `json:"state"`
	Batch      string       `json:"batch,omitempty"`
	FileName   string       `json:"file_name,omitempty"` // the dataset name it was sent in
	Reason     string       `json:"reason,omitempty"`
	Created    time.Time    `json:"created"`
	Updated    time.Time    `json:"updated"`
}
