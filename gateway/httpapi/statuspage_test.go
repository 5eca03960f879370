package httpapi

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/multikanal/multikanal/gateway/api"
	"github.com/multikanal/multikanal/gateway/store"
)

// TestStatusPageHourly checks the 24 h series against a store with one
// delivered invoice and one rejected file.
func TestStatusPageHourly(t *testing.T) {
	s, st, _ := testServer(t, nil)
	now := time.Now().UTC()
	err := st.Update(func(tx store.Tx) error {
		if err := tx.PutFile(&store.File{ID: "F0000001", Tenant: "demo", Name: "base-example.xml", ReceivedAt: now,
			State: store.FileParsed, Docs: 1, Final: true}); err != nil {
			return err
		}
		return tx.PutDoc(&store.Doc{ID: "F0000001-0000000", FileID: "F0000001", Tenant: "demo", State: store.DocDelivered,
			Channel: "peppol", Created: now, Updated: now})
	})
	if err != nil {
		t.Fatal(err)
	}
	hs, err := s.hourly(time.Now().Add(-(chartHours - 1) * time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	last := hs.Hours - 1
	if hs.Hours != chartHours || hs.Files[last] != 1 || hs.Delivered["peppol"][last] != 1 {
		t.Errorf("hours %d, files %v, delivered %v", hs.Hours, hs.Files, hs.Delivered)
	}
	if len(hs.Recent) != 1 || hs.Recent[0].Delivered() != 1 {
		t.Errorf("recent %+v", hs.Recent)
	}
	rec := httptest.NewRecorder()
	s.Routes().ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Header().Get("Content-Security-Policy"), "default-src 'none'") {
		t.Errorf("status %d, headers %v", rec.Code, rec.Header())
	}
	body := rec.Body.String()
	for _, ref := range []string{`src="http`, `href="http`, `href="//`, `url(http`, `url(//`, "<script"} {
		if strings.Contains(body, ref) {
			t.Errorf("the page holds %s: it must fetch nothing and need no script", ref)
		}
	}
}

// The status reads only what it shows: the counts per file state, the open
// files, and the newest files back to the start of the series. A store
// with many older files gives the same page.
func TestStatusReadsTheNewestFiles(t *testing.T) {
	s, st, _ := testServer(t, nil)
	now := time.Now().UTC()
	err := st.Update(func(tx store.Tx) error {
		for i := 1; i <= 40; i++ {
			// Older files are large: their documents are not read.
			f := &store.File{ID: fmt.Sprintf("F%07d", i), Tenant: "demo", Name: fmt.Sprintf("old-%d.csv", i),
				ReceivedAt: now.Add(-72 * time.Hour), State: store.FileParsed, Final: true, Docs: maxOlderFileDocs + 1}
			switch {
			case i > 37: // the last three arrived within the series
				f.ReceivedAt = now.Add(-time.Duration(41-i) * time.Hour)
			case i%10 == 0:
				f.State = store.FileRejected
			}
			if i == 39 {
				f.Final = false // still being delivered
			}
			if err := tx.PutFile(f); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	status, err := s.Status()
	if err != nil {
		t.Fatal(err)
	}
	if status.Files[api.FileParsed] != 37 || status.Files[api.FileRejected] != 3 || status.FilesOpen != 1 {
		t.Errorf("files %v, %d open; want 37 parsed, 3 rejected, 1 open", status.Files, status.FilesOpen)
	}
	hs, err := s.hourly(now.Add(-(chartHours - 1) * time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(hs.Recent) != maxRecentFiles || hs.Recent[0].ID != "F0000040" || hs.Recent[maxRecentFiles-1].ID != "F0000026" {
		t.Fatalf("recent files: %d, from %s to %s; want %d from F0000040 to F0000026", len(hs.Recent),
			hs.Recent[0].ID, hs.Recent[len(hs.Recent)-1].ID, maxRecentFiles)
	}
	inSeries := 0
	for _, n := range hs.Files {
		inSeries += n
	}
	if inSeries != 3 || hs.Recent[2].Docs == nil || hs.Recent[3].Docs != nil {
		t.Errorf("%d files in the series, want the 3 newest (only their documents read)", inSeries)
	}
}
