package avtalegiro

import "github.com/multikanal/multikanal/formats"

// NetsID is Nets' own customer unit id: the data recipient (datamottaker)
// of every file a payee sends, and the data sender of every file Nets
// sends.
const NetsID = "00008080"

// Service is the service code of a record (positions 3-4).
type Service string

// The service codes.
const (
	ServiceNone       Service = "00" // the transmission's start and end records
	ServiceOCRGiro    Service = "09" // OCR giro accounting data (konteringsdata)
	ServiceAvtaleGiro Service = "21"
)

// AssignmentType is what an assignment (oppdrag) holds (positions 5-6 of
// its start and end records).
type AssignmentType string

// The assignment types.
const (
	// Claims: AvtaleGiro payment claims (betalingskrav), or under OCR
	// giro the payments of the accounting data.
	Claims AssignmentType = "00"
	// Mandates: Nets' list of the payee's customers' mandates (oversikt
	// egne kunders faste betalingsoppdrag).
	Mandates AssignmentType = "24"
	// Cancellations: requests to delete claims sent earlier
	// (sletteanmodninger).
	Cancellations AssignmentType = "36"
)

// Record types (positions 7-8).
const (
	recTransmissionStart = "10"
	recAssignmentStart   = "20"
	recAmount1           = "30"
	recAmount2           = "31"
	recAmount3           = "32"
	recSpecification     = "49"
	recMandate           = "70"
	recAssignmentEnd     = "88"
	recTransmissionEnd   = "89"
)

// Transaction types (positions 5-6 of a transaction record).
const (
	txPayeeNotice  = "02" // a claim the payee notifies the payer of itself
	txNetsNotice   = "21" // a claim Nets notifies the payer of, with specification lines
	txCancellation = "93" // a cancellation request
	txMandate      = "94" // a mandate notification
	// OCRAvtaleGiro is the OCR giro transaction type of a payment made by
	// AvtaleGiro (the others, 10-21, are giro payments of other kinds).
	OCRAvtaleGiro = "15"
)

// Notice says who tells the payer about a claim before it is withdrawn.
type Notice int

const (
	// NoticeByNets: Nets sends the payer the notice (varsel), with the
	// claim's specification lines; transaction type 21.
	NoticeByNets Notice = iota
	// NoticeByPayee: the payee sends the notice itself (with its invoice,
	// say) and Nets sends none; transaction type 02.
	NoticeByPayee
)

func (n Notice) String() string {
	if n == NoticeByPayee {
		return "payee"
	}
	return "nets"
}

// Transmission is one file (forsendelse): a start record, assignments, an
// end record.
type Transmission struct {
	// Sender is the data sender (dataavsender): the payee's customer unit
	// id at Nets (kundeenhet-ID, 8 digits) in files to Nets, NetsID in
	// files from Nets.
	Sender string
	// Number is the transmission number (forsendelsesnummer), 7 digits,
	// which the sender gives each transmission so that Nets (or the payee)
	// can recognise it.
	Number string
	// Recipient is the data recipient (datamottaker): NetsID in files to
	// Nets, the payee's customer unit id in files from Nets. The writer
	// fills NetsID when it is empty.
	Recipient string
	// Date is the end record's date: what Parse read (Nets' production or
	// settlement date, or a claim file's first due date). The writer
	// writes the earliest due date of the claims, or this date when the
	// file has none.
	Date        formats.Date
	Assignments []Assignment
}

// Assignment is one assignment (oppdrag) for one payee account.
type Assignment struct {
	Service Service // ServiceAvtaleGiro, or ServiceOCRGiro for accounting data
	Type    AssignmentType
	// AgreementID is the agreement id (avtale-ID, 9 digits) a claim
	// assignment or OCR accounting data carries; "" writes zeros.
	AgreementID string
	// Number is the assignment number (oppdragsnummer), 7 digits, unique
	// for the payee.
	Number string
	// Account is the assignment account (oppdragskonto): the payee's
	// Norwegian bank account, 11 digits, that AvtaleGiro credits.
	Account string

	Claims   []Claim   // Type Claims or Cancellations under AvtaleGiro
	Mandates []Mandate // Type Mandates
	Payments []Payment // Type Claims under OCR giro

	// Dates of the end record as Parse read them: the first and last due
	// date of claims, or under OCR giro the settlement date and the first
	// and last date of the payments. The writer computes its own.
	FirstDate, LastDate, SettlementDate formats.Date
}

// Claim is one payment claim (betalingskrav) or, in a cancellation
// assignment, the claim to delete as it was sent (slettepost).
type Claim struct {
	// Number is the transaction number, from 1 and rising within the
	// assignment; the writer numbers claims in order when it is 0.
	Number int
	// Notice says who notifies the payer; a cancellation has none.
	Notice Notice
	Due    formats.Date   // forfallsdato: when the amount is withdrawn
	Amount formats.Amount // in øre, more than 0
	// KID is the payer's customer identification, the one the mandate is
	// registered under: up to 25 characters, digits with a check digit
	// (a hyphen for modulus 11 remainder 10).
	KID string
	// ShortName is the payer's abbreviated name (forkortet navn), at most
	// 10 characters, shown on Nets' lists.
	ShortName string
	// Reference is the external reference (fremmedreferanse), at most 25
	// characters: the payee's own reference for the claim, the invoice
	// number here.
	Reference string
	// Specification is the text of Nets' notice to the payer: at most 42
	// lines of at most 80 characters (written as two 40-character columns
	// per line). Only a claim Nets notifies of carries it.
	Specification []string
}

// Registration says what a mandate record reports (registreringstype).
type Registration int

// The registration types.
const (
	// RegisteredAll: the record is one of the full list of the payee's
	// active mandates.
	RegisteredAll Registration = 0
	// RegisteredNew: a new mandate, or a changed one (such as the payer's
	// choice of notice).
	RegisteredNew Registration = 1
	// RegisteredDeleted: the payer (or the bank) ended the mandate.
	RegisteredDeleted Registration = 2
)

func (r Registration) String() string {
	switch r {
	case RegisteredAll:
		return "active"
	case RegisteredNew:
		return "new or changed"
	case RegisteredDeleted:
		return "deleted"
	}
	return "unknown"
}

// Mandate is one of Nets' mandate notifications (fast betalingsoppdrag).
type Mandate struct {
	// Line is the line of its record in the file Parse read; the writer
	// does not use it.
	Line         int
	Number       int
	Registration Registration
	KID          string
	// Notice is true when the payer wants a written notice of every claim
	// (skriftlig varsel "J"); false when the payer declined it ("N").
	Notice bool
}

// Payment is one payment of OCR giro accounting data: amount items 1 and 2
// (and 3 for the transaction types that carry a text).
type Payment struct {
	// Line is the line of its first record in the file Parse read; the
	// writer does not use it.
	Line   int
	Number int
	// Type is the transaction type: OCRAvtaleGiro ("15") for an AvtaleGiro
	// withdrawal; "10"-"21" for the other kinds of giro payment.
	Type    string
	Settled formats.Date   // oppgjørsdato: the settlement date
	Amount  formats.Amount // in øre; negative for a reversal (sign "-")
	KID     string
	// ArchiveRef is the bank's archive reference (arkivreferanse).
	ArchiveRef string
	// DebitAccount is the payer's account the amount came from; empty
	// when not given.
	DebitAccount string
	// BankDate is the date the payer's bank booked the payment, when given.
	BankDate formats.Date
	// Text is the free text of amount item 3 (types 20 and 21).
	Text string
}
