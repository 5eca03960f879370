package recipients

import (
	"errors"
	"strings"
	"testing"
	"time"
)

var now = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

// channels are the channels the tests' files may name, as the gateway
// passes its registered distribution channels.
var channels = []Channel{{"peppol", "peppol", nil}, {"efaktura", "pnr", nil}, {"kivra", "pnr", nil}, {"email", "email", nil}, {"sms", "mobile", nil}, {"print", "", nil},
	{"fv", "", func(a string) error {
		if !strings.Contains(a, "@") {
			return errors.New("write ADDRESS@INTERMEDIATOR")
		}
		return nil
	}}}

func TestParse(t *testing.T) {
	in := "\ufeffkey;channel;address;valid_from;action\n" +
		"pnr:19811218-9876;efaktura;;2026-03-02;add\n" +
		"customer:00010053;email;Anna@Example.se;;\n" +
		"mobile:070-123 45 67;sms;;;\n" +
		"email:old@example.se;email;;;revoke\n" +
		"customer:7;fv;003712345678@OKOYFIHH;;\n" +
		";;;;\n"
	rows, err := Parse(strings.NewReader(in), now, channels)
	if err != nil {
		t.Fatal(err)
	}
	want := []Row{
		{Line: 2, KeyType: "pnr", Key: "198112189876", Channel: "efaktura", ValidFrom: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)},
		{Line: 3, KeyType: "customer", Key: "10053", Channel: "email", Address: "Anna@Example.se"},
		{Line: 4, KeyType: "mobile", Key: "+46701234567", Channel: "sms"},
		{Line: 5, KeyType: "email", Key: "old@example.se", Channel: "email", Revoke: true},
		{Line: 6, KeyType: "customer", Key: "7", Channel: "fv", Address: "003712345678@OKOYFIHH"},
	}
	if len(rows) != len(want) {
		t.Fatalf("%d rows, want %d: %+v", len(rows), len(want), rows)
	}
	for i := range want {
		if rows[i] != want[i] {
			t.Errorf("row %d: %+v, want %+v", i, rows[i], want[i])
		}
	}
	commas, err := Parse(strings.NewReader("key,channel\norgnr:556743-2108,print\n"), now, channels)
	if err != nil || len(commas) != 1 || commas[0].Key != "5567432108" {
		t.Errorf("comma file: %v %+v", err, commas)
	}
}

// A file with bad lines applies nothing and names every bad line.
func TestParseListsEveryBadLine(t *testing.T) {
	in := "key;channel;address\n" +
		"pnr:198112189875;efaktura;\n" + // check digit
		"foo:1;email;\n" + // key type
		"customer:7;fax;\n" + // channel
		"customer:7;email;\n" + // no address
		"customer:7;email;anna.example.se\n" + // not an e-mail address
		"customer:7;kivra;19811218987\n" + // not a personnummer
		"customer:7;fv;\n" + // no address, and no key is one
		"customer:7;fv;FI4819503000000010\n" + // the channel's check refuses it
		"pnr:198112189876;efaktura;\n" // good
	rows, err := Parse(strings.NewReader(in), now, channels)
	var pe *Error
	if !errors.As(err, &pe) || rows != nil {
		t.Fatalf("err %v rows %v", err, rows)
	}
	var lines []int
	for _, l := range pe.Lines {
		lines = append(lines, l.Line)
	}
	if len(lines) != 8 || lines[0] != 2 || lines[7] != 9 {
		t.Errorf("bad lines %v, want 2..9; %v", lines, err)
	}
	for _, want := range []string{"line 8: fv needs an address: give it in the address column;", `line 9: fv: address "FI4819503000000010": write ADDRESS@INTERMEDIATOR`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%v\nwant it to say %q", err, want)
		}
	}
	for _, bad := range []string{"", "name;channel\n", "key;key;channel\n", "channel\nemail\n"} {
		if _, err := Parse(strings.NewReader(bad), now, channels); err == nil {
			t.Errorf("header %q accepted", bad)
		}
	}
}

func TestSniff(t *testing.T) {
	for head, want := range map[string]bool{"key;channel;address\n": true, "\ufeffKey,Channel\n": true, "type;invoice_number\n": false, "<Invoice": false} {
		if Sniff([]byte(head)) != want {
			t.Errorf("Sniff(%q) != %v", head, want)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add("key;channel;address;valid_from;action\npnr:198112189876;efaktura;;2026-03-02;add\n")
	f.Add("key,channel\ncustomer:1,email\n")
	f.Add("key;channel\n\"unterminated;email\n")
	f.Fuzz(func(t *testing.T, in string) {
		rows, err := Parse(strings.NewReader(in), now, channels)
		if err == nil {
			for _, r := range rows {
				if r.Key == "" || r.Channel == "" || r.Line < 2 {
					t.Fatalf("row without key, channel or line: %+v", r)
				}
			}
		}
	})
}

// A KID keeps its leading zeros (0000123455 and 123455 are two KIDs); a
// customer number loses them, as AutoGiro pads payer numbers.
func TestNormaliseKID(t *testing.T) {
	now := time.Now()
	for _, c := range []struct{ typ, in, want, err string }{
		{"kid", "0000123455", "0000123455", ""},
		{"kid", " 0412 345- ", "0412345-", ""},
		{"kid", "1", "", "2 to 25 digits"},
		{"kid", "12a4", "", "2 to 25 digits"},
		{"kid", "12-4", "", "2 to 25 digits"},
		{"customer", "0000123455", "123455", ""},
	} {
		got, err := NormaliseKey(c.typ, c.in, now)
		if got != c.want || (err == nil) != (c.err == "") || err != nil && !strings.Contains(err.Error(), c.err) {
			t.Errorf("NormaliseKey(%s, %q) = %q, %v; want %q, %q", c.typ, c.in, got, err, c.want, c.err)
		}
	}
}
