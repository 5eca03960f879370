package store

import (
	"time"

	json "github.com/goccy/go-json"

	"github.com/multikanal/multikanal/formats"
)

// CollectionTx is the aggregate of payment collection: the references a
// bank's reports name an invoice by, the counts per payment state, and the
// biller's AutoGiro mandate orders.
type CollectionTx interface {
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

	// PutMandateOrder adds (giving it an id) or updates a mandate order.
	PutMandateOrder(o *MandateOrder) error
	MandateOrder(tenant, id string) (*MandateOrder, error)
	// ForEachMandateOrder calls fn for the tenant's orders (every tenant's
	// when tenant is ""), oldest first.
	ForEachMandateOrder(tenant string, fn func(*MandateOrder) error) error
}

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

// PaymentState is the state Payment reports, without building it.
func (d *Doc) PaymentState() PaymentState {
	switch {
	case d.Collection != nil:
		return d.Collection.State
	case d.Kind != formats.KindInvoice || d.Amount <= 0:
		return ""
	}
	switch d.State {
	case DocReceived, DocParsed, DocRejected, DocHeld:
		return ""
	}
	return PaymentOpen
}

// Dropped reports whether a direct debit will not collect the invoice
// after all: the withdrawal failed (no cover, stopped, its file refused) or
// was cancelled. The invoice is then unpaid like any other, and the
// dunning schedule reminds the customer to pay it by transfer.
func (c *Collection) Dropped() bool {
	return formats.PayMethod(c.Method).DirectDebit() && (c.State == PaymentFailed || c.State == PaymentCancelled)
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
