package autogiro

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzParse feeds arbitrary bytes to Parse, seeded with Bankgirot's example
// files. Parse must never panic, must return a file or an *Error (never
// both, never neither), and a file it reads must be one Sniff recognises.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(exampleDir, "*.txt"))
	if len(files) == 0 {
		f.Log("Bankgirot's example files are absent from " + exampleDir + "; fuzzing from the corpus in testdata/fuzz only")
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := Parse(bytes.NewReader(b))
		Sniff(b)
		if err != nil {
			var e *Error
			if file != nil || !errors.As(err, &e) {
				t.Fatalf("Parse = %v, %v", file, err)
			}
			return
		}
		// A report may have no records (a mandate advice without news), but
		// every file has a section.
		if file.Kind == KindUnknown || len(file.Sections) == 0 {
			t.Fatalf("Parse returned a file of kind %v with %d sections", file.Kind, len(file.Sections))
		}
		if !Sniff(b) {
			t.Fatalf("Parse read a file Sniff does not recognise")
		}
		n := 0
		for _, s := range file.Sections {
			n += len(s.Records)
		}
		if n != len(file.Records) {
			t.Fatalf("sections hold %d records, the file %d", n, len(file.Records))
		}
	})
}

// FuzzSeal checks that whatever is sealed verifies.
func FuzzSeal(f *testing.F) {
	f.Add([]byte("0120080611AUTOGIRO\r\n"))
	f.Add([]byte("ÅÄÖ\tå\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		sealed, err := Seal(b, testKey, time.Date(2024, 4, 29, 0, 0, 0, 0, time.UTC))
		if err != nil {
			return
		}
		if err := VerifySeal(sealed, testKey); err != nil {
			t.Fatalf("VerifySeal of a fresh seal: %v", err)
		}
	})
}
