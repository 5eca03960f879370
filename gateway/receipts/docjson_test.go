package receipts

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/gateway/api"
)

// fullDoc is a receipt line with every field set, down to the payments
// of its collection, s added to its strings.
func fullDoc(s string) api.ReceiptDocument {
	at := time.Date(2026, 6, 1, 9, 30, 0, 123456789, time.FixedZone("CEST", 2*3600))
	day := formats.Date{Year: 2026, Month: 6, Day: 30}
	return api.ReceiptDocument{ID: "F0000001-0000001" + s, Number: "2026-0001" + s, Kind: formats.Kind("invoice" + s), Source: "row 2 " + s,
		Buyer: "Åsa Öberg & Söner <AB> " + s, Amount: "-1250.00", Currency: "SEK", DueDate: "2026-06-30", State: api.DocState("delivered" + s),
		Channel: "email" + s, Address: "asa@example.se" + s, Output: "F0000001-0000001.email.eml" + s, Reason: "sent " + s,
		Problems: []formats.Problem{{Rule: "BR-SE-10" + s, Severity: formats.SeverityWarning, Message: "\"F-skatt\" " + s}},
		Route:    []api.RouteStep{{Channel: "peppol", Reason: "no participant " + s}, {Channel: "email", Eligible: true, Address: "a@b" + s, Reason: s}},
		Collection: &api.Collection{Method: "autogiro" + s, Payer: "4711" + s, State: api.PaymentState("paid" + s), AtBank: true,
			File: "BFEP.IAGAG" + s, Date: day, Paid: -125000, Reason: s, At: at,
			Payments: []api.Received{{Key: "k1" + s, Amount: 125000, Date: day, Source: "bgmax " + s}}},
		Opened: at.Add(time.Hour), Life: "paid" + s, Reminders: 2, Reminds: "2025-0001" + s, Received: at, Updated: at.Add(time.Minute)}
}

// allSet fails the test when a field of v is zero: a field added to a
// receipt line must be added to fullDoc, so that its encoding is compared
// too. Of a list it checks the last element.
func allSet(t *testing.T, v reflect.Value, path string) {
	t.Helper()
	switch {
	case v.Kind() == reflect.Pointer && !v.IsNil():
		allSet(t, v.Elem(), path)
	case v.Kind() == reflect.Slice && v.Len() > 0:
		allSet(t, v.Index(v.Len()-1), path)
	case v.Kind() == reflect.Struct && v.Type() != reflect.TypeFor[time.Time]() && v.Type() != reflect.TypeFor[formats.Date]():
		for i := range v.NumField() {
			allSet(t, v.Field(i), path+"."+v.Type().Field(i).Name)
		}
	case v.IsZero():
		t.Errorf("fullDoc leaves %s zero or empty", path)
	}
}

// A receipt's lines are the bytes encoding/json's MarshalIndent writes,
// whichever encoder writes them: a receipt is read by the tenant's
// programs, and a changed byte is a changed contract. Checked on the lines
// of a delivered file; on a line with every field set and all that JSON
// escapes in its strings (HTML's <, > and &, which encoding/json escapes,
// quotes, control characters, U+2028, non-ASCII, bytes that are not
// UTF-8); and on lines with zero times, empty lists, or only an id.
func TestDocJSONMatchesEncodingJSON(t *testing.T) {
	var all []byte
	for c := range 256 {
		all = append(all, byte(c))
	}
	full := fullDoc("<b>&amp;</b> \u2028\u2029 \b\f\n\r\t\x00\x1f\x7f \"q\" \\ / é 😀 \xff\xc0\xaf\xed\xa0\x80 " + string(all))
	allSet(t, reflect.ValueOf(full), "")
	empty := fullDoc("")
	empty.Problems, empty.Route, empty.Collection.Payments = []formats.Problem{}, []api.RouteStep{}, []api.Received{}
	empty.Opened, empty.Received, empty.Updated, empty.Collection.At, empty.Collection.Date = time.Time{}, time.Time{}, time.Time{}, time.Time{}, formats.Date{}
	docs := []api.ReceiptDocument{full, empty, {}, {ID: "F0000001-0000002", State: "received"}}
	at := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	for i := range 30 {
		docs = append(docs, receiptDocOf(receiptDoc("F0000001", i, at)))
	}
	for _, rd := range docs {
		want, err := json.MarshalIndent(rd, "    ", "  ")
		if err != nil {
			t.Fatal(err)
		}
		got, err := docJSON(&rd)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("line %q (%v):\n got %s\nwant %s", rd.ID, err, got, want)
		}
	}
}

// FuzzDocJSON compares the two encoders on any text in a line's strings.
func FuzzDocJSON(f *testing.F) {
	for _, s := range []string{"", "<>&", "\u2028", "\xff", "Åsa \"q\" \\ \x01", "😀"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		rd := fullDoc(s)
		want, err := json.MarshalIndent(rd, "    ", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if got, err := docJSON(&rd); err != nil || !bytes.Equal(got, want) {
			t.Errorf("%q (%v):\n got %s\nwant %s", s, err, got, want)
		}
	})
}
