package efaktura

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseReportExample(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "report.xml"))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := ParseReport(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	want := &Report{
		BatchID: "B20240410-0001",
		Created: time.Date(2024, 4, 10, 7, 12, 0, 0, time.UTC),
		Results: []Result{
			{Invoice: "2024-0001", Recipient: "198112189876", Status: Accepted},
			{Invoice: "2024-0002", Recipient: "10053", Status: Rejected, Code: "E-REG", Reason: "Mottagaren saknar aktiv anmälan hos fakturautställaren"},
			{Invoice: "2024-0003", Recipient: "198112189876", Status: Accepted},
		},
	}
	if !rep.Created.Equal(want.Created) {
		t.Errorf("Created = %v, want %v", rep.Created, want.Created)
	}
	rep.Created = want.Created
	if !reflect.DeepEqual(rep, want) {
		t.Errorf("ParseReport =\n%+v\nwant\n%+v", rep, want)
	}
}

func TestParseReport(t *testing.T) {
	const head = `<?xml version="1.0"?><InvoiceBatchReport xmlns="urn:multikanal:efaktura:report:1"><BatchID>B1</BatchID>`
	const tail = `</InvoiceBatchReport>`
	tests := []struct {
		name string
		in   string
		want []Result // nil with err set
		item int
		err  string
	}{
		{"empty report", head + tail, nil, 0, ""},
		{"prefixed root", `<r:InvoiceBatchReport xmlns:r="urn:multikanal:efaktura:report:1"><r:BatchID>B1</r:BatchID><r:Invoice status="accepted"><r:ID>7</r:ID></r:Invoice></r:InvoiceBatchReport>`,
			[]Result{{Invoice: "7", Status: Accepted}}, 0, ""},
		{"rejected with code only", head + `<Invoice status="rejected"><ID>7</ID><Reason code="E1"/></Invoice>` + tail,
			[]Result{{Invoice: "7", Status: Rejected, Code: "E1"}}, 0, ""},
		{"not a report", `<Invoice xmlns="urn:sfti:documents:BasicInvoice:1:0"/>`, nil, 0, "not an e-faktura report"},
		{"wrong namespace", `<InvoiceBatchReport xmlns="urn:example"/>`, nil, 0, "not an e-faktura report"},
		{"csv", "id;status\n7;accepted\n", nil, 0, "not an e-faktura report"},
		{"broken xml", head + `<Invoice status="accepted"><ID>7</ID>` + tail, nil, 0, "line 1"},
		{"no batch", `<InvoiceBatchReport xmlns="urn:multikanal:efaktura:report:1"/>`, nil, 0, "BatchID"},
		{"bad time", head + `<Created>yesterday</Created>` + tail, nil, 0, "Created"},
		{"no id", head + `<Invoice status="accepted"/>` + tail, nil, 1, "without ID"},
		{"unknown status", head + `<Invoice status="accepted"><ID>1</ID></Invoice><Invoice status="pending"><ID>2</ID></Invoice>` + tail, nil, 2, `status "pending"`},
		{"rejected without reason", head + `<Invoice status="rejected"><ID>7</ID></Invoice>` + tail, nil, 1, "without a Reason"},
		{"twice", head + `<Invoice status="accepted"><ID>7</ID></Invoice><Invoice status="rejected"><ID>7</ID><Reason>x</Reason></Invoice>` + tail, nil, 2, "reported twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := ParseReport(strings.NewReader(tt.in))
			if tt.err != "" {
				var e *Error
				if rep != nil || !errors.As(err, &e) || e.Rule != RuleReport || e.Item != tt.item || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("ParseReport = %v, %v; want an *Error for item %d containing %q", rep, err, tt.item, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if rep.BatchID != "B1" || !reflect.DeepEqual(rep.Results, tt.want) {
				t.Errorf("ParseReport = %+v, want results %+v", rep, tt.want)
			}
		})
	}
}

func TestSniffReport(t *testing.T) {
	b, _ := os.ReadFile(filepath.Join("testdata", "report.xml"))
	golden, _ := os.ReadFile(filepath.Join("testdata", "batch.golden.xml"))
	for _, tt := range []struct {
		head []byte
		want bool
	}{
		{b, true},
		{b[:200], true}, // a head is enough once the root's start tag is in it
		{b[:60], false}, // cut inside the start tag
		{golden, false}, // our own batch file is no report
		{[]byte("00240429HMAC"), false},
		{nil, false},
	} {
		if got := SniffReport(tt.head); got != tt.want {
			t.Errorf("SniffReport(%.40q) = %v, want %v", tt.head, got, tt.want)
		}
	}
}

// FuzzParseReport: ParseReport never panics, returns a report or an error
// (never both, never neither), every result it returns is complete, and it
// reads nothing SniffReport refuses.
func FuzzParseReport(f *testing.F) {
	for _, name := range []string{"report.xml", "batch.golden.xml"} {
		if b, err := os.ReadFile(filepath.Join("testdata", name)); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`<InvoiceBatchReport xmlns="urn:multikanal:efaktura:report:1"><BatchID>B</BatchID><Invoice status="rejected"><ID>1</ID><Reason code="x">y</Reason></Invoice></InvoiceBatchReport>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		rep, err := ParseReport(bytes.NewReader(b))
		if (rep == nil) == (err == nil) {
			t.Fatalf("ParseReport = %v, %v", rep, err)
		}
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("ParseReport error %v is not ErrInvalid", err)
			}
			return
		}
		if !SniffReport(b) {
			t.Fatalf("ParseReport read a report SniffReport refuses")
		}
		if rep.BatchID == "" {
			t.Fatalf("report without BatchID")
		}
		for _, r := range rep.Results {
			if r.Invoice == "" || r.Status != Accepted && r.Status != Rejected || r.Status == Rejected && r.Code == "" && r.Reason == "" {
				t.Fatalf("incomplete result %+v", r)
			}
		}
	})
}
