package autogiro

// Reading the biller's own files to Bankgirot (manual chapter 7): sections
// opened by TK01, no closing record.

// orderKinds maps an order's transaction code to the kind of section it
// belongs to.
var orderKinds = map[string]FileKind{
	"03": KindMandateOrders, "04": KindMandateOrders, "05": KindMandateOrders,
	"82": KindPaymentOrders, "32": KindPaymentOrders,
	"23": KindAmendmentOrders, "24": KindAmendmentOrders, "25": KindAmendmentOrders,
	"26": KindAmendmentOrders, "27": KindAmendmentOrders, "28": KindAmendmentOrders, "29": KindAmendmentOrders,
}

func parseOrders(f *File, recs []*rec) error {
	var s *Section
	closeSection := func() error {
		if s == nil {
			return nil
		}
		if len(s.Records) == 0 {
			return errAt(s.LineNo, RuleEmpty, "the section has no orders; an opening record is followed by at least one")
		}
		f.addSection(*s)
		return nil
	}
	for _, r := range recs {
		if r.tk() == "01" {
			if err := closeSection(); err != nil {
				return err
			}
			if k, _, err := detect(r); err != nil || k != KindPaymentOrders {
				return errAt(r.no, RuleKind, "TK01 %q is not the opening record of a file to Bankgirot", r.text(1, 40))
			}
			s = &Section{
				LineNo:         r.no,
				WriteDate:      r.date(3, 10, "write date").Time(),
				CustomerNumber: r.digits(63, 68, "customer number"),
				PayeeBankgiro:  r.id(69, 78, "payee bankgiro"),
			}
			if r.err != nil {
				return r.err
			}
			continue
		}
		kind, ok := orderKinds[r.tk()]
		if !ok {
			return errAt(r.no, RuleCode, "TK%s is not a record of a file to Bankgirot (TK01, TK03–TK05, TK82, TK32, TK23–TK29)", r.tk())
		}
		if s.Kind == KindUnknown {
			s.Kind = kind
		} else if s.Kind != kind {
			return errAt(r.no, RuleOrder, "TK%s in a section of %s; each kind of order needs its own section opened by TK01", r.tk(), s.Kind.Swedish())
		}
		var rd Record
		var bg string
		switch kind {
		case KindPaymentOrders:
			p := orderPayment(r)
			rd, bg = &p, p.PayeeBankgiro
		case KindMandateOrders:
			m := mandateRequest(r)
			rd, bg = &m, m.PayeeBankgiro
		default:
			a := amendmentOrder(r)
			rd, bg = &a, a.PayeeBankgiro
		}
		checkBankgiro(r, s, bg)
		if r.err != nil {
			return r.err
		}
		s.Records = append(s.Records, rd)
	}
	if err := closeSection(); err != nil {
		return err
	}
	f.Kind = f.Sections[0].Kind
	for _, s := range f.Sections[1:] {
		if s.Kind != f.Kind {
			f.Kind = KindMixedOrders
		}
	}
	return nil
}

// orderPayment reads a TK82 or TK32 of a payment file (7.3).
func orderPayment(r *rec) Payment {
	p := paymentCommon(r, false)
	if string(r.raw(3, 10)) == "GENAST  " {
		p.Immediately = true
		if p.Period != PeriodOnce {
			r.fail(RuleField, "period code %s with GENAST; an immediate payment is made once (period 0)", p.Period)
		}
	} else {
		p.Date = r.date(3, 10, "payment date")
	}
	p.PayeeBankgiro = r.id(44, 53, "payee bankgiro")
	return p
}

// mandateRequest reads a TK03, TK04 or TK05 of a mandate file (7.2).
func mandateRequest(r *rec) MandateRequest {
	m := MandateRequest{
		Pos:           Pos{r.no, r.tk()},
		Type:          MandateRequestType(r.tk()),
		PayeeBankgiro: r.id(3, 12, "payee bankgiro"),
		PayerNumber:   r.id(13, 28, "payer number"),
	}
	switch m.Type {
	case MandateNew:
		m.Account = r.optDigits(29, 44, "bank account")
		m.PersonalID = r.optDigits(45, 56, "personal or organisation number")
		switch r.text(77, 78) {
		case "AV":
			m.Reject = true
		case "":
		default:
			r.fail(RuleField, "answer (positions 77–78) must be AV or blank, found %q", r.text(77, 78))
		}
	case MandateChangePayerNumber:
		if bg := r.id(29, 38, "payee bankgiro"); r.err == nil && bg != m.PayeeBankgiro {
			r.fail(RuleBankgiro, "the second payee bankgiro (positions 29–38) must repeat the first, %s", m.PayeeBankgiro)
		}
		m.NewPayerNumber = r.id(39, 54, "new payer number")
	}
	return m
}

// amendmentOrder reads a TK23–TK29 of a cancellation and change file (7.4).
func amendmentOrder(r *rec) Amendment {
	a := Amendment{
		Pos:           Pos{r.no, r.tk()},
		PayeeBankgiro: r.id(3, 12, "payee bankgiro"),
		PayerNumber:   r.optID(13, 28, "payer number"),
		Date:          r.optDate(29, 36, "payment date"),
		Reference:     r.text(59, 74),
	}
	if !r.blank(37, 48) {
		a.Amount = r.amount(37, 48, "amount")
	}
	switch code := r.text(49, 50); code {
	case "82", "32":
		a.PaymentType = PaymentType(code)
	case "":
	default:
		r.fail(RuleField, "payment code (positions 49–50) must be 82, 32 or blank, found %q", code)
	}
	if r.tk() >= "26" {
		a.NewDate = r.date(51, 58, "new payment date")
	}
	return a
}
