package outbound

import (
	"io"
	"time"

	"github.com/multikanal/multikanal/formats"
)

// A collection channel (Descriptor.Role Collection) collects payment
// beside distribution: it never carries the invoice, it withdraws the
// amount under the payer's mandate in a batch file of its own (AutoGiro's
// payment file, AvtaleGiro's claim file). Its descriptor's Address is the
// registry key type its mandates are registered under ("customer" for
// AutoGiro's payer numbers, "kid" for AvtaleGiro's KIDs), and its
// Agreement the tenant's table that says the tenant collects by it. What
// the gateway asks of it is found by interface: Collector (routing) and
// BankFiles (the files its clearing house sends back). The gateway's own
// code names no collection channel.

// Collector is what routing asks a collection channel about each invoice:
// whether the invoice names a mandate of the channel, whether its order
// can be written, and how every channel tells the customer that the
// amount is withdrawn.
type Collector interface {
	BatchRenderer
	// Terms are what the channel collects and its words in the biller's
	// messages.
	Terms() CollectionTerms
	// Payer is the payer key the document names for a mandate of this
	// channel, "" when it names none: AutoGiro's payer number (BT-89),
	// AvtaleGiro's KID (BT-89, or the payment reference BT-83).
	Payer(doc *formats.Document) string
	// Refunds reports whether the tenant's agreement pays credit notes
	// back to payers with a mandate (AutoGiro's deposits). A credit note
	// is not collected otherwise.
	Refunds(tenant string) bool
	// CheckOrder checks the order a document would become, under payer,
	// in the tenant's next file made now. Routing calls it before the
	// order joins a batch: an order that fails is not collected, alone,
	// with this error as its reason, where in a batch it would fail the
	// file and every order beside it.
	CheckOrder(doc *formats.Document, payer, tenant string, now time.Time) error
	// Words are how every channel tells the customer that the amount is
	// withdrawn, in the collection's own words and language.
	Words(doc *formats.Document, now time.Time) formats.DebitWords
	// Reference is what the document's order carries to the payer's
	// statement and back in the clearing house's reports, which name the
	// order by it.
	Reference(doc *formats.Document) string
}

// CollectionTerms are a collection channel's fixed facts and words.
type CollectionTerms struct {
	// Title is the method in the biller's messages: "AutoGiro".
	Title string
	// Currency is the only currency it withdraws (ISO 4217): "SEK". An
	// invoice in another currency is never collected by it.
	Currency string
	// Payer is what a payer key is called: "payer number", "KID".
	Payer string
	// File is what its batch file is called: "payment file", "claim
	// file".
	File string
}

// BankFiles is a collection channel whose clearing house sends files back
// through the tenant's inbox: mandates given and ended, payments made,
// stopped or moved, and what payers paid themselves. The channel reads
// its own files into a BankFile; the gateway applies every channel's by
// one path, to the registry and to the invoices' payment states.
type BankFiles interface {
	// SniffBankFile reports whether the first bytes of a file are one of
	// the clearing house's files.
	SniffBankFile(head []byte) bool
	// ReadBankFile reads one for the biller. A file that is wrong, or that
	// is not the biller's (another payee account), is an error naming the
	// line and the rule, and nothing of it is applied.
	ReadBankFile(r io.Reader, b Biller) (*BankFile, error)
}

// BankFile is what a clearing house's file says, in the terms the gateway
// applies.
type BankFile struct {
	// What names the file in its receipt: "Bankgirot Medgivandeavisering".
	What string
	// Mandates are the mandates the file reports, in its order.
	Mandates []Mandate
	// Complete says Mandates are all of the payee's active mandates (Nets'
	// full list): an active mandate of the channel not among them has
	// ended.
	Complete bool
	// Payments are what the file reports about payments, in its order.
	Payments []PaymentReport
	// Tallies are the order in which the receipt counts what the file
	// changed (the Tally of its mandates and payments, and the Tally
	// constants the gateway counts itself); a tally not listed follows in
	// the order first seen.
	Tallies []string
}

// MandateState is what a file says of a mandate.
type MandateState int

// Mandate states.
const (
	// MandateActive: the mandate is in force from From; it replaces the
	// payer's earlier one, and answers a request or an enquiry.
	MandateActive MandateState = iota
	// MandateRequested: the payer asked for it (in an internet bank); it
	// waits for the biller's answer.
	MandateRequested
	// MandateEnquiry: the payer's bank is asked; the clearing house will
	// say how it went.
	MandateEnquiry
	// MandateEnded: the mandate ended (cancelled by the payer or the
	// bank, or replaced by a new payer key) on From; its orders that still
	// wait for the next file are dropped.
	MandateEnded
)

// Mandate is one mandate a file reports.
type Mandate struct {
	Line int
	// Payer is the payer key, as the file writes it.
	Payer string
	// PersonalID is the payer's personnummer when the file names it.
	PersonalID string
	State      MandateState
	// From is when the state took effect; zero means when the file is
	// applied.
	From time.Time
	// Reason says why a mandate ended, in the file's words; Note, when
	// set, is kept with an active mandate's source ("the payer declined
	// notices").
	Reason, Note string
	Tally        string
}

// PaymentReport is one thing a file says about a payment.
//
// It names the order it is about by Payer and Reference (one order, as
// routing indexed it), or, with Match, selects among the channel's orders
// at the clearing house (of the payer, or of every payer when Payer is
// ""; of the reference, or any when it is ""). A payment a payer made
// himself (Outcome PaymentPaidIn: Bg Max, OCR giro) names no payer and is
// found by the reference it was paid with.
type PaymentReport struct {
	Line             int
	Payer, Reference string
	Match            *Match
	Outcome          PaymentOutcome
	// Date is the payment date the clearing house gives the order (the
	// new date of PaymentMoved); zero leaves the order's.
	Date formats.Date
	// Money is the money that moved, for the invoice's record of what
	// was paid; nil when none did.
	Money *Money
	// Reason says what happened, in words for the invoice's history; the
	// gateway adds the file and line. For PaymentPaidIn it follows the
	// amounts paid and due: " from bankgiro 378-3511 on 2026-03-02 (Bg
	// Max, deposit 1)".
	Reason string
	Tally  string
}

// Match selects, among the channel's orders at the clearing house (sent in
// a delivered file and not settled since), the ones a report covers.
type Match struct {
	// Kind limits it to withdrawals (formats.KindInvoice) or deposits
	// (formats.KindCreditNote); "" takes both.
	Kind formats.Kind
	// Amount limits it to orders of this amount; 0 takes any.
	Amount formats.Amount
	// Date limits it to orders falling on this date: the date last
	// reported for the order, else its due date, else (sent at once) the
	// first day after its file; zero takes any.
	Date formats.Date
	// First takes only the first order matched (one payment reported for
	// a payer who may have several orders).
	First bool
}

// Money is an amount a clearing house reports moved.
type Money struct {
	// Key names the payment within the clearing house's reports, so that
	// a second copy of a file adds nothing.
	Key string
	// Amount is positive when paid to the biller, negative when paid
	// back.
	Amount formats.Amount
	Date   formats.Date
}

// PaymentOutcome is what happened to a payment.
type PaymentOutcome int

// Payment outcomes.
const (
	// PaymentWithdrawn: the order was withdrawn (collected).
	PaymentWithdrawn PaymentOutcome = iota
	// PaymentPaidBack: money went back to the payer: a deposit made, or a
	// withdrawal the payer's bank took back (refunded).
	PaymentPaidBack
	// PaymentRetrying: not withdrawn yet; the clearing house tries again.
	PaymentRetrying
	// PaymentStopped: not made (failed).
	PaymentStopped
	// PaymentRejected: the clearing house refused the order (failed).
	PaymentRejected
	// PaymentAtBank: at the clearing house, awaiting its date (a register
	// extract); applied only to an order still scheduled or failed, since
	// a later report may have settled it.
	PaymentAtBank
	// PaymentCancelled: cancelled at the clearing house before it was
	// made.
	PaymentCancelled
	// PaymentMoved: moved to Date.
	PaymentMoved
	// PaymentPaidIn: the payer paid (found by Reference): the invoice is
	// paid or partly paid, or its withdrawal, still scheduled, collected.
	PaymentPaidIn
	// PaymentNotDone: the clearing house reports it did not carry out
	// what was asked; nothing changes, it is only counted.
	PaymentNotDone
)

// Tallies the gateway counts itself when it applies a bank file, for
// BankFile.Tallies.
const (
	TallyNotListed  = "mandates ended: not on the full list"
	TallyDropped    = "queued withdrawals dropped"
	TallyCollected  = "withdrawals collected"
	TallyPaid       = "invoices paid"
	TallyPartlyPaid = "invoices partly paid"
	TallyUnmatched  = "payments not matching any invoice sent through this gateway"
)

// Agreements beyond their own table: a descriptor's Agreement value may
// implement these, and the configuration and the daemon call them.

// AgreementSetup is what the configuration hands an agreement before it
// checks it (AgreementPreparer).
type AgreementSetup struct {
	// Bankgiro is the tenant's own bankgiro as written, for a default.
	Bankgiro string
	// Path makes a file name absolute as the configuration's other files
	// are: relative to the configuration file, or a systemd credential.
	Path func(string) string
	// Embedded is set for the embedded default, whose files the daemon
	// makes on its first start (AgreementFiles): they need not exist yet.
	Embedded bool
}

// AgreementPreparer is an agreement that takes defaults from the tenant
// and resolves the files it names before its Check is called.
type AgreementPreparer interface {
	Prepare(AgreementSetup)
}

// AgreementFiles is an agreement whose files the daemon writes on the
// embedded default's first start, where no user could have made them
// (AutoGiro's seal key: Bankgirot's published test key), by path.
type AgreementFiles interface {
	EmbeddedFiles() map[string][]byte
}

// PayeeBankgiros is an agreement under which the tenant is paid to
// bankgiros beyond its own (AutoGiro's payee bankgiro): its invoices may
// name them (MK-ACCOUNT).
type PayeeBankgiros interface {
	PayeeBankgiros() []string
}
