package kivra

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/outbound"
)

// minimalPDF is a small valid PDF: one empty A4 page.
const minimalPDF = "%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n" +
	"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"

func fakePDF(*formats.Document) ([]byte, error) { return []byte(minimalPDF), nil }

func invoice() *formats.Document {
	return &formats.Document{
		Kind:      formats.KindInvoice,
		Number:    "2018210",
		Currency:  "SEK",
		IssueDate: formats.Date{Year: 2026, Month: 4, Day: 1},
		DueDate:   formats.Date{Year: 2026, Month: 4, Day: 30},
		Seller:    formats.Party{Name: "Åkesson & Söner AB"},
		Buyer:     formats.Party{Name: "Tolvan Tolvansson", PersonalID: "191212121212"},
		PaymentMeans: []formats.PaymentMeans{{
			Code: formats.MeansCreditTransfer, PaymentID: "1234567897",
			Account: "5050-1055", AccountScheme: formats.AccountBankgiro,
		}},
		Totals: formats.Totals{Payable: formats.MustAmount("1656.25")},
	}
}

func TestRender(t *testing.T) {
	spec := loadSpec(t)
	m, err := New(Options{PDF: fakePDF}).Render(invoice(), "19121212-1212", "F01-0001")
	if err != nil {
		t.Fatal(err)
	}
	checkContent(t, spec, m.Body)
	if m.Name != "F01-0001.json" || m.To != "191212121212" || m.ContentType != "application/json" || m.Key != "F01-0001" {
		t.Errorf("message = %+v", m)
	}
	var c content
	if err := json.Unmarshal(m.Body, &c); err != nil {
		t.Fatal(err)
	}
	want := content{
		SSN: "191212121212", Subject: "Faktura 2018210", GeneratedAt: "2026-04-01", Type: "invoice",
		Parts: []part{{Name: "faktura-2018210.pdf", Data: c.Parts[0].Data, ContentType: "application/pdf"}},
		Payment: &payment{Payable: true, Method: "1", Account: "50501055", Currency: "SEK",
			Options: []option{{DueDate: "2026-04-30", Amount: "1656.25", Type: "SE_OCR", Reference: "1234567897"}}},
	}
	if string(c.Parts[0].Data) != minimalPDF || !equalJSON(t, c, want) {
		t.Errorf("content\n got %s\nwant %+v", m.Body, want)
	}
	// The PDF goes as base64 text, and the body is compact: Kivra reads
	// no indentation, and indenting costs a pass over the whole PDF.
	if !bytes.Contains(m.Body, []byte(`"data":"`+base64.StdEncoding.EncodeToString([]byte(minimalPDF))+`"`)) {
		t.Errorf("the PDF is not in the body as base64:\n%s", m.Body)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, m.Body); err != nil || !bytes.Equal(compact.Bytes(), m.Body) {
		t.Errorf("the body is not compact JSON:\n%s", m.Body)
	}
	again, _ := New(Options{PDF: fakePDF}).Render(invoice(), "191212121212", "F01-0001")
	if !bytes.Equal(again.Body, m.Body) {
		t.Error("a second rendering differs: Kivra's duplicate control would deliver both")
	}
}

func equalJSON(t *testing.T, a, b any) bool {
	t.Helper()
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

func TestRenderCases(t *testing.T) {
	spec := loadSpec(t)
	plusgiro := invoice()
	plusgiro.PaymentMeans = []formats.PaymentMeans{{Code: "30", Account: "4 41 09-7", AccountScheme: formats.AccountPlusgiro, PaymentID: "ABC-77"}}
	noRef := invoice()
	noRef.PaymentMeans[0].PaymentID = ""
	credit := invoice()
	credit.Kind = formats.KindCreditNote
	paid := invoice()
	paid.Totals.Payable = 0
	euro := invoice()
	euro.Currency = "EUR"
	iban := invoice()
	iban.PaymentMeans = []formats.PaymentMeans{{Code: "58", Account: "SE4550000000058398257466", AccountScheme: formats.AccountIBAN}}
	noDue := invoice()
	noDue.DueDate = formats.Date{}
	// An invoice naming an AutoGiro payer number: collected when routing
	// decided so, otherwise paid in Kivra like any other.
	withPayer := func(p *formats.Payment) *formats.Document {
		d := invoice()
		d.PaymentMeans = append([]formats.PaymentMeans{{Code: formats.MeansDirectDebit, MandateID: "4711", PaymentID: "1234567897"}}, d.PaymentMeans...)
		d.Payment = p
		return d
	}
	autogiro := withPayer(&formats.Payment{Method: formats.PayMethod("autogiro"), Payer: "4711", Date: formats.Date{Year: 2026, Month: 4, Day: 30}})
	notCollected := withPayer(&formats.Payment{Method: formats.PayTransfer, Bankgiro: "5050-1055", Reference: "1234567897", Swish: "1239876543"})
	noDecision := withPayer(nil)
	tenantPlusgiro := invoice()
	tenantPlusgiro.PaymentMeans = []formats.PaymentMeans{{Code: "30", PaymentID: "1234567897"}}
	tenantPlusgiro.Payment = &formats.Payment{Method: formats.PayTransfer, Plusgiro: "441097", Reference: "1234567897"}

	tests := []struct {
		name    string
		doc     *formats.Document
		to      string
		typ     string
		method  string // payment method, "" for none
		refType string
		ref     string
		swish   string
		subject string
		err     string
	}{
		{name: "collected by AutoGiro: a letter, not payable", doc: autogiro, typ: "letter", subject: "Faktura 2018210 (autogiro)"},
		{name: "payer number, not collected: payable", doc: notCollected, typ: "invoice", method: "1", refType: "SE_OCR", ref: "1234567897", swish: "1239876543", subject: "Faktura 2018210"},
		{name: "payer number, no decision: payable", doc: noDecision, typ: "invoice", method: "1", refType: "SE_OCR", ref: "1234567897", subject: "Faktura 2018210"},
		{name: "the decision's account (the tenant's plusgiro)", doc: tenantPlusgiro, typ: "invoice", method: "2", refType: "SE_OCR", ref: "1234567897"},
		{name: "plusgiro, reference as message", doc: plusgiro, typ: "invoice", method: "2", refType: "TENANT_REF", ref: "ABC-77"},
		{name: "no reference: invoice number", doc: noRef, typ: "invoice", method: "1", refType: "TENANT_REF", ref: "2018210"},
		{name: "credit note", doc: credit, typ: "letter.creditnotice"},
		{name: "nothing to pay", doc: paid, typ: "letter"},
		{name: "euro", doc: euro, err: `currency "EUR": Kivra takes payments in SEK only`},
		{name: "IBAN only", doc: iban, err: "no bankgiro or plusgiro account"},
		{name: "no due date", doc: noDue, err: "no due date"},
		{name: "bad personnummer", doc: invoice(), to: "19121212-1213", err: "check digit is wrong"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			to := tt.to
			if to == "" {
				to = "191212121212"
			}
			m, err := New(Options{PDF: fakePDF}).Render(tt.doc, to, "K1")
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || outbound.ClassOf(err) != outbound.ClassPermanent {
					t.Fatalf("err = %v, want permanent containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			checkContent(t, spec, m.Body)
			var c content
			json.Unmarshal(m.Body, &c)
			if c.Type != tt.typ {
				t.Errorf("type %q, want %q", c.Type, tt.typ)
			}
			if tt.subject != "" && c.Subject != tt.subject {
				t.Errorf("subject %q, want %q", c.Subject, tt.subject)
			}
			if tt.method == "" && bytes.Contains(m.Body, []byte(`"payable"`)) {
				t.Errorf("a %s that is not to be paid in Kivra carries payment details:\n%s", c.Type, m.Body)
			}
			if tt.swish != "" && (c.Payment == nil || c.Payment.SwishAlias != tt.swish) {
				t.Errorf("payment %+v, want Swish alias %s", c.Payment, tt.swish)
			}
			switch {
			case tt.method == "" && c.Payment != nil:
				t.Errorf("payment %+v on a %s", c.Payment, c.Type)
			case tt.method != "" && (c.Payment == nil || c.Payment.Method != tt.method || c.Payment.Options[0].Type != tt.refType || c.Payment.Options[0].Reference != tt.ref):
				t.Errorf("payment %+v, want method %s, %s %s", c.Payment, tt.method, tt.refType, tt.ref)
			}
		})
	}
}

func TestRenderPDFSource(t *testing.T) {
	_, err := New(Options{}).Render(invoice(), "191212121212", "K1")
	if err == nil || outbound.ClassOf(err) != outbound.ClassPermanent {
		t.Fatalf("err = %v, want permanent", err)
	}
	own := invoice()
	own.Attachments = []formats.Attachment{{ID: "1", MimeCode: "application/pdf", Filename: "f.pdf", Data: []byte(minimalPDF)}}
	if m, err := New(Options{}).Render(own, "191212121212", "K1"); err != nil || !strings.Contains(string(m.Body), base64.StdEncoding.EncodeToString([]byte(minimalPDF))) {
		t.Fatalf("err = %v, want the invoice's own PDF sent", err)
	}
	// A renderer that draws nothing is refused, rather than sending
	// Kivra a content without its PDF.
	empty := func(*formats.Document) ([]byte, error) { return nil, nil }
	if _, err := New(Options{PDF: empty}).Render(invoice(), "191212121212", "K1"); err == nil || outbound.ClassOf(err) != outbound.ClassPermanent || !strings.Contains(err.Error(), "no bytes") {
		t.Fatalf("err = %v, want permanent: the renderer gave no PDF", err)
	}
	failing := func(*formats.Document) ([]byte, error) { return nil, errors.New("font missing") }
	if _, err := New(Options{PDF: failing}).Render(invoice(), "191212121212", "K1"); err == nil || !strings.Contains(err.Error(), "font missing") {
		t.Fatalf("err = %v, want the PDF renderer's error", err)
	}
}

func TestClient(t *testing.T) {
	f := newFake(t)
	now := time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)
	opt := f.options()
	opt.Now = func() time.Time { return now }
	c := NewClient(opt)
	ch := New(opt)
	ctx := context.Background()

	matched, err := c.UserMatch(ctx, []string{"191212121212", "197701032380", "198112172385"})
	if err != nil || strings.Join(matched, ",") != "191212121212,198112172385" {
		t.Fatalf("UserMatch = %v, %v", matched, err)
	}
	none, err := c.UserMatch(ctx, []string{"197701032380"})
	if err != nil || none == nil || len(none) != 0 {
		t.Fatalf("UserMatch = %#v, %v; want an empty list", none, err)
	}
	m, err := ch.Render(invoice(), "191212121212", "F01-0001")
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 2; i++ {
		sent, err := c.Send(ctx, m)
		if err != nil || sent.Ref != "15f3b2c9a1000"+string(rune('0'+i)) {
			t.Fatalf("Send = %+v, %v", sent, err)
		}
	}
	if n := f.tokenCount(); n != 1 {
		t.Errorf("%d token requests for four calls, want 1 (the token is cached)", n)
	}
	if got := f.contents[0]; got.SSN != "191212121212" || got.Payment.Options[0].Amount != "1656.25" {
		t.Errorf("Kivra got %+v", got)
	}

	t.Run("token renewed before it expires", func(t *testing.T) {
		now = now.Add(8*time.Hour - time.Minute)
		if _, err := c.Send(ctx, m); err != nil {
			t.Fatal(err)
		}
		if n := f.tokenCount(); n != 2 {
			t.Errorf("%d token requests, want 2", n)
		}
	})
	t.Run("401 renews the token once", func(t *testing.T) {
		f.revoke()
		if _, err := c.Send(ctx, m); err != nil {
			t.Fatal(err)
		}
		if n := f.tokenCount(); n != 3 {
			t.Errorf("%d token requests, want 3", n)
		}
	})
}

func TestClientErrors(t *testing.T) {
	f := newFake(t)
	c := NewClient(f.options())
	m, err := New(f.options()).Render(invoice(), "191212121212", "F01-0001")
	if err != nil {
		t.Fatal(err)
	}
	invalid := `{"code": 40044, "short_message": "Invalid OCR", "long_message": "The OCR did not pass validation"}`
	tests := []struct {
		name       string
		replies    []reply
		class      outbound.Class
		retryAfter time.Duration
		text       string
	}{
		{"429 with Retry-After", []reply{{429, http.Header{"Retry-After": {"3"}}, `{"code": 42900, "short_message": "Too Many Requests", "long_message": "Please try again later"}`}},
			outbound.ClassTemporary, 3 * time.Second, "429 Too Many Requests: 42900 Too Many Requests: Please try again later"},
		{"500", []reply{{500, nil, `{"code": 50000, "short_message": "Internal error", "long_message": "Try again"}`}},
			outbound.ClassTemporary, 0, "500 Internal Server Error"},
		{"400 keeps Kivra's text", []reply{{400, nil, invalid}},
			outbound.ClassPermanent, 0, "kivra /v2/tenant/16d2c3a9f1e0/content: 400 Bad Request: 40044 Invalid OCR: The OCR did not pass validation (x-correlation-id c0ffee)"},
		{"401 twice", []reply{{401, nil, `{"code": 40015, "short_message": "Invalid Token", "long_message": "Invalid access_token provided"}`}, {401, nil, `{"code": 40015, "short_message": "Invalid Token", "long_message": "Invalid access_token provided"}`}},
			outbound.ClassPermanent, 0, "401 Unauthorized: 40015 Invalid Token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tokens := f.tokenCount()
			f.script(tt.replies...)
			_, err := c.Send(context.Background(), m)
			var oe *outbound.Error
			if !errors.As(err, &oe) || oe.Class != tt.class || oe.RetryAfter != tt.retryAfter || !strings.Contains(err.Error(), tt.text) {
				t.Fatalf("err = %v, want %v with RetryAfter %v containing %q", err, tt.class, tt.retryAfter, tt.text)
			}
			if tt.name == "401 twice" && f.tokenCount() != tokens+1 {
				t.Errorf("%d token requests after two 401s, want exactly one more", f.tokenCount()-tokens)
			}
			// The next try goes through: nothing of the failure sticks.
			if sent, err := c.Send(context.Background(), m); err != nil || sent.Ref == "" {
				t.Fatalf("Send after the failure = %+v, %v", sent, err)
			}
		})
	}
}

func TestClientBadCredentials(t *testing.T) {
	f := newFake(t)
	opt := f.options()
	opt.ClientSecret = "wrong"
	_, err := NewClient(opt).UserMatch(context.Background(), []string{"191212121212"})
	if err == nil || outbound.ClassOf(err) != outbound.ClassPermanent || !strings.Contains(err.Error(), "40104 Invalid Client") || !strings.Contains(err.Error(), "client_secret_file") {
		t.Fatalf("err = %v, want permanent naming Kivra's error and the configuration", err)
	}
}

func TestClientUnreachable(t *testing.T) {
	f := newFake(t)
	opt := f.options()
	f.srv.Close()
	_, err := NewClient(opt).Send(context.Background(), outbound.Message{Body: []byte("{}")})
	if err == nil || outbound.ClassOf(err) != outbound.ClassTemporary {
		t.Fatalf("err = %v, want temporary", err)
	}
}
