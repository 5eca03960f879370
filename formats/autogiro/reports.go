package autogiro

import "time"

// The reports Bankgirot sends in the new layout (manual chapter 8) that are
// made of TK01 … TK09 sections.

// paymentCommon reads the fields a payment has at the same places in a
// payment file, a payment specification and the payment register (manual
// 7.3, 8.2.2, 8.7): period 11, repeats 12–14, payer number 16–31, amount
// 32–43, reference 54–69. The date (3–10) is the caller's: only orders may
// say GENAST.
func paymentCommon(r *rec, blankPeriod bool) Payment {
	return Payment{
		Pos:         Pos{r.no, r.tk()},
		Type:        PaymentType(r.tk()),
		Period:      r.period(11, blankPeriod),
		Repeats:     r.repeats(12, 14),
		PayerNumber: r.id(16, 31, "payer number"),
		Amount:      r.amount(32, 43, "amount"),
		Reference:   r.text(54, 69),
	}
}

// specRecord reads a record of a payment specification (8.2.2).
func specRecord(r *rec, s *Section) (Record, bool) {
	switch r.tk() {
	case "15", "16", "17":
		return &Settlement{
			Pos:     Pos{r.no, r.tk()},
			Account: r.id(3, 37, "bank account"),
			Date:    r.date(38, 45, "payment date"),
			Serial:  int(r.num(46, 50, "serial number")),
			Amount:  r.amount(51, 68, "amount"),
			Count:   int(r.num(72, 79, "number of payments")),
		}, true
	case "82", "32":
		p := paymentCommon(r, true)
		p.Date = r.date(3, 10, "payment date")
		p.PayeeBankgiro = r.id(44, 53, "payee bankgiro")
		p.Status = PaymentStatus(r.digits(80, 80, "payment status"))
		checkBankgiro(r, s, p.PayeeBankgiro)
		return &p, true
	case "77":
		f := &Refund{
			Pos:           Pos{r.no, r.tk()},
			Date:          r.date(3, 10, "original payment date"),
			Period:        r.period(11, true),
			Repeats:       r.repeats(12, 14),
			PayerNumber:   r.id(16, 31, "payer number"),
			Amount:        r.amount(32, 43, "amount"),
			PayeeBankgiro: r.id(44, 53, "payee bankgiro"),
			Reference:     r.text(54, 69),
			RefundDate:    r.date(70, 77, "refund date"),
			Reason:        RefundCode(r.digits(78, 79, "refund code")),
		}
		checkBankgiro(r, s, f.PayeeBankgiro)
		return f, true
	}
	return nil, false
}

// specClosing checks the settlements and the closing record of a payment
// specification: each TK15 sums the approved TK82 after it, each TK16 the
// approved TK32 after it, each TK17 exactly one TK77; TK09 counts them.
func specClosing(r *rec, s *Section) error {
	var (
		open                   *Settlement
		sum                    int64
		n, all                 int
		count                  = map[string]int{}
		approved82, approved32 int
	)
	settle := func(next Record) error {
		if open != nil {
			rr := &rec{no: open.LineNo}
			what := map[string]string{"15": "deposit (TK15)", "16": "withdrawal (TK16)", "17": "refund withdrawal (TK17)"}[open.TK]
			checkCount(rr, what+" number of payments", open.Count, n)
			checkSum(rr, what+" amount", int64(open.Amount), sum)
			if open.TK == "17" && all != 1 {
				rr.fail(RuleCount, "a refund withdrawal (TK17) is followed by exactly one refund (TK77), found %d", all)
			}
			if rr.err != nil {
				return rr.err
			}
		}
		open, sum, n, all = nil, 0, 0, 0
		if st, ok := next.(*Settlement); ok {
			open = st
		}
		return nil
	}
	follows := map[string]string{"82": "15", "32": "16", "77": "17"}
	for _, rd := range s.Records {
		tk := rd.Position().TK
		count[tk]++
		if _, ok := rd.(*Settlement); ok {
			if err := settle(rd); err != nil {
				return err
			}
			continue
		}
		if open == nil || open.TK != follows[tk] {
			return errAt(rd.Position().LineNo, RuleOrder, "TK%s must follow a TK%s and its TK%s records", tk, follows[tk], tk)
		}
		all++
		switch v := rd.(type) {
		case *Payment:
			if v.Status == StatusApproved {
				n++
				sum += int64(v.Amount)
				if tk == "82" {
					approved82++
				} else {
					approved32++
				}
			}
		case *Refund:
			n++
			sum += int64(v.Amount)
		}
	}
	if err := settle(nil); err != nil {
		return err
	}
	checkCount(r, "number of deposits (TK15)", int(r.num(15, 20, "number of deposits")), count["15"])
	checkCount(r, "number of approved withdrawals (TK82)", int(r.num(21, 32, "number of payments")), approved82)
	checkCount(r, "number of withdrawals (TK16)", int(r.num(33, 38, "number of withdrawals")), count["16"])
	checkCount(r, "number of approved deposits (TK32)", int(r.num(39, 50, "number of payments")), approved32)
	checkCount(r, "number of refund withdrawals (TK17)", int(r.num(51, 56, "number of refund withdrawals")), count["17"])
	checkCount(r, "number of refunds (TK77)", int(r.num(57, 68, "number of refunds")), count["77"])
	if len(s.Records) == 0 {
		r.fail(RuleEmpty, "a payment specification section holds at least one deposit or withdrawal")
	}
	return nil
}

// adviceRecord reads a TK73 of a mandate advice (8.3.2).
func adviceRecord(r *rec, s *Section) (Record, bool) {
	if r.tk() != "73" {
		return nil, false
	}
	a := &MandateAdvice{
		Pos:           Pos{r.no, r.tk()},
		PayeeBankgiro: r.id(3, 12, "payee bankgiro"),
		PayerNumber:   r.id(13, 28, "payer number"),
		Account:       r.optDigits(29, 44, "bank account"),
		PersonalID:    r.optDigits(45, 56, "personal or organisation number"),
		Info:          InfoCode(r.digits(62, 63, "information code")),
		Comment:       CommentCode(r.digits(64, 65, "comment code")),
		Date:          r.date(66, 73, "action date"),
	}
	checkBankgiro(r, s, a.PayeeBankgiro)
	return a, true
}

func adviceClosing(r *rec, s *Section) error {
	checkCount(r, "number of records in the closing record", int(r.num(15, 21, "number of records")), len(s.Records))
	return nil
}

// rejectedRecord reads a rejected payment (8.4.2), whose fields sit one
// position left of the payment file's and which carries no bankgiro. A
// rejected order comes back as it was sent, so the field its comment code
// faults (period 06, repeats 07, amount 08, date 12) is taken as far as it
// can be read rather than refused: Bankgirot's example has period code 9.
func rejectedRecord(r *rec, s *Section) (Record, bool) {
	if r.tk() != "82" && r.tk() != "32" {
		return nil, false
	}
	p := &Payment{
		Pos:         Pos{r.no, r.tk()},
		Type:        PaymentType(r.tk()),
		PayerNumber: r.id(15, 30, "payer number"),
		Reference:   r.text(43, 58),
		Rejection:   RejectionCode(r.digits(59, 60, "comment code")),
	}
	faulted := func(c RejectionCode, from, to int) bool {
		return p.Rejection == c && !isDigits(r.raw(from, to))
	}
	switch {
	case p.Rejection != RejectBadDate:
		p.Date = r.date(3, 10, "payment date")
	case isDigits(r.raw(3, 10)): // kept as sent, even 20080633
		d := string(r.raw(3, 10))
		p.Date = Date{atoi(d[:4]), time.Month(atoi(d[4:6])), atoi(d[6:8])}
	}
	if p.Rejection == RejectBadPeriod {
		p.Period = Period(r.text(11, 11))
	} else {
		p.Period = r.period(11, true)
	}
	if !faulted(RejectBadRepeats, 12, 14) {
		p.Repeats = r.repeats(12, 14)
	}
	if !faulted(RejectAmountNotNumeric, 31, 42) {
		p.Amount = r.amount(31, 42, "amount")
	}
	return p, true
}

// totals adds up the payments of a section by type.
func totals(recs []Record) (n82, n32 int, sum82, sum32 int64) {
	for _, rd := range recs {
		if p, ok := rd.(*Payment); ok {
			if p.Type == Withdrawal {
				n82++
				sum82 += int64(p.Amount)
			} else {
				n32++
				sum32 += int64(p.Amount)
			}
		}
	}
	return
}

func rejectedClosing(r *rec, s *Section) error {
	n82, n32, sum82, sum32 := totals(s.Records)
	checkCount(r, "number of deposits (TK32)", int(r.num(15, 20, "number of deposits")), n32)
	checkSum(r, "total of deposits (TK32)", int64(r.amount(21, 32, "total of deposits")), sum32)
	checkCount(r, "number of withdrawals (TK82)", int(r.num(33, 38, "number of withdrawals")), n82)
	checkSum(r, "total of withdrawals (TK82)", int64(r.amount(39, 50, "total of withdrawals")), sum82)
	return nil
}

// registerPaymentRecord reads a payment of the payment register (8.7): a
// payment file's layout with the bankgiro field left as reserve.
func registerPaymentRecord(r *rec, s *Section) (Record, bool) {
	if r.tk() != "82" && r.tk() != "32" {
		return nil, false
	}
	p := paymentCommon(r, true)
	p.Date = r.date(3, 10, "payment date")
	return &p, true
}

func paymentRegisterClosing(r *rec, s *Section) error {
	n82, n32, sum82, sum32 := totals(s.Records)
	checkSum(r, "total of deposits (TK32)", int64(r.amount(29, 40, "total of deposits")), sum32)
	checkCount(r, "number of deposits (TK32)", int(r.num(41, 46, "number of deposits")), n32)
	checkCount(r, "number of withdrawals (TK82)", int(r.num(47, 52, "number of withdrawals")), n82)
	checkSum(r, "total of withdrawals (TK82)", int64(r.amount(57, 68, "total of withdrawals")), sum82)
	return nil
}

// amendmentReportRecord reads a cancellation or change Bankgirot reports
// (8.5.2).
func amendmentReportRecord(r *rec, s *Section) (Record, bool) {
	switch r.tk() {
	case "03", "11", "21", "22", "23", "24", "25", "26", "27", "28", "29":
	default:
		return nil, false
	}
	a := &Amendment{
		Pos:         Pos{r.no, r.tk()},
		Date:        r.optDate(3, 10, "payment date"),
		PayerNumber: r.optID(11, 26, "payer number"),
		Amount:      r.amount(29, 40, "amount"),
		Comment:     AmendmentComment(r.digits(73, 74, "comment code")),
	}
	switch code := r.digits(27, 28, "payment code"); code {
	case "82", "32":
		a.PaymentType = PaymentType(code)
	case "00", "":
	default:
		r.fail(RuleField, "payment code (positions 27–28) must be 82 or 32, found %s", code)
	}
	switch text := r.text(41, 48); {
	case text == "REFERENS":
		a.Reference = r.text(57, 72)
	case isDigits(r.raw(41, 48)):
		a.Count = int(r.num(41, 48, "number of payments"))
	default:
		r.fail(RuleField, "text field (positions 41–48) must be REFERENS or digits, found %q", text)
	}
	if r.tk() >= "26" {
		a.NewDate = r.optDate(49, 56, "new payment date")
	}
	return a, true
}

// amendmentsClosing checks the totals of amendments carried out (comment
// codes 12, 14, 18): the ones Bankgirot's closing record counts.
func amendmentsClosing(r *rec, s *Section) error {
	var n82, n32 int
	var sum82, sum32 int64
	for _, rd := range s.Records {
		a := rd.(*Amendment)
		if !a.Comment.Done() {
			continue
		}
		switch a.PaymentType {
		case Withdrawal:
			n82++
			sum82 += int64(a.Amount)
		case Deposit:
			n32++
			sum32 += int64(a.Amount)
		}
	}
	checkSum(r, "total of deposits (TK32) cancelled or changed", abs(int64(r.signedAmount(29, 40, "total of deposits"))), sum32)
	checkCount(r, "number of deposits (TK32) cancelled or changed", int(r.num(41, 46, "number of deposits")), n32)
	checkCount(r, "number of withdrawals (TK82) cancelled or changed", int(r.num(47, 52, "number of withdrawals")), n82)
	checkSum(r, "total of withdrawals (TK82) cancelled or changed", abs(int64(r.signedAmount(57, 68, "total of withdrawals"))), sum82)
	return nil
}
