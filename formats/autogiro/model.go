package autogiro

import (
	"fmt"
	"time"

	"github.com/multikanal/multikanal/formats"
)

// Date is a calendar date as a file writes it (YYYYMMDD). Reports may carry
// a date that is no calendar day: Bankgirot echoes the date an order gave,
// such as 20080631, with a comment code saying it is wrong, so Parse checks
// only the ranges of month (1–12) and day (1–31), and in a rejected payment
// with comment 12 not even those (Bankgirot's example has 20080633). The
// writers accept calendar days only (Valid). The zero Date is a blank or
// zero-filled field.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf returns the date of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// IsZero reports whether the date is blank.
func (d Date) IsZero() bool { return d == Date{} }

// Valid reports whether the date is a real calendar day.
func (d Date) Valid() bool {
	return !d.IsZero() && d.Year > 0 && DateOf(d.Time()) == d
}

// Time returns midnight UTC of the date (normalised if it is no calendar day).
func (d Date) Time() time.Time { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC) }

// String formats the date as YYYY-MM-DD, or "" for the zero Date.
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

// digits formats the date as the files do, YYYYMMDD.
func (d Date) digits() string { return fmt.Sprintf("%04d%02d%02d", d.Year, int(d.Month), d.Day) }

// FileKind is what a file is, recognised from its opening record.
type FileKind int

// The file kinds. The first eight come from Bankgirot (manual chapter 8 and
// 10); the last four are the biller's orders to Bankgirot (chapter 7).
const (
	KindUnknown              FileKind = iota
	KindPaymentSpecification          // BET. SPEC & STOPP TK: payments made and stopped (TK15, TK82, TK16, TK32, TK17, TK77)
	KindMandateAdvice                 // AG-MEDAVI: new, changed and cancelled mandates (TK73)
	KindRejectedPayments              // AVVISADE BET UPPDR: payment orders Bankgirot rejected (TK82, TK32)
	KindAmendments                    // MAKULERING/ÄNDRING: cancellations and date changes (TK03, TK11, TK21–TK29)
	KindInternetMandates              // AG-EMEDGIV: new mandates signed in an internet bank (TK51–TK56, TK59)
	KindPaymentRegister               // BEVAKNINGSREG: extract of the payments awaiting their date (TK82, TK32)
	KindMandateRegister               // extract of the mandate register (register records, no TK)
	KindBgMax                         // Bg Max: payments made, in Bankgiro Inbetalningar's format
	KindPaymentOrders                 // betalningsunderlag: the biller's payments (TK82, TK32)
	KindMandateOrders                 // medgivandeunderlag: the biller's mandate requests (TK03, TK04, TK05)
	KindAmendmentOrders               // makulerings-/ändringsunderlag: the biller's cancellations and changes (TK23–TK29)
	KindMixedOrders                   // a biller's file whose sections are of more than one of the three order kinds
)

var kindNames = [...]struct{ id, sv string }{
	KindUnknown:              {"unknown", "okänd"},
	KindPaymentSpecification: {"payment-specification", "Betalningsspecifikation"},
	KindMandateAdvice:        {"mandate-advice", "Medgivandeavisering"},
	KindRejectedPayments:     {"rejected-payments", "Avvisade betalningar"},
	KindAmendments:           {"amendments", "Makuleringar/ändringar av betalningar"},
	KindInternetMandates:     {"internet-mandates", "Nya Medgivanden via Internetbanken"},
	KindPaymentRegister:      {"payment-register", "Utdrag ur bevakningsregistret"},
	KindMandateRegister:      {"mandate-register", "Utdrag ur Medgivanderegistret"},
	KindBgMax:                {"bgmax", "Utförda betalningar i Bg Max format"},
	KindPaymentOrders:        {"payment-orders", "Betalningsunderlag"},
	KindMandateOrders:        {"mandate-orders", "Medgivandeunderlag"},
	KindAmendmentOrders:      {"amendment-orders", "Makulerings- och datumändringsunderlag"},
	KindMixedOrders:          {"orders", "Underlag (flera slag)"},
}

// String returns a stable short name such as "mandate-advice".
func (k FileKind) String() string {
	if k < 0 || int(k) >= len(kindNames) {
		return kindNames[KindUnknown].id
	}
	return kindNames[k].id
}

// Swedish returns the manual's name for the file, such as "Medgivandeavisering".
func (k FileKind) Swedish() string {
	if k < 0 || int(k) >= len(kindNames) {
		return kindNames[KindUnknown].sv
	}
	return kindNames[k].sv
}

// FromBankgirot reports whether Bankgirot sends files of this kind.
func (k FileKind) FromBankgirot() bool { return k >= KindPaymentSpecification && k <= KindBgMax }

// File is one parsed AutoGiro file. Its sections are kept in file order;
// Records holds every section's records in file order, and each Section's
// Records is the part of it that section holds. WriteDate, CustomerNumber
// and PayeeBankgiro are the first section's.
type File struct {
	Kind           FileKind
	WriteDate      time.Time // when the file was written; midnight UTC when only a date is given
	CustomerNumber string    // kundnummer at Bankgirot, 6 digits as written; "" when the file has none
	PayeeBankgiro  string    // without leading zeros, such as "9912346"
	Test           bool      // Bg Max only: the file is marked as a test file
	Sections       []Section
	Records        []Record
}

// Section is one part of a file opened by its own opening record: for
// reports one payee bankgiro, for orders one kind of order.
type Section struct {
	LineNo         int // the opening record's line; for the mandate register, the first record's
	Kind           FileKind
	WriteDate      time.Time
	CustomerNumber string
	PayeeBankgiro  string
	Records        []Record
}

// Record is one record of a file (or, for records the manual makes
// continuations of another, the group: a new internet mandate with its
// name and address records, a Bg Max payment with its name records).
type Record interface {
	Position() Pos
}

// Pos says where a record is: its physical line and transaction code.
type Pos struct {
	LineNo int
	TK     string // "82", "73", ...; "" for mandate register records
}

// Position returns p.
func (p Pos) Position() Pos { return p }

// PaymentType is the transaction code of a payment: a withdrawal from the
// payer's account (TK82, inbetalning for the biller) or a deposit to it
// (TK32, utbetalning, how a credit note is refunded).
type PaymentType string

// The two payment types.
const (
	Withdrawal PaymentType = "82"
	Deposit    PaymentType = "32"
)

// Payment is one payment: an order in a payment file, a payment made or
// stopped in a payment specification, a rejected order, or an order awaiting
// its date in the payment register. Fields a context does not have are zero.
type Payment struct {
	Pos
	Type        PaymentType
	Date        Date   // payment date; zero when Immediately
	Immediately bool   // GENAST: the next possible bank day (orders only)
	Period      Period // how often; PeriodOnce for a single payment
	Repeats     int    // number of self-renewing payments; 0 = not given (blank or 000)
	PayerNumber string // betalarnummer, without leading zeros
	Amount      formats.Amount
	// PayeeBankgiro is the bankgiro the payment belongs to, without leading
	// zeros; in a payment file it may be left "" for the file's bankgiro.
	PayeeBankgiro string
	Reference     string        // the biller's own reference, up to 16 characters
	Status        PaymentStatus // payment specification only
	Rejection     RejectionCode // rejected payments only
}

// MandateRequestType is the transaction code of a mandate order.
type MandateRequestType string

// The mandate orders of manual 7.2.
const (
	MandateCancel            MandateRequestType = "03" // cancel a mandate
	MandateNew               MandateRequestType = "04" // register a mandate, or answer one signed in an internet bank
	MandateChangePayerNumber MandateRequestType = "05" // give a mandate with a bank account a new payer number
)

// MandateRequest is one record of a mandate file (medgivandeunderlag).
type MandateRequest struct {
	Pos
	Type          MandateRequestType
	PayeeBankgiro string // "" for the file's bankgiro
	PayerNumber   string
	// Account is clearing number and account number, 16 digits with the
	// clearing number in the first 4 (right-aligned, zero-filled), for a new
	// mandate on a bank account; "" for a mandate on the payer's bankgiro.
	Account    string
	PersonalID string // personnummer YYYYMMDDNNNN or 00 + organisationsnummer; new mandates on an account only
	// Reject answers a mandate signed in an internet bank with "AV": no.
	// A TK04 without it approves one (or registers a new mandate).
	Reject         bool
	NewPayerNumber string // MandateChangePayerNumber only
}

// MandateAdvice is a TK73 record of a mandate advice: what happened to a
// mandate. See Effect for what it means for the biller's register.
type MandateAdvice struct {
	Pos
	PayeeBankgiro string
	PayerNumber   string
	Account       string // 16 digits, clearing number first; "" when not given or all zeros
	PersonalID    string // 12 digits; 99 + organisationsnummer when the payer number is the payer's bankgiro
	Info          InfoCode
	Comment       CommentCode
	Date          Date // the day the action was taken
}

// Amendment is a cancellation or date change: an order in a cancellation
// and change file (TK23–TK29), or Bankgirot's report of one (TK03, TK11,
// TK21–TK29). TK is the kind of amendment; see Meaning.
type Amendment struct {
	Pos
	PayeeBankgiro string // orders only
	PayerNumber   string // "" for amendments of every payer
	Date          Date   // the payment date the amendment is about; zero when it is about every date
	Amount        formats.Amount
	PaymentType   PaymentType // "" when not about one payment
	NewDate       Date        // changes only
	Reference     string
	// Count is, in Bankgirot's report, the number of payments a bankgiro-wide
	// amendment (TK21, TK22, TK26, TK27) covered. The manual does not list
	// the field; Bankgirot's example file carries it in positions 41–48.
	Count   int
	Comment AmendmentComment // reports only
}

// Settlement is a deposit to or a withdrawal from the biller's bank account
// that sums the payments after it: TK15 (deposit of withdrawals from
// payers), TK16 (withdrawal for deposits to payers), TK17 (withdrawal for one
// refund) in a payment specification, and TK15 in Bg Max, where it closes
// its section instead.
type Settlement struct {
	Pos
	Account  string // the biller's bank account, without leading zeros
	Date     Date
	Serial   int // löpnummer, unique per bankgiro and year
	Amount   formats.Amount
	Count    int    // number of payments summed
	Currency string // Bg Max only
}

// Refund is a TK77 record: a payment the payer's bank took back.
type Refund struct {
	Pos
	Date          Date // original payment date
	Period        Period
	Repeats       int
	PayerNumber   string
	Amount        formats.Amount
	PayeeBankgiro string
	Reference     string
	RefundDate    Date
	Reason        RefundCode
}

// InternetMandate is a mandate a payer signed in an internet bank (TK52 with
// its TK53–TK56 records), which the biller approves or rejects with a TK04.
type InternetMandate struct {
	Pos
	PayeeBankgiro string
	PayerNumber   string // as the payer typed it: check it before approving
	Account       string
	PersonalID    string
	// Notice is 0 for a new mandate, 1 and 2 for the first and second reminder.
	Notice     int
	Info       string    // TK53: the payer's free text
	Address    [4]string // TK54–TK55: name and address lines
	PostalCode string    // TK56: 5 digits; "" for a foreign address
	City       string    // TK56: city, or the country for a foreign address
}

// RegisteredMandate is a record of an extract of the mandate register.
type RegisteredMandate struct {
	Pos
	PayeeBankgiro string
	PersonalID    string
	PayerNumber   string
	ViaInternet   bool // signed by the payer in an internet bank (type 2), not registered by the biller (type 1)
	ActivityYear  int  // two digits: the year of the latest activity
	Created       Date
	Changed       Date
	Pending       bool   // status 2: the payer's bank has not answered yet; false: approved for AutoGiro
	Account       string // "" for a mandate on the payer's bankgiro
}

// BgMaxPayment is a Bg Max payment (TK20) with the payer's name, address
// and organisation number records (TK26–TK29) when Bankgirot sends them.
type BgMaxPayment struct {
	Pos
	PayerBankgiro string
	Reference     string // the reference the biller gave the payment order
	Amount        formats.Amount
	ReferenceCode string
	Channel       string
	Name          string
	ExtraName     string
	Address       string
	PostalCode    string
	City          string
	Country       string
	CountryCode   string
	OrgNumber     string
}
