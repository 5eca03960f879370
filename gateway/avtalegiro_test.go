package gateway

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/multikanal/multikanal/formats"
	avg "github.com/multikanal/multikanal/formats/avtalegiro"
	"github.com/multikanal/multikanal/gateway/api"
	"github.com/multikanal/multikanal/gateway/receipts"
	"github.com/multikanal/multikanal/gateway/store"
)

const netsExamples = "../formats/avtalegiro/testdata/netsgiro"

// dropReceipt drops a file and waits for its final receipt.
func dropReceipt(t *testing.T, d *Daemon, n int, name string, body []byte) *api.Receipt {
	t.Helper()
	drop(t, d, name, body)
	var r *api.Receipt
	waitUntil(t, func() bool { var err error; r, err = receipts.Build(d.store, fileID(n)); return err == nil && r.Final })
	return r
}

// avtaleGiroState is a KID's AvtaleGiro mandate in the demo's registry:
// active, revoked or none, and the source of the newest registration.
func avtaleGiroState(t *testing.T, d *Daemon, kid string) (state, source string) {
	t.Helper()
	_, regs, err := d.registry.ByKey("demo", "kid:"+kid)
	if err != nil {
		t.Fatal(err)
	}
	state = "none"
	for _, r := range regs {
		if r.Channel != "avtalegiro" {
			continue
		}
		state, source = "revoked", r.Source
		if r.RevokedAt.IsZero() {
			state = "active"
		}
	}
	return state, source
}

// The embedded default's demo tenant has the AvtaleGiro agreement of
// netsgiro's example files, which are applied as they are: Nets' mandate
// notification registers its 16 mandates under their KIDs, leading zeros
// kept, a payer's refusal of Nets' notice noted; its OCR giro accounting
// data matches no invoice sent here, and says so.
func TestNetsExampleFiles(t *testing.T) {
	d := startTestDaemon(t, nil, nil)
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(netsExamples, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	r := dropReceipt(t, d, 1, "avtalegiro_agreements.txt", read("avtalegiro_agreements.txt"))
	if r.State != api.FileApplied || !strings.HasSuffix(r.Reason, "applied: 16 mandates new or changed") {
		t.Fatalf("mandates: %s: %s", r.State, r.Reason)
	}
	if state, src := avtaleGiroState(t, d, "000112000507155"); state != "active" || src != "bank file avtalegiro_agreements.txt line 3" {
		t.Errorf("KID 000112000507155: %s by %q", state, src)
	}
	if state, src := avtaleGiroState(t, d, "001006300507304"); state != "active" || !strings.Contains(src, "line 4 (the payer declined the written notice of claims)") {
		t.Errorf("KID 001006300507304 (notice N): %s by %q", state, src)
	}
	if state, _ := avtaleGiroState(t, d, "112000507155"); state != "none" {
		t.Errorf("KID 112000507155 is another KID than 000112000507155, but it is %s", state)
	}
	r = dropReceipt(t, d, 2, "ocr_giro_transactions.txt", read("ocr_giro_transactions.txt"))
	if r.State != api.FileApplied || !strings.HasSuffix(r.Reason, "applied: 20 payments not matching any invoice sent through this gateway") {
		t.Errorf("OCR giro data: %s: %s", r.State, r.Reason)
	}
	// A claim file is the biller's to Nets, not Nets' to the biller.
	r = dropReceipt(t, d, 3, "avtalegiro_payment_request.txt", read("avtalegiro_payment_request.txt"))
	if r.State != api.FileRejected || !strings.Contains(r.Reason, "a file to Nets") {
		t.Errorf("claim file: %s: %s", r.State, r.Reason)
	}
}

// Nets' full list of the payee's mandates (registration type 0) ends the
// AvtaleGiro mandates it does not name; an invoice for such a payer is
// not collected and says when and by which file the mandate ended. One on
// the list is collected: a claim in the claim file, the KID as it was
// registered.
func TestNetsFullListEndsMandates(t *testing.T) {
	d := startTestDaemon(t, nil, nil)
	const kept, ended = "000112000507155", "001006300507304"
	list := func(reg avg.Registration, kids ...string) []byte {
		a := avg.Assignment{Service: avg.ServiceAvtaleGiro, Type: avg.Mandates, Number: "0000001", Account: "99991042764"}
		for _, k := range kids {
			a.Mandates = append(a.Mandates, avg.Mandate{Registration: reg, KID: k, Notice: true})
		}
		tr := avg.Transmission{Sender: avg.NetsID, Number: "0000001", Recipient: "00010200", Assignments: []avg.Assignment{a}}
		var b bytes.Buffer
		if _, err := tr.WriteTo(&b); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	if r := dropReceipt(t, d, 1, "new.txt", list(avg.RegisteredNew, kept, ended)); r.State != api.FileApplied {
		t.Fatalf("new mandates: %s: %s", r.State, r.Reason)
	}
	r := dropReceipt(t, d, 2, "full.txt", list(avg.RegisteredAll, kept))
	if r.State != api.FileApplied || !strings.Contains(r.Reason, "1 mandates active (Nets' full list), 1 mandates ended: not on the full list") {
		t.Fatalf("full list: %s: %s", r.State, r.Reason)
	}
	if state, _ := avtaleGiroState(t, d, ended); state != "revoked" {
		t.Errorf("KID %s, not on the full list: %s", ended, state)
	}
	if state, src := avtaleGiroState(t, d, kept); state != "active" || src != "bank file full.txt line 3" {
		t.Errorf("KID %s, on the full list: %s by %q", kept, state, src)
	}

	due := formats.DateOf(time.Now().AddDate(0, 1, 0)).String()
	nok := func(number, kid string) []byte {
		body := exampleInvoices(t, number)
		for col, v := range map[string]string{"currency": "NOK", "due_date": due, "autogiro_payer_number": "", "ocr": kid} {
			body = setColumn(t, body, col, v)
		}
		return body
	}
	second := nok("2025-1002", ended)
	body := append(nok("2025-1001", kept), second[bytes.IndexByte(second, '\n')+1:]...)
	r = dropReceipt(t, d, 3, "nok.csv", body)
	waitUntil(t, func() bool {
		r, _ = receipts.Build(d.store, fileID(3))
		c := r.Documents[0].Collection
		return c != nil && c.AtBank
	})
	byNumber := map[string]api.ReceiptDocument{}
	for _, doc := range r.Documents {
		byNumber[doc.Number] = doc
	}
	if c := byNumber["2025-1001"].Collection; c.Method != "avtalegiro" || c.Payer != kept || c.State != api.PaymentScheduled {
		t.Errorf("KID %s: %+v, want scheduled by AvtaleGiro", kept, c)
	}
	if c := byNumber["2025-1002"].Collection; c == nil || c.State != api.PaymentOpen || !strings.Contains(c.Reason, "no active AvtaleGiro mandate for KID "+ended+" (the mandate was cancelled") ||
		!strings.Contains(c.Reason, "full.txt") {
		t.Errorf("KID %s: %+v, want open, the mandate ended by full.txt", ended, c)
	}
	files, _ := filepath.Glob(filepath.Join(d.dataDir, "outbox", "avtalegiro", "AVTALEGIRO.00010200.*"))
	if len(files) != 1 {
		t.Fatalf("claim files %v", files)
	}
	b, _ := os.ReadFile(files[0])
	tr, err := avg.Parse(bytes.NewReader(b))
	if err != nil || len(tr.Assignments[0].Claims) != 1 || tr.Assignments[0].Claims[0].KID != kept {
		t.Errorf("claim file: %v %+v", err, tr)
	}
	var ev []store.Event
	d.store.View(func(tx store.Tx) (err error) { ev, err = tx.Events(byNumber["2025-1001"].ID); return })
	if !strings.Contains(eventsText(ev), "collection: AvtaleGiro mandate of KID "+kept+" registered by bank file full.txt line 3") {
		t.Errorf("the history does not say how the invoice is collected: %s", eventsText(ev))
	}
}

func eventsText(ev []store.Event) string {
	var s []string
	for _, e := range ev {
		s = append(s, e.Reason)
	}
	return strings.Join(s, " | ")
}
