package gateway

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ag "github.com/multikanal/multikanal/formats/autogiro"
	"github.com/multikanal/multikanal/gateway/api"
	"github.com/multikanal/multikanal/gateway/collection"
	"github.com/multikanal/multikanal/gateway/receipts"
	"github.com/multikanal/multikanal/gateway/store"
)

// postMandates sends orders to the API and returns the status and body.
func postMandates(t *testing.T, url string, orders ...api.MandateOrderRequest) (int, string) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"orders": orders})
	resp, err := http.Post(url+"/api/v1/tenants/demo/autogiro/mandates", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return resp.StatusCode, b.String()
}

// A biller answers the mandates payers signed in their internet bank, asks
// for a new one and cancels one through the API; the orders leave as one
// sealed mandate file on the AutoGiro transport, and every order says which
// file carried it. Wrong orders are refused whole with the order and rule.
func TestMandateOrders(t *testing.T) {
	if _, err := os.Stat(autogiroExamples); err != nil {
		t.Skipf("shared test data absent: %v", err)
	}
	d := startTestDaemon(t, nil, nil)
	srv := httptest.NewServer(d.httpapi.Routes())
	defer srv.Close()

	// Four internet-bank mandates (payers 111–114) await an answer.
	body, err := os.ReadFile(filepath.Join(autogiroExamples, "autogiro_exempelfil_nya_medgivanden_via_internetbank_sv.txt"))
	if err != nil {
		t.Fatal(err)
	}
	drop(t, d, "internetbank.txt", body)
	waitUntil(t, func() bool { r, err := receipts.Build(d.store, "F0000001"); return err == nil && r.Final })

	for _, c := range []struct {
		order api.MandateOrderRequest
		want  string
	}{
		{api.MandateOrderRequest{Action: "approve", Payer: "999"}, "order 1 (payer 999): approve: no mandate signed in an internet bank awaits an answer"},
		{api.MandateOrderRequest{Action: "new", Payer: "201", Account: "3300-1212121212", PersonalID: "19121212-1213"}, "order 1 (payer 201): personal_id"},
		{api.MandateOrderRequest{Action: "new", Payer: "201", Account: "3300-1212121212"}, "needs both account and personal_id"},
		{api.MandateOrderRequest{Action: "cancel", Payer: "201", Account: "3300-1212121212"}, "account is given only with a new mandate"},
		{api.MandateOrderRequest{Action: "change", Payer: "201"}, "change: new_payer"},
		{api.MandateOrderRequest{Action: "new", Payer: "201", Account: "33-12", PersonalID: "19121212-1212"}, "a 4-digit clearing number"},
		{api.MandateOrderRequest{Action: "pause", Payer: "201"}, "one of new, approve, reject, cancel, change"},
		{api.MandateOrderRequest{Action: "cancel", Payer: "12345678901234567"}, "payer number"},
	} {
		code, got := postMandates(t, srv.URL, c.order)
		if code != http.StatusBadRequest || !strings.Contains(got, c.want) {
			t.Errorf("%+v: %d %s, want 400 with %q", c.order, code, got, c.want)
		}
	}
	// A refused batch queues nothing, the good orders before the bad one
	// included.
	if code, got := postMandates(t, srv.URL, api.MandateOrderRequest{Action: "cancel", Payer: "5"}, api.MandateOrderRequest{Action: "approve", Payer: "999"}); code != http.StatusBadRequest || !strings.Contains(got, "order 2 (payer 999)") {
		t.Errorf("mixed batch: %d %s", code, got)
	}

	orders := []api.MandateOrderRequest{
		{Action: "approve", Payer: "111"},
		{Action: "reject", Payer: "112"},
		{Action: "new", Payer: "201", Account: "3300-1212121212", PersonalID: "19121212-1212"},
		{Action: "cancel", Payer: "5551004"},
		{Action: "change", Payer: "113", NewPayer: "123"},
	}
	if code, got := postMandates(t, srv.URL, orders...); code != http.StatusOK {
		t.Fatalf("orders refused: %d %s", code, got)
	}

	// The embedded default cuts at the end of each input: the orders go out
	// at once, as one file.
	var list *collection.Orders
	waitUntil(t, func() bool {
		list, err = d.collection.ListOrders("demo")
		if err != nil || len(list.Orders) != len(orders) {
			return false
		}
		for _, o := range list.Orders {
			if o.State != store.MandateSent {
				return false
			}
		}
		return true
	})
	files, _ := filepath.Glob(filepath.Join(d.dataDir, "outbox", "autogiro", "BFEP.IAGZZ.K0471117.*"))
	if len(files) != 1 {
		t.Fatalf("autogiro outbox: %v, want one mandate file", files)
	}
	name := filepath.Base(files[0])
	for _, o := range list.Orders {
		if o.FileName != name || o.Reason != "sent to Bankgirot in file "+name {
			t.Errorf("order %s (%s %s): file %q, reason %q", o.ID, o.Action, o.Payer, o.FileName, o.Reason)
		}
	}
	sealed, _ := os.ReadFile(files[0])
	if err := ag.VerifySeal(sealed, ag.TestSealKey); err != nil {
		t.Errorf("seal: %v", err)
	}
	f, err := ag.Parse(bytes.NewReader(sealed))
	if err != nil || f.Kind != ag.KindMandateOrders {
		t.Fatalf("our mandate file: %v (%v)", err, f)
	}
	var got []string
	for _, r := range f.Records {
		m := r.(*ag.MandateRequest)
		got = append(got, strings.Join([]string{string(m.Type), m.PayerNumber, m.Account, m.PersonalID, map[bool]string{true: "AV"}[m.Reject], m.NewPayerNumber}, "/"))
	}
	want := []string{"04/111////", "04/112///AV/", "04/201/3300001212121212/191212121212//", "03/5551004////", "05/113////123"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("records:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// The registry is unchanged until Bankgirot's advice: 111 still waits.
	if list.AwaitingApproval == nil || len(list.AwaitingApproval) != 4 {
		t.Errorf("awaiting approval: %d, want the 4 until the mandate advice", len(list.AwaitingApproval))
	}
}
