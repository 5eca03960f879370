package sms

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/outbound"
)

func invoice() *formats.Document {
	return &formats.Document{
		Kind:     formats.KindInvoice,
		Number:   "2018210",
		Currency: "SEK",
		DueDate:  formats.Date{Year: 2026, Month: 4, Day: 30},
		Seller:   formats.Party{Name: "Åkesson & Söner AB"},
		Buyer:    formats.Party{Name: "Anna Örn", Contact: formats.Contact{Phone: "070-123 45 67"}},
		PaymentMeans: []formats.PaymentMeans{{
			Code: formats.MeansCreditTransfer, PaymentID: "1234567897",
			Account: "5050-1055", AccountScheme: formats.AccountBankgiro,
		}},
		Totals: formats.Totals{Payable: formats.MustAmount("1656.25")},
	}
}

func form(t *testing.T, m outbound.Message) url.Values {
	t.Helper()
	v, err := url.ParseQuery(string(m.Body))
	if err != nil {
		t.Fatalf("body is not form-encoded: %v", err)
	}
	return v
}

func TestRender(t *testing.T) {
	hook := func(key string) string {
		return "https://gw.example.se/hooks/sms?key=" + url.QueryEscape(key) + "&sig=x"
	}
	ch := New(Options{LinkBase: "https://betala.example.se/f/", Callback: hook})
	m, err := ch.Render(invoice(), "070-123 45 67", "F01/0001")
	if err != nil {
		t.Fatal(err)
	}
	f := form(t, m)
	want := "Faktura 2018210 från Åkesson & Söner AB: 1 656,25 kr, förfaller 2026-04-30. OCR 1234567897. Betala: https://betala.example.se/f/F01%2F0001"
	if got := f.Get("message"); got != want {
		t.Errorf("message\n got %q\nwant %q", got, want)
	}
	if parts, ucs2 := Split(f.Get("message")); len(parts) != 1 || ucs2 {
		t.Errorf("message takes %d parts, ucs2=%v; want one GSM-7 SMS", len(parts), ucs2)
	}
	if f.Get("to") != "+46701234567" || m.To != "+46701234567" {
		t.Errorf("to = %q, Message.To = %q, want +46701234567", f.Get("to"), m.To)
	}
	if f.Get("from") != "AkessonSone" {
		t.Errorf("from = %q, want the seller's name shortened to AkessonSone", f.Get("from"))
	}
	if got := f.Get("whendelivered"); got != "https://gw.example.se/hooks/sms?key=F01%2F0001&sig=x" {
		t.Errorf("whendelivered = %q", got)
	}
	if m.Name != "F01/0001.txt" || m.Key != "F01/0001" || m.ContentType != "application/x-www-form-urlencoded" {
		t.Errorf("message = %+v", m)
	}
	// No callback URL (the public listener is off): no report is asked for.
	m, err = New(Options{Callback: func(string) string { return "" }}).Render(invoice(), "070-123 45 67", "F01/0001")
	if err != nil || form(t, m).Has("whendelivered") {
		t.Errorf("without a callback URL: whendelivered %q, %v", form(t, m).Get("whendelivered"), err)
	}
}

func TestRenderWordings(t *testing.T) {
	long := invoice()
	long.Seller.Name = "Norrlands Förenade Fastighetsförvaltning och Bostadsrättsservice Aktiebolag"
	credit := invoice()
	credit.Kind = formats.KindCreditNote
	noOCR := invoice()
	noOCR.PaymentMeans = []formats.PaymentMeans{{Code: "30", Account: "4 41 09-7", AccountScheme: formats.AccountPlusgiro}}
	emoji := invoice()
	emoji.Seller.Name = "Glassbilen 🍦"

	tests := []struct {
		name string
		opt  Options
		doc  *formats.Document
		want string // the message, or the error's start
		err  bool
	}{
		{"bankgiro hint without link base", Options{}, invoice(),
			"Faktura 2018210 från Åkesson & Söner AB: 1 656,25 kr, förfaller 2026-04-30. OCR 1234567897. Bankgiro 5050-1055.", false},
		{"long seller name is left out to fit one SMS", Options{LinkBase: "https://betala.example.se/f/"}, long,
			"Faktura 2018210: 1 656,25 kr, förfaller 2026-04-30. OCR 1234567897. Betala: https://betala.example.se/f/K1", false},
		{"no OCR: the invoice number as message, plusgiro", Options{}, noOCR,
			"Faktura 2018210 från Åkesson & Söner AB: 1 656,25 kr, förfaller 2026-04-30. Märk betalningen 2018210. Plusgiro 4 41 09-7.", false},
		{"credit note", Options{}, credit,
			"Kreditnota 2018210 från Åkesson & Söner AB: 1 656,25 kr till godo, inget att betala.", false},
		{"emoji in the seller's name: the GSM-7 wording without it fits one SMS", Options{LinkBase: "https://b.se/"}, emoji,
			"Faktura 2018210: 1 656,25 kr, förfaller 2026-04-30. OCR 1234567897. Betala: https://b.se/K1", false},
		{"no wording fits one SMS: the one with fewest parts", Options{LinkBase: "https://betala.example.se/" + strings.Repeat("x", 60) + "/"}, emoji,
			"Faktura 2018210: 1 656,25 kr, förfaller 2026-04-30. OCR 1234567897. Betala: https://betala.example.se/" + strings.Repeat("x", 60) + "/K1", false},
		{"two parts, the seller kept", Options{LinkBase: "https://betala.example.se/" + strings.Repeat("x", 60) + "/"}, invoice(),
			"Faktura 2018210 från Åkesson & Söner AB: 1 656,25 kr, förfaller 2026-04-30. OCR 1234567897. Betala: https://betala.example.se/" + strings.Repeat("x", 60) + "/K1", false},
		{"too long for one SMS with RefuseLong", Options{LinkBase: "https://betala.example.se/" + strings.Repeat("x", 100) + "/", RefuseLong: true}, invoice(),
			"permanent: sms: invoice 2018210: the text needs 2 SMS parts (GSM-7), at most 1 allowed", true},
		{"too long for MaxParts", Options{LinkBase: "https://betala.example.se/" + strings.Repeat("x", 400) + "/", MaxParts: 3}, invoice(),
			"permanent: sms: invoice 2018210: the text needs 4 SMS parts (GSM-7), at most 3 allowed", true},
		{"bad sender", Options{From: "Åkesson & Söner"}, invoice(), "permanent: sms: sender", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := New(tt.opt).Render(tt.doc, "+46701234567", "K1")
			if tt.err {
				if err == nil || !strings.HasPrefix(err.Error(), tt.want) || outbound.ClassOf(err) != outbound.ClassPermanent {
					t.Fatalf("err = %v, want a permanent error starting %q", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := form(t, m).Get("message"); got != tt.want {
				t.Errorf("message\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestRenderAddress(t *testing.T) {
	for _, tt := range []struct{ to, want string }{
		{"0701234567", "+46701234567"},
		{"+46 (0)70-123 45 67", "+46701234567"},
		{"+4794123456", "+4794123456"}, // a registry's foreign number in E.164
		{"08-123 456 78", ""},
		{"+0123", ""},
	} {
		m, err := New(Options{From: "Multikanal"}).Render(invoice(), tt.to, "K1")
		if tt.want == "" {
			if err == nil || outbound.ClassOf(err) != outbound.ClassPermanent {
				t.Errorf("%q: err = %v, want permanent", tt.to, err)
			}
			continue
		}
		if err != nil || m.To != tt.want || form(t, m).Get("from") != "Multikanal" {
			t.Errorf("%q: To = %q, err = %v, want %q", tt.to, m.To, err, tt.want)
		}
	}
}

func TestSplit(t *testing.T) {
	a := func(n int) string { return strings.Repeat("a", n) }
	tests := []struct {
		name  string
		text  string
		parts []int // length of each part in runes
		ucs2  bool
	}{
		{"empty", "", []int{0}, false},
		{"160 GSM-7", a(160), []int{160}, false},
		{"161 GSM-7", a(161), []int{153, 8}, false},
		{"å ä ö are GSM-7", strings.Repeat("åäöÅÄÖ", 26) + "éü", []int{158}, false},
		{"euro sign takes two septets", a(158) + "€", []int{159}, false},
		{"escape pair at a break", a(159) + "€", []int{153, 7}, false},
		{"escape pair is not cut", a(152) + "€" + a(10), []int{152, 11}, false},
		{"no-break space forces UCS-2", "1\u00a0656,25 kr", []int{11}, true},
		{"ê forces UCS-2", a(69) + "ê", []int{70}, true},
		{"71 UCS-2", a(70) + "ê", []int{67, 4}, true},
		{"surrogate pair is not cut", a(66) + "😀" + a(10), []int{66, 11}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parts, ucs2 := Split(tt.text)
			var got []int
			for _, p := range parts {
				got = append(got, utf8.RuneCountInString(p))
			}
			if ucs2 != tt.ucs2 || strings.Join(parts, "") != tt.text || !equal(got, tt.parts) {
				t.Errorf("Split = %v (ucs2 %v), want %v (ucs2 %v)", got, ucs2, tt.parts, tt.ucs2)
			}
		})
	}
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// elks is a test server shaped like 46elks' POST /a1/sms: it checks the
// request as 46elks would, answers with status and headers from the test,
// and posts a delivery report to whendelivered after a successful send.
type elks struct {
	t       *testing.T
	status  int
	header  http.Header
	body    string
	reports chan error // the report post's outcome
}

func (e *elks) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	user, pass, ok := r.BasicAuth()
	switch {
	case r.Method != http.MethodPost || r.URL.Path != "/a1/sms":
		e.t.Errorf("request %s %s, want POST /a1/sms", r.Method, r.URL.Path)
	case r.Header.Get("Content-Type") != "application/x-www-form-urlencoded":
		e.t.Errorf("Content-Type %q", r.Header.Get("Content-Type"))
	case !ok || user != "u123" || pass != "secret":
		http.Error(w, "Unauthorized", http.StatusUnauthorized)
		return
	}
	if err := r.ParseForm(); err != nil {
		e.t.Errorf("form: %v", err)
	}
	f := r.PostForm
	for _, k := range []string{"from", "to", "message"} {
		if f.Get(k) == "" {
			http.Error(w, "Missing key "+k, http.StatusBadRequest)
			return
		}
	}
	for k, v := range e.header {
		w.Header()[k] = v
	}
	if e.status != http.StatusOK {
		http.Error(w, e.body, e.status)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte(`{"status": "created", "direction": "outgoing", "from": "` + f.Get("from") + `", "to": "` + f.Get("to") + `", "parts": 1, "id": "s70df59406a1b4643b96f3f91e0bfb7b0", "cost": 3500}`))
	if hook := f.Get("whendelivered"); hook != "" {
		go func() {
			resp, err := http.PostForm(hook, url.Values{"id": {"s70df59406a1b4643b96f3f91e0bfb7b0"}, "status": {"delivered"}, "delivered": {"2026-04-02T10:10:10.123000"}})
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					err = errors.New("report answered " + resp.Status)
				}
			}
			e.reports <- err
		}()
	}
}

func TestHTTP(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		header     http.Header
		body       string
		class      outbound.Class
		retryAfter time.Duration
		text       string
	}{
		{name: "sent", status: http.StatusOK},
		{name: "bad credentials", status: http.StatusUnauthorized, class: outbound.ClassPermanent, text: "Unauthorized (check the channel's username and password_file)"},
		{name: "bad number", status: http.StatusForbidden, body: "Invalid to number", class: outbound.ClassPermanent, text: "Invalid to number"},
		{name: "rate limited", status: http.StatusTooManyRequests, header: http.Header{"Retry-After": {"7"}}, body: "Too many requests", class: outbound.ClassTemporary, retryAfter: 7 * time.Second},
		{name: "unavailable", status: http.StatusServiceUnavailable, class: outbound.ClassTemporary},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := &elks{t: t, status: tt.status, header: tt.header, body: tt.body, reports: make(chan error, 1)}
			srv := httptest.NewServer(e)
			defer srv.Close()
			reports := make(chan Report, 1)
			hook := httptest.NewServer(ReportHandler(func(r Report) error { reports <- r; return nil }))
			defer hook.Close()

			opt := Options{BaseURL: srv.URL, Username: "u123", Password: "secret", From: "Multikanal", Callback: func(key string) string { return hook.URL + "/sms/report?key=" + url.QueryEscape(key) }}
			if tt.name == "bad credentials" {
				opt.Password = "wrong"
			}
			m, err := New(opt).Render(invoice(), "0701234567", "F01-0001")
			if err != nil {
				t.Fatal(err)
			}
			sent, err := NewHTTP(opt).Send(context.Background(), m)
			if tt.status == http.StatusOK {
				if err != nil || sent.Ref != "s70df59406a1b4643b96f3f91e0bfb7b0" {
					t.Fatalf("Send = %+v, %v", sent, err)
				}
				select {
				case err := <-e.reports:
					if err != nil {
						t.Fatal(err)
					}
				case <-time.After(5 * time.Second):
					t.Fatal("no delivery report")
				}
				want := Report{ID: sent.Ref, Key: "F01-0001", Status: StatusDelivered, Delivered: time.Date(2026, 4, 2, 10, 10, 10, 123000000, time.UTC)}
				if got := <-reports; got != want {
					t.Errorf("report = %+v, want %+v", got, want)
				}
				return
			}
			var oe *outbound.Error
			if !errors.As(err, &oe) || oe.Class != tt.class || oe.RetryAfter != tt.retryAfter || !strings.Contains(err.Error(), tt.text) {
				t.Fatalf("err = %v (%+v), want %v with RetryAfter %v containing %q", err, oe, tt.class, tt.retryAfter, tt.text)
			}
		})
	}
}

func TestHTTPConnectionRefused(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	base := srv.URL
	srv.Close()
	m, _ := New(Options{From: "Multikanal"}).Render(invoice(), "0701234567", "K1")
	_, err := NewHTTP(Options{BaseURL: base}).Send(context.Background(), m)
	if err == nil || outbound.ClassOf(err) != outbound.ClassTemporary {
		t.Fatalf("err = %v, want temporary", err)
	}
}

func TestReportHandler(t *testing.T) {
	tests := []struct {
		name   string
		method string
		body   string
		apply  error
		status int
	}{
		{"failed report", http.MethodPost, "id=s1&status=failed", nil, http.StatusOK},
		{"no id", http.MethodPost, "status=delivered", nil, http.StatusBadRequest},
		{"unknown status", http.MethodPost, "id=s1&status=lost", nil, http.StatusBadRequest},
		{"bad timestamp", http.MethodPost, "id=s1&status=delivered&delivered=yesterday", nil, http.StatusBadRequest},
		{"bad form", http.MethodPost, "id=%zz", nil, http.StatusBadRequest},
		{"store down", http.MethodPost, "id=s1&status=delivered", errors.New("store closed"), http.StatusInternalServerError},
		{"GET", http.MethodGet, "", nil, http.StatusMethodNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, "/sms/report", strings.NewReader(tt.body))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			w := httptest.NewRecorder()
			ReportHandler(func(Report) error { return tt.apply }).ServeHTTP(w, r)
			if w.Code != tt.status {
				t.Errorf("status %d, want %d (%s)", w.Code, tt.status, w.Body)
			}
		})
	}
}

func FuzzParseReport(f *testing.F) {
	f.Add("key=K1", "id=s1&status=delivered&delivered=2026-04-02T10:10:10.123000")
	f.Add("", "id=s1&status=failed")
	f.Add("key=%zz", "id=&status=")
	f.Fuzz(func(t *testing.T, query, body string) {
		r := httptest.NewRequest(http.MethodPost, "/r", strings.NewReader(body))
		r.URL.RawQuery = query
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rep, err := ParseReport(r)
		if err == nil && (rep.ID == "" || rep.Status != StatusDelivered && rep.Status != StatusFailed && rep.Status != StatusSent) {
			t.Errorf("accepted %+v", rep)
		}
	})
}

func FuzzSplit(f *testing.F) {
	f.Add("Faktura 2018210 från Åkesson: 1 656,25 kr")
	f.Add(strings.Repeat("€", 100) + "😀")
	f.Fuzz(func(t *testing.T, text string) {
		if !utf8.ValidString(text) {
			return
		}
		parts, ucs2 := Split(text)
		if strings.Join(parts, "") != text {
			t.Fatalf("parts %q do not join to the text", parts)
		}
		limit := gsmPart
		if ucs2 {
			limit = ucs2Part
		}
		for _, p := range parts {
			n := 0
			for _, r := range p {
				if ucs2 {
					n += utf16Len(r)
				} else {
					n += septets(r)
				}
			}
			if len(parts) > 1 && n > limit {
				t.Fatalf("part %q is %d units, more than %d", p, n, limit)
			}
		}
	})
}

func utf16Len(r rune) int {
	if r > 0xFFFF {
		return 2
	}
	return 1
}

// The text says what the payment decision says: a withdrawal by AutoGiro
// names no account, OCR or payment link to pay with; a transfer never says
// AutoGiro, even when the invoice names a payer number.
func TestRenderPaymentDecision(t *testing.T) {
	withPayer := func(p *formats.Payment) *formats.Document {
		d := invoice()
		d.PaymentMeans = append([]formats.PaymentMeans{{Code: formats.MeansDirectDebit, MandateID: "4711", PaymentID: "1234567897"}}, d.PaymentMeans...)
		d.Payment = p
		return d
	}
	cases := []struct {
		name     string
		doc      *formats.Document
		link     string
		want     string
		mustNotI []string
	}{
		{"collected by AutoGiro", withPayer(&formats.Payment{Method: formats.PayMethod("autogiro"), Payer: "4711", Date: formats.Date{Year: 2026, Month: 4, Day: 30}}), "",
			"Faktura 2018210 från Åkesson & Söner AB: 1 656,25 kr. Dras via autogiro 2026-04-30, du behöver inte betala själv.", []string{"ocr", "bankgiro", "betala:"}},
		{"collected by AutoGiro, with a link to see it", withPayer(&formats.Payment{Method: formats.PayMethod("autogiro"), Payer: "4711"}), "https://b.example/f/",
			"Faktura 2018210 från Åkesson & Söner AB: 1 656,25 kr. Dras via autogiro närmaste bankdag, du behöver inte betala själv. Se https://b.example/f/k1", []string{"ocr", "betala:"}},
		{"payer number, not collected", withPayer(&formats.Payment{Method: formats.PayTransfer, Bankgiro: "5050-1055", Reference: "1234567897", Swish: "1239876543"}), "",
			"Faktura 2018210 från Åkesson & Söner AB: 1 656,25 kr, förfaller 2026-04-30. OCR 1234567897. Bankgiro 5050-1055. Swish 1239876543.", []string{"autogiro"}},
		{"payer number, no decision", withPayer(nil), "",
			"Faktura 2018210 från Åkesson & Söner AB: 1 656,25 kr, förfaller 2026-04-30. OCR 1234567897. Bankgiro 5050-1055.", []string{"autogiro"}},
		{"the tenant's plusgiro from the decision", withPayer(&formats.Payment{Method: formats.PayTransfer, Plusgiro: "4410097", Reference: "1234567897"}), "",
			"Faktura 2018210 från Åkesson & Söner AB: 1 656,25 kr, förfaller 2026-04-30. OCR 1234567897. Plusgiro 4410097.", []string{"autogiro", "5050"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := New(Options{LinkBase: c.link}).Render(c.doc, "070-123 45 67", "k1")
			if err != nil {
				t.Fatal(err)
			}
			got := form(t, m).Get("message")
			if got != c.want {
				t.Errorf("message\n got %q\nwant %q", got, c.want)
			}
			for _, w := range c.mustNotI {
				if strings.Contains(strings.ToLower(got), w) {
					t.Errorf("message mentions %q: %q", w, got)
				}
			}
		})
	}
}
