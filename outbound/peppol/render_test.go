package peppol_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/formats/csv"
	"github.com/multikanal/multikanal/formats/ubl"
	"github.com/multikanal/multikanal/formats/ubl/ubltest"
	"github.com/multikanal/multikanal/outbound"
	"github.com/multikanal/multikanal/outbound/peppol"
)

const validationDir = "../../../shared/reference/validation"

// peppolInputs are the documents the channel would send: the official
// Peppol examples and the Peppol invoices of the CSV example.
func peppolInputs(t *testing.T) map[string]*formats.Document {
	docs := map[string]*formats.Document{}
	files, _ := filepath.Glob("../../../shared/testdata/peppol/openpeppol-examples/*.xml")
	if len(files) == 0 {
		t.Skip("shared test data absent: ../shared/testdata/peppol")
	}
	read := func(r formats.Reader, name string, b []byte) {
		err := r.Read(formats.Input{Name: name, R: bytes.NewReader(b), Size: int64(len(b))}, func(it formats.Item) error {
			if it.Err != nil {
				t.Fatalf("%s: %v", name, it.Err)
			}
			if ok := peppol.New().Eligible(it.Doc, outbound.NoRegistry{}).OK; ok {
				docs[name+"#"+it.Doc.Number] = it.Doc
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range files {
		b, _ := os.ReadFile(f)
		read(ubl.Format{}, filepath.Base(f), b)
	}
	b, err := os.ReadFile("../../examples/invoices.csv")
	if err != nil {
		t.Fatal(err)
	}
	read(csv.Format{}, "invoices.csv", b)
	if len(docs) < 10 {
		t.Fatalf("only %d Peppol-eligible documents", len(docs))
	}
	return docs
}

// What leaves on Peppol is an SBD whose UBL passes the official EN 16931
// and Peppol BIS 3 validation with no failed assert (no fatal one for Peppol).
func TestRenderedSBDPassesOfficialValidation(t *testing.T) {
	docs := peppolInputs(t)
	v := ubltest.New(t, validationDir)
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	os.Mkdir(in, 0o755)
	ch := peppol.New()
	i := 0
	for name, doc := range docs {
		i++
		key := "F0000001-" + strings.Repeat("0", 6) + string(rune('0'+i%10)) + ".peppol"
		m, err := ch.Render(doc, "", key)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var sbd struct {
			Header struct {
				Sender   string `xml:"Sender>Identifier"`
				Receiver string `xml:"Receiver>Identifier"`
				Instance string `xml:"DocumentIdentification>InstanceIdentifier"`
				Scopes   []struct {
					Type string `xml:"Type"`
					ID   string `xml:"InstanceIdentifier"`
				} `xml:"BusinessScope>Scope"`
			} `xml:"StandardBusinessDocumentHeader"`
		}
		if err := xml.Unmarshal(m.Body, &sbd); err != nil {
			t.Fatalf("%s: the SBD is not XML: %v", name, err)
		}
		if sbd.Header.Receiver != doc.Buyer.Endpoint.String() || sbd.Header.Instance != key || sbd.Header.Sender == "" || len(sbd.Header.Scopes) < 2 {
			t.Errorf("%s: header %+v", name, sbd.Header)
		}
		// The UBL inside reads back as the same invoice.
		var back *formats.Document
		ubl.Format{}.Read(formats.Input{Name: name, R: bytes.NewReader(m.Body), Size: int64(len(m.Body))}, func(it formats.Item) error {
			back = it.Doc
			return it.Err
		})
		if back == nil || back.Number != doc.Number || back.Totals.Payable != doc.Totals.Payable {
			t.Fatalf("%s: the SBD does not read back as the invoice", name)
		}
		start := bytes.Index(m.Body, []byte("<Invoice"))
		if start < 0 {
			start = bytes.Index(m.Body, []byte("<CreditNote"))
		}
		end := bytes.LastIndex(m.Body, []byte("</StandardBusinessDocument>"))
		os.WriteFile(filepath.Join(in, strings.NewReplacer("#", "_", "/", "_").Replace(name)+".xml"), m.Body[start:end], 0o644)
	}
	for _, x := range []string{ubltest.EN16931, ubltest.Peppol} {
		out := filepath.Join(dir, x)
		if err := v.TransformDir(x, in, out); err != nil {
			t.Fatal(err)
		}
		reports, _ := os.ReadDir(out)
		for _, r := range reports {
			flag := ""
			if x == ubltest.Peppol {
				flag = "fatal"
			}
			if failed := ubltest.FailedAsserts(t, filepath.Join(out, r.Name()), flag); len(failed) > 0 {
				t.Errorf("%s: %s failed asserts: %v", r.Name(), x, failed)
			}
		}
		if len(reports) != len(docs) {
			t.Errorf("%s: %d reports for %d documents", x, len(reports), len(docs))
		}
	}
	t.Logf("%d documents rendered as SBD; EN 16931 and Peppol BIS 3 validation passed", len(docs))
}

// The access point transport posts the SBD to /sendsbdh with the token and
// classifies the answers.
func TestAccessPoint(t *testing.T) {
	cases := []struct {
		status int
		class  outbound.Class
		ok     bool
	}{
		{200, 0, true},
		{400, outbound.ClassPermanent, false},
		{404, outbound.ClassPermanent, false},
		{429, outbound.ClassTemporary, false},
		{503, outbound.ClassTemporary, false},
	}
	for _, c := range cases {
		var got []byte
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodPost || r.URL.Path != "/sendsbdh" || r.Header.Get("X-Token") != "secret" {
				http.Error(w, "wrong request", http.StatusTeapot)
				return
			}
			got, _ = io.ReadAll(r.Body)
			w.Header().Set("Retry-After", "3")
			w.WriteHeader(c.status)
			io.WriteString(w, `{"success":false,"errors":["unknown receiver"]}`)
		}))
		ap := &peppol.AccessPoint{BaseURL: srv.URL, Token: "secret"}
		sent, err := ap.Send(context.Background(), outbound.Message{Key: "k1", Body: []byte("<sbd/>")})
		srv.Close()
		if c.ok {
			if err != nil || sent.Ref == "" || string(got) != "<sbd/>" {
				t.Errorf("%d: %v %+v body %q", c.status, err, sent, got)
			}
			continue
		}
		if err == nil || outbound.ClassOf(err) != c.class || !strings.Contains(err.Error(), "unknown receiver") {
			t.Errorf("%d: err %v, want class %v with the access point's answer", c.status, err, c.class)
		}
	}
	ap := &peppol.AccessPoint{BaseURL: "http://127.0.0.1:1", Token: "x"}
	if _, err := ap.Send(context.Background(), outbound.Message{Body: []byte("x")}); outbound.ClassOf(err) != outbound.ClassTemporary {
		t.Errorf("access point down: %v, want temporary", err)
	}
}
