package autogiro

import "time"

// The files from Bankgirot that are not TK01 … TK09 reports: new mandates
// via internet banks (8.6), the mandate register extract (8.8) and Bg Max
// (chapter 10).

// parseInternetMandates reads sections of TK51, TK52 groups and TK59. Each
// TK52 starts a mandate; TK53–TK56 add to the one before them.
func parseInternetMandates(f *File, recs []*rec) error {
	var s *Section
	var m *InternetMandate
	lines := 0
	for _, r := range recs {
		tk := r.tk()
		if s == nil && tk != "51" {
			return errAt(r.no, RuleOrder, "TK%s after the closing record; a section starts with TK51", tk)
		}
		switch tk {
		case "51":
			if s != nil {
				return errAt(r.no, RuleOrder, "TK51 before the section opened on line %d was closed by TK59", s.LineNo)
			}
			if r.text(25, 44) != "AG-EMEDGIV" {
				return errAt(r.no, RuleKind, "opening record names %q, expected AG-EMEDGIV", r.text(25, 44))
			}
			s = &Section{LineNo: r.no, Kind: KindInternetMandates, WriteDate: r.date(3, 10, "write date").Time(), PayeeBankgiro: r.id(15, 24, "payee bankgiro")}
			lines = 0
		case "52":
			m = &InternetMandate{
				Pos:           Pos{r.no, tk},
				PayeeBankgiro: r.id(3, 12, "payee bankgiro"),
				PayerNumber:   r.id(13, 28, "payer number"),
				Account:       r.optDigits(29, 44, "bank account"),
				PersonalID:    r.optDigits(45, 56, "personal or organisation number"),
				Notice:        int(r.num(62, 62, "message type")),
			}
			checkBankgiro(r, s, m.PayeeBankgiro)
			s.Records = append(s.Records, m)
			lines++
		case "53", "54", "55", "56":
			if m == nil {
				return errAt(r.no, RuleOrder, "TK%s must follow a TK52 mandate record", tk)
			}
			switch tk {
			case "53":
				m.Info = r.text(3, 38)
			case "54":
				m.Address[0], m.Address[1] = r.text(3, 38), r.text(39, 74)
			case "55":
				m.Address[2], m.Address[3] = r.text(3, 38), r.text(39, 74)
			case "56":
				m.PostalCode = r.optDigits(3, 7, "postal code")
				m.City = r.text(8, 38)
			}
			lines++
		case "59":
			checkCount(r, "number of records in the closing record", int(r.num(15, 21, "number of records")), lines)
			if r.err != nil {
				return r.err
			}
			f.addSection(*s)
			s, m = nil, nil
		default:
			return errAt(r.no, RuleCode, "TK%s is not a record of a file of new internet-bank mandates (TK51–TK56, TK59)", tk)
		}
		if r.err != nil {
			return r.err
		}
	}
	if s != nil {
		return errAt(recs[len(recs)-1].no, RuleOrder, "the section opened on line %d has no closing record TK59", s.LineNo)
	}
	return nil
}

// isRegisterRecord recognises a mandate register record (8.8), which has no
// transaction code: bankgiro, personal id and payer number in digits,
// mandate type 1 or 2, two-digit year, creation date, change date or blank,
// status 1 or 2.
func isRegisterRecord(r *rec) bool {
	return isDigits(r.raw(1, 38)) && (r.b[38] == '1' || r.b[38] == '2') && isDigits(r.raw(40, 49)) &&
		(isDigits(r.raw(50, 57)) || r.blank(50, 57)) && (r.b[57] == '1' || r.b[57] == '2')
}

func parseMandateRegister(f *File, recs []*rec) error {
	s := Section{LineNo: recs[0].no, Kind: KindMandateRegister}
	for i, r := range recs {
		if !isRegisterRecord(r) {
			return errAt(r.no, RuleField, "not a mandate register record (manual 8.8): %q", r.text(1, 58))
		}
		m := &RegisteredMandate{
			Pos:           Pos{LineNo: r.no},
			PayeeBankgiro: r.id(1, 10, "payee bankgiro"),
			PersonalID:    r.optDigits(11, 22, "personal or organisation number"),
			PayerNumber:   r.id(23, 38, "payer number"),
			ViaInternet:   r.b[38] == '2',
			ActivityYear:  int(r.num(40, 41, "activity year")),
			Created:       r.date(42, 49, "creation date"),
			Changed:       r.optDate(50, 57, "change date"),
			Pending:       r.b[57] == '2',
			Account:       r.optDigits(65, 80, "bank account"),
		}
		if i == 0 {
			s.PayeeBankgiro = m.PayeeBankgiro
		}
		checkBankgiro(r, &s, m.PayeeBankgiro)
		if r.err != nil {
			return r.err
		}
		s.Records = append(s.Records, m)
	}
	f.addSection(s)
	return nil
}

// parseBgMax reads a Bg Max file: TK01, sections of TK05, payments (TK20
// with TK26–TK29) and TK15, then TK70. As chapter 10 asks, record types Bg
// Max has but AutoGiro does not use (and any later ones) are skipped.
func parseBgMax(f *File, recs []*rec) error {
	first := recs[0]
	stamp := first.digits(25, 44, "time stamp")
	if first.err != nil {
		return first.err
	}
	d := Date{atoi(stamp[:4]), time.Month(atoi(stamp[4:6])), atoi(stamp[6:8])}
	written := time.Date(d.Year, d.Month, d.Day, atoi(stamp[8:10]), atoi(stamp[10:12]), atoi(stamp[12:14]), atoi(stamp[14:20])*1000, time.UTC)
	f.Test = first.b[44] == 'T'
	var s *Section
	var p *BgMaxPayment
	var payments, deposits int
	for i, r := range recs[1:] {
		tk := r.tk()
		if tk != "05" && tk != "70" && s == nil {
			return errAt(r.no, RuleOrder, "TK%s outside a section; a section starts with TK05", tk)
		}
		switch tk {
		case "05":
			if s != nil {
				return errAt(r.no, RuleOrder, "TK05 before the section opened on line %d was closed by TK15", s.LineNo)
			}
			s = &Section{LineNo: r.no, Kind: KindBgMax, WriteDate: written, PayeeBankgiro: r.id(3, 12, "payee bankgiro")}
			p = nil
		case "20":
			p = &BgMaxPayment{
				Pos:           Pos{r.no, tk},
				PayerBankgiro: r.optID(3, 12, "payer bankgiro"),
				Reference:     r.text(13, 37),
				Amount:        r.amount(38, 55, "amount"),
				ReferenceCode: r.text(56, 56),
				Channel:       r.text(57, 57),
			}
			s.Records = append(s.Records, p)
			payments++
		case "26", "27", "28", "29":
			if p == nil {
				return errAt(r.no, RuleOrder, "TK%s must follow a TK20 payment", tk)
			}
			switch tk {
			case "26":
				p.Name, p.ExtraName = r.text(3, 37), r.text(38, 72)
			case "27":
				p.Address, p.PostalCode = r.text(3, 37), r.text(38, 46)
			case "28":
				p.City, p.Country, p.CountryCode = r.text(3, 37), r.text(38, 72), r.text(73, 74)
			case "29":
				p.OrgNumber = r.optID(3, 14, "organisation number")
			}
		case "15":
			st := &Settlement{
				Pos:      Pos{r.no, tk},
				Account:  r.id(3, 37, "bank account"),
				Date:     r.date(38, 45, "payment date"),
				Serial:   int(r.num(46, 50, "serial number")),
				Amount:   r.amount(51, 68, "amount"),
				Currency: r.text(69, 71),
				Count:    int(r.num(72, 79, "number of payments")),
			}
			var n int
			var sum int64
			for _, rd := range s.Records {
				if bp, ok := rd.(*BgMaxPayment); ok {
					n++
					sum += int64(bp.Amount)
				}
			}
			checkCount(r, "deposit (TK15) number of payments", st.Count, n)
			checkSum(r, "deposit (TK15) amount", int64(st.Amount), sum)
			if n == 0 {
				r.fail(RuleEmpty, "a Bg Max section holds at least one payment")
			}
			if r.err != nil {
				return r.err
			}
			s.Records = append(s.Records, st)
			f.addSection(*s)
			deposits++
			s, p = nil, nil
		case "70":
			if s != nil {
				return errAt(r.no, RuleOrder, "the section opened on line %d has no deposit record TK15", s.LineNo)
			}
			checkCount(r, "number of payments (TK20) in the closing record", int(r.num(3, 10, "number of payments")), payments)
			checkCount(r, "number of deposits (TK15) in the closing record", int(r.num(27, 34, "number of deposits")), deposits)
			if r.err != nil {
				return r.err
			}
			if i+2 < len(recs) {
				return errAt(recs[i+2].no, RuleOrder, "a record after the closing record TK70")
			}
			if len(f.Sections) == 0 {
				return errAt(r.no, RuleEmpty, "a Bg Max file holds at least one section")
			}
			return nil
		default:
			p = nil // an unknown record ends the payment its successors could belong to
		}
		if r.err != nil {
			return r.err
		}
	}
	return errAt(recs[len(recs)-1].no, RuleOrder, "the file has no closing record TK70")
}
