package letter

import (
	"archive/zip"
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/multikanal/multikanal/formats"
)

// archive builds a letters ZIP of files, in the order given.
func archive(t testing.TB, files ...[2]string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, f := range files {
		w, err := zw.Create(f[0])
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(f[1]))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

const pdf = "%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

func read(t *testing.T, f Format, data []byte) ([]formats.Item, error) {
	t.Helper()
	var items []formats.Item
	err := f.Read(formats.Input{Name: "letters.zip", R: bytes.NewReader(data), Size: int64(len(data))}, func(it formats.Item) error {
		items = append(items, it)
		return nil
	})
	return items, err
}

// An index row per document, its recipient's keys, its subject and the
// channels it may take; its PDF and its attachments from the archive; a
// bad row is rejected alone; a PDF no row names is listed as skipped.
func TestReadLetters(t *testing.T) {
	index := "file;kind;subject;number;name;personal_id;email;street;postal_code;city;channels;attachments\n" +
		"prices.pdf;notice;Nya priser från 1 januari;N-1;Lisa Andersson;8112189876;lisa@example.se;Storgatan 1;111 22;Stockholm;kivra|email|print;villkor.pdf\n" +
		"missing.pdf;letter;Hej;;Per Persson;;;;;;;\n" +
		"prices.pdf;memo;Hej;;Per Persson;;;;;;;\n"
	data := archive(t, [2]string{"index.csv", index}, [2]string{"prices.pdf", pdf}, [2]string{"villkor.pdf", pdf}, [2]string{"stray.pdf", pdf})
	f := Format{Channels: []string{"kivra", "email", "print"}}
	if !f.Sniff(data[:min(len(data), formats.SniffSize)]) {
		t.Fatal("the archive is not recognised")
	}
	items, err := read(t, f, data)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 4 {
		t.Fatalf("%d items, want 3 rows and 1 stray PDF", len(items))
	}
	d := items[0].Doc
	if d == nil || d.Kind != formats.KindNotice || d.Subject != "Nya priser från 1 januari" || d.Number != "N-1" || d.Buyer.PersonalID != "198112189876" ||
		d.Buyer.Address.City != "Stockholm" || strings.Join(d.Channels, ",") != "kivra,email,print" || len(d.Attachments) != 2 ||
		d.Attachments[0].MimeCode != "application/pdf" || d.Attachments[1].Filename != "villkor.pdf" {
		t.Fatalf("row 1: %+v (%v)", d, items[0].Err)
	}
	for i, want := range []string{"index.csv line 3: \"missing.pdf\" is not in the archive", "index.csv line 4: kind \"memo\""} {
		if it := items[i+1]; it.Err == nil || !strings.Contains(it.Err.Error(), want) {
			t.Errorf("item %d: %v, want %q", i+1, it.Err, want)
		}
	}
	if it := items[3]; !errors.Is(it.Err, formats.ErrSkipped) || !strings.Contains(it.Err.Error(), "stray.pdf") {
		t.Errorf("the stray PDF: %v", it.Err)
	}
}

// A Peppol ZIP (XML first) is not a letters archive; one without an
// index says what it needs.
func TestSniffAndMissingIndex(t *testing.T) {
	ubl := archive(t, [2]string{"a.xml", "<Invoice/>"})
	if (Format{}).Sniff(ubl) {
		t.Error("a ZIP of XML is taken for letters")
	}
	_, err := read(t, Format{}, archive(t, [2]string{"a.pdf", pdf}))
	if err == nil || !strings.Contains(err.Error(), "no index.csv") {
		t.Errorf("without index: %v", err)
	}
}

func FuzzRead(f *testing.F) {
	f.Add(archive(f, [2]string{"index.csv", "file;subject;name\na.pdf;S;N\n"}, [2]string{"a.pdf", pdf}))
	f.Fuzz(func(t *testing.T, data []byte) {
		Format{}.Read(formats.Input{R: bytes.NewReader(data), Size: int64(len(data))}, func(formats.Item) error { return nil })
	})
}
