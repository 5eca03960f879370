package autogiro

// Meaning is what a code means, in the manual's Swedish and in English.
type Meaning struct {
	Sv, En string
}

var unknownMeaning = Meaning{"okänd kod", "unknown code"}

func lookup[K ~string](m map[K]Meaning, k K) Meaning {
	if v, ok := m[k]; ok {
		return v
	}
	return unknownMeaning
}

// Period is how often a payment is made (periodkod, manual 7.3 and 8.2.3),
// written as the manual's digit. Periods 1–4 fall on the given calendar day,
// 5–8 on the last day of the month.
type Period string

// The periods of the manual. A report may leave the period blank
// (PeriodUnspecified): the order then runs until it is cancelled.
const (
	PeriodUnspecified      Period = ""
	PeriodOnce             Period = "0"
	PeriodMonthly          Period = "1"
	PeriodQuarterly        Period = "2"
	PeriodHalfYearly       Period = "3"
	PeriodYearly           Period = "4"
	PeriodMonthlyLastDay   Period = "5"
	PeriodQuarterlyLastDay Period = "6"
	PeriodHalfYearlyLast   Period = "7"
	PeriodYearlyLastDay    Period = "8"
)

var periodMeanings = map[Period]Meaning{
	PeriodUnspecified:      {"tills vidare (blank periodkod)", "until cancelled (blank period code)"},
	PeriodOnce:             {"en gång", "once"},
	PeriodMonthly:          {"en gång per månad, angiven dag", "monthly, on the given day"},
	PeriodQuarterly:        {"en gång per kvartal, angiven dag", "quarterly, on the given day"},
	PeriodHalfYearly:       {"en gång per halvår, angiven dag", "half-yearly, on the given day"},
	PeriodYearly:           {"en gång per år, angiven dag", "yearly, on the given day"},
	PeriodMonthlyLastDay:   {"en gång per månad, sista dagen", "monthly, on the last day of the month"},
	PeriodQuarterlyLastDay: {"en gång per kvartal, sista dagen", "quarterly, on the last day of the month"},
	PeriodHalfYearlyLast:   {"en gång per halvår, sista dagen", "half-yearly, on the last day of the month"},
	PeriodYearlyLastDay:    {"en gång per år, sista dagen", "yearly, on the last day of the month"},
}

// Meaning returns what the period means.
func (p Period) Meaning() Meaning { return lookup(periodMeanings, p) }

// PaymentStatus is the payment status code (betalningsstatuskod, manual
// 8.2.3) of a payment in a payment specification. Only StatusApproved
// payments were made and count in the deposit and closing records.
type PaymentStatus string

// The payment statuses of the manual. StatusNone is the zero value: the
// record carries no status (it is not from a payment specification).
const (
	StatusNone              PaymentStatus = ""
	StatusApproved          PaymentStatus = "0"
	StatusInsufficientFunds PaymentStatus = "1"
	StatusNoAutogiro        PaymentStatus = "2"
	StatusRenewedFundsCheck PaymentStatus = "9"
)

var statusMeanings = map[PaymentStatus]Meaning{
	StatusApproved:          {"Godkänd betalning, betalningen är genomförd.", "Approved, the payment was made."},
	StatusInsufficientFunds: {"Täckning saknas, betalningen har inte genomförts.", "Insufficient funds, the payment was not made."},
	StatusNoAutogiro:        {"Koppling till Autogiro saknas (bankkontot avslutat), annan orsak. Betalningen har inte genomförts.", "No AutoGiro connection (bank account closed) or another reason; the payment was not made."},
	StatusRenewedFundsCheck: {"Förnyad täckning, betalningen har inte genomförts men nytt försök ska göras om avtal finns.", "Renewed funds check: not made yet, another attempt follows if agreed."},
}

// Meaning returns what the status means.
func (s PaymentStatus) Meaning() Meaning { return lookup(statusMeanings, s) }

// RejectionCode is the comment code (kommentarskod, manual 8.4.3) that says
// why Bankgirot rejected a payment order.
type RejectionCode string

// The rejection codes the manual lists as current.
const (
	RejectNoMandate          RejectionCode = "01"
	RejectAccountClosed      RejectionCode = "02"
	RejectBadPeriod          RejectionCode = "06"
	RejectBadRepeats         RejectionCode = "07"
	RejectAmountNotNumeric   RejectionCode = "08"
	RejectNoPayouts          RejectionCode = "09"
	RejectUnknownBankgiro    RejectionCode = "10"
	RejectBadDate            RejectionCode = "12"
	RejectPastDate           RejectionCode = "13"
	RejectBankgiroMismatch   RejectionCode = "15"
	RejectAboveMaximumAmount RejectionCode = "24"
)

var rejectionMeanings = map[RejectionCode]Meaning{
	RejectNoMandate:          {"Utgår, Medgivande saknas.", "Dropped, no mandate."},
	RejectAccountClosed:      {"Utgår, kontot är inte godkänt eller är avslutat.", "Dropped, the account is not approved or is closed."},
	"03":                     {"Utgår, Medgivandet stoppat / betalarbankgironummer avregistrerat (utgått).", "Dropped, mandate stopped / payer bankgiro deregistered (obsolete code)."},
	"04":                     {"Felaktigt betalarbankgironummer (utgått).", "Wrong payer bankgiro (obsolete code)."},
	"05":                     {"Felaktigt mottagarbankgironummer (utgått).", "Wrong payee bankgiro (obsolete code)."},
	RejectBadPeriod:          {"Felaktig periodkod.", "Wrong period code."},
	RejectBadRepeats:         {"Felaktigt antal för Självförnyande uppdrag.", "Wrong number of self-renewing payments."},
	RejectAmountNotNumeric:   {"Belopp inte numeriskt.", "Amount not numeric."},
	RejectNoPayouts:          {"Förbud mot utbetalningar.", "Payouts are not allowed."},
	RejectUnknownBankgiro:    {"Bankgironumret saknas hos Bankgirot.", "The bankgiro number is unknown to Bankgirot."},
	RejectBadDate:            {"Felaktigt betalningsdatum.", "Wrong payment date."},
	RejectPastDate:           {"Passerat betalningsdatum.", "Payment date has passed."},
	RejectBankgiroMismatch:   {"Mottagarbankgironumret i öppningsposten och i transaktionsposten är inte detsamma.", "The payee bankgiro differs between the opening record and the payment."},
	RejectAboveMaximumAmount: {"Beloppet överstiger maxbeloppet.", "The amount exceeds the maximum amount."},
}

// Meaning returns what the rejection code means.
func (c RejectionCode) Meaning() Meaning { return lookup(rejectionMeanings, c) }

// RefundCode is the reason for a refund (återbetalningskod, manual 8.2.3).
type RefundCode string

// The refund reasons of the manual.
const (
	RefundNoMandate        RefundCode = "01"
	RefundMandateRevoked   RefundCode = "02"
	RefundUnexpectedAmount RefundCode = "03"
)

var refundMeanings = map[RefundCode]Meaning{
	RefundNoMandate:        {"Medgivande har inte lämnats till betalningsmottagaren.", "No mandate was given to the payee."},
	RefundMandateRevoked:   {"Medgivande har återkallats.", "The mandate was revoked."},
	RefundUnexpectedAmount: {"Beloppet angavs inte när Medgivandet tecknades och överstiger vad betalaren rimligen kunde förvänta sig.", "No amount was agreed and it exceeds what the payer could reasonably expect."},
	"04":                   {"Reservkod.", "Reserved code."},
	"05":                   {"Reservkod.", "Reserved code."},
}

// Meaning returns what the refund code means.
func (c RefundCode) Meaning() Meaning { return lookup(refundMeanings, c) }

// InfoCode is the information code of a mandate advice (informationskod,
// manual 8.3.3): what happened to the mandate.
type InfoCode string

// The information codes of the manual.
const (
	InfoCancelledByPayee       InfoCode = "03"
	InfoNewByPayee             InfoCode = "04"
	InfoPayerNumberChanged     InfoCode = "05"
	InfoCancelledPayeeBankgiro InfoCode = "10"
	InfoAnswerFromBank         InfoCode = "42"
	InfoCancelledUnanswered    InfoCode = "43"
	InfoCancelledPayerBankgiro InfoCode = "44"
	InfoCancelledByPayer       InfoCode = "46"
	InfoCancelledByPayerOld    InfoCode = "93"
)

var infoMeanings = map[InfoCode]Meaning{
	InfoCancelledByPayee:       {"Makulering, initierat av betalningsmottagaren.", "Cancellation, initiated by the payee."},
	InfoNewByPayee:             {"Nyupplägg, initierat av betalningsmottagaren.", "New mandate, initiated by the payee."},
	InfoPayerNumberChanged:     {"Byte av betalarnummer, initierat av betalningsmottagaren.", "Payer number changed, initiated by the payee."},
	InfoCancelledPayeeBankgiro: {"Makulerat på grund av att betalningsmottagarens bankgironummer är avslutat.", "Cancelled because the payee's bankgiro number was closed."},
	InfoAnswerFromBank:         {"Svar på kontoförfrågan från bank på ny betalare i Autogiro.", "The payer's bank answered the account enquiry for a new payer."},
	InfoCancelledUnanswered:    {"Makulerat/borttaget på grund av obesvarad kontoförfrågan.", "Cancelled/removed because the account enquiry was not answered."},
	InfoCancelledPayerBankgiro: {"Makulerat på grund av att betalarens bankgironummer är avslutat.", "Cancelled because the payer's bankgiro number was closed."},
	InfoCancelledByPayer:       {"Makulering, initierat av betalaren eller betalarens bank.", "Cancellation, initiated by the payer or the payer's bank."},
	InfoCancelledByPayerOld:    {"Makulering, initierad av betalaren (utgått).", "Cancellation, initiated by the payer (obsolete code)."},
}

// Meaning returns what the information code means.
func (c InfoCode) Meaning() Meaning { return lookup(infoMeanings, c) }

// CommentCode is the comment code of a mandate advice (kommentarskod,
// manual 8.3.3): the outcome or the reason.
type CommentCode string

// The comment codes of the manual.
const (
	CommentCancelledByPayer    CommentCode = "02"
	CommentAccountTypeRefused  CommentCode = "03"
	CommentNoMandate           CommentCode = "04"
	CommentBadAccountOrID      CommentCode = "05"
	CommentUnanswered          CommentCode = "07"
	CommentNoPayerBankgiro     CommentCode = "09"
	CommentAlreadyRegistered   CommentCode = "10"
	CommentBadPersonalID       CommentCode = "20"
	CommentBadPayerNumber      CommentCode = "21"
	CommentBadAccount          CommentCode = "23"
	CommentBadPayeeBankgiro    CommentCode = "29"
	CommentPayeeDeregistered   CommentCode = "30"
	CommentNewMandate          CommentCode = "32"
	CommentCancelled           CommentCode = "33"
	CommentPayerBankgiroClosed CommentCode = "98"
)

var commentMeanings = map[CommentCode]Meaning{
	"01":                       {"Medgivandet makulerat på initiativ av banken (utgått).", "Cancelled on the bank's initiative (obsolete code)."},
	CommentCancelledByPayer:    {"Medgivandet är makulerat på initiativ av betalaren eller betalarens bank.", "Cancelled on the initiative of the payer or the payer's bank."},
	CommentAccountTypeRefused:  {"Kontoslaget är inte godkänt för Autogiro.", "The account type is not approved for AutoGiro."},
	CommentNoMandate:           {"Medgivandet saknas i Bankgirots Medgivanderegister.", "The mandate is not in Bankgirot's mandate register."},
	CommentBadAccountOrID:      {"Felaktiga bankkonto- eller personuppgifter.", "Wrong bank account or personal details."},
	"06":                       {"Medgivandet makulerat av Bankgirot (utgått).", "Cancelled by Bankgirot (obsolete code)."},
	CommentUnanswered:          {"Makulerat/borttaget på grund av obesvarad kontoförfrågan.", "Cancelled/removed because the account enquiry was not answered."},
	CommentNoPayerBankgiro:     {"Betalarbankgironumret saknas hos Bankgirot.", "The payer's bankgiro number is unknown to Bankgirot."},
	CommentAlreadyRegistered:   {"Medgivandet finns redan upplagt i Bankgirots register eller är under förfrågan.", "The mandate is already registered or being enquired."},
	"11":                       {"Medgivandet stoppat av betalaren (utgått).", "Stopped by the payer (obsolete code)."},
	"12":                       {"Hävning av stopp av Medgivandet (utgått).", "Stop lifted (obsolete code)."},
	CommentBadPersonalID:       {"Felaktigt person-/organisationsnummer eller avtal om medgivande med bankgironummer saknas.", "Wrong personal/organisation number, or no agreement for a bankgiro mandate."},
	CommentBadPayerNumber:      {"Felaktigt betalarnummer.", "Wrong payer number."},
	CommentBadAccount:          {"Felaktigt bankkontonummer.", "Wrong bank account number."},
	"24":                       {"Maxbelopp ej tillåtet (utgått).", "Maximum amount not allowed (obsolete code)."},
	CommentBadPayeeBankgiro:    {"Mottagarbankgironummer är felaktigt.", "The payee bankgiro number is wrong."},
	CommentPayeeDeregistered:   {"Mottagarbankgironummer är avregistrerat.", "The payee bankgiro number is deregistered."},
	CommentNewMandate:          {"Nytt Medgivande.", "New mandate."},
	CommentCancelled:           {"Makulerad.", "Cancelled."},
	CommentPayerBankgiroClosed: {"Medgivandet är makulerat på grund av makulerat betalarbankgironummer.", "Cancelled because the payer's bankgiro number was cancelled."},
}

// Meaning returns what the comment code means.
func (c CommentCode) Meaning() Meaning { return lookup(commentMeanings, c) }

// MandateEffect is what a mandate advice means for the biller's register.
type MandateEffect int

// The effects of a mandate advice.
const (
	EffectNone      MandateEffect = iota // informational or an order that failed: nothing changes
	EffectActive                         // the mandate is now active
	EffectCancelled                      // the mandate no longer exists
	EffectChanged                        // the mandate lives on under this, its new payer number
	EffectReplaced                       // this payer number gave way to a new one: it is no longer valid
)

// Effect tells what the advice does to the mandate: a new mandate becomes
// active only with comment 32, and a cancellation takes effect with its
// comment codes 02, 07, 33 or 98. A change of payer number (information
// code 05, manual 8.3.3) comes as two records: comment 32 ("Nytt
// Medgivande") under the new number, which is now the mandate's, and
// comment 33 ("Makulerad") under the old one, which is no longer valid.
// Every other combination reports an order that failed (a wrong payer
// number, an unknown account, ...).
func (a MandateAdvice) Effect() MandateEffect {
	switch a.Info {
	case InfoNewByPayee, InfoAnswerFromBank:
		if a.Comment == CommentNewMandate {
			return EffectActive
		}
	case InfoPayerNumberChanged:
		switch a.Comment {
		case CommentNewMandate:
			return EffectChanged
		case CommentCancelled:
			return EffectReplaced
		}
	case InfoCancelledPayeeBankgiro:
		return EffectCancelled
	case InfoCancelledByPayee, InfoCancelledUnanswered, InfoCancelledPayerBankgiro, InfoCancelledByPayer, InfoCancelledByPayerOld:
		switch a.Comment {
		case CommentCancelledByPayer, CommentUnanswered, CommentCancelled, CommentPayerBankgiroClosed:
			return EffectCancelled
		}
	}
	return EffectNone
}

// AmendmentComment is the comment code of a cancellation or change report
// (kommentarskod, manual 8.5.3).
type AmendmentComment string

// The amendment comment codes of the manual.
const (
	AmendBadDate          AmendmentComment = "01"
	AmendBadPayerNumber   AmendmentComment = "02"
	AmendBadPaymentCode   AmendmentComment = "04"
	AmendBadAmount        AmendmentComment = "05"
	AmendBadNewDate       AmendmentComment = "06"
	AmendBadPayeeBankgiro AmendmentComment = "10"
	AmendNoPayeeBankgiro  AmendmentComment = "11"
	AmendCancelled        AmendmentComment = "12"
	AmendNoPayment        AmendmentComment = "13"
	AmendDateChanged      AmendmentComment = "14"
	AmendSelfRenewing     AmendmentComment = "15"
	AmendDateChangedOne   AmendmentComment = "18"
)

var amendMeanings = map[AmendmentComment]Meaning{
	AmendBadDate:          {"Felaktig betalningsdag.", "Wrong payment date."},
	AmendBadPayerNumber:   {"Felaktigt betalarnummer.", "Wrong payer number."},
	AmendBadPaymentCode:   {"Felaktig debiteringskod.", "Wrong payment code."},
	AmendBadAmount:        {"Felaktigt belopp.", "Wrong amount."},
	AmendBadNewDate:       {"Felaktig ny betalningsdag.", "Wrong new payment date."},
	AmendBadPayeeBankgiro: {"Felaktigt mottagarbankgironummer (fel checksiffra).", "Wrong payee bankgiro (check digit)."},
	AmendNoPayeeBankgiro:  {"Mottagarbankgironummer saknas (noll eller blankt).", "Payee bankgiro missing (zero or blank)."},
	AmendCancelled:        {"Makulerad.", "Cancelled."},
	AmendNoPayment:        {"Betalning saknas, inte åtgärdad.", "No such payment, nothing done."},
	AmendDateChanged:      {"Ändrad betalningsdag.", "Payment date changed."},
	AmendSelfRenewing:     {"Inte ändrad, Självförnyande uppdrag.", "Not changed: self-renewing order."},
	AmendDateChangedOne:   {"Ändrad betalningsdag.", "Payment date changed."},
}

// Meaning returns what the comment code means.
func (c AmendmentComment) Meaning() Meaning { return lookup(amendMeanings, c) }

// Done reports whether the comment says the cancellation or change was
// carried out. Only those count in the closing record's totals.
func (c AmendmentComment) Done() bool {
	return c == AmendCancelled || c == AmendDateChanged || c == AmendDateChangedOne
}

// Cancels reports whether the amendment is a cancellation (TK03, TK11,
// TK21–TK25, manual 8.5.3) rather than a change of payment date
// (TK26–TK29).
func (a Amendment) Cancels() bool { return a.TK < "26" }

// amendmentMeanings are the transaction codes of cancellations and changes
// (manual 7.4 and 8.5.3).
var amendmentMeanings = map[string]Meaning{
	"03": {"Makulerad på grund av borttaget Medgivande.", "Cancelled because the mandate was removed."},
	"11": {"Makulerad av betalaren/betalarens bank.", "Cancelled by the payer or the payer's bank."},
	"21": {"Makulerad, betalningsmottagarens avtal avslutat.", "Cancelled: the payee's agreement ended."},
	"22": {"Makulera alla betalningar angiven betalningsdag (utgått).", "Cancel all payments on a date (obsolete code)."},
	"23": {"Makulera alla betalningar för ett betalarnummer.", "Cancel all payments of a payer number."},
	"24": {"Makulera alla betalningar för ett betalarnummer en angiven betalningsdag.", "Cancel all payments of a payer number on a date."},
	"25": {"Makulera en betalning för ett betalarnummer, betalningsdag, belopp och referens.", "Cancel one payment by payer number, date, amount and reference."},
	"26": {"Ändra alla betalningar till ny betalningsdag.", "Move all payments to a new date."},
	"27": {"Ändra alla betalningar från angiven betalningsdag till ny betalningsdag.", "Move all payments on a date to a new date."},
	"28": {"Ändra alla betalningar för ett betalarnummer från angiven till ny betalningsdag.", "Move a payer number's payments on a date to a new date."},
	"29": {"Ändra en betalning från angiven betalningsdag till ny betalningsdag.", "Move one payment to a new date."},
}

// Meaning returns what the amendment's transaction code means.
func (a Amendment) Meaning() Meaning {
	if m, ok := amendmentMeanings[a.TK]; ok {
		return m
	}
	return unknownMeaning
}
