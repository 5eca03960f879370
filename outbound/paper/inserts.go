package paper

import (
	"archive/zip"
	"bytes"
	"fmt"
	"strings"
	"time"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/formats/pdf"
)

// addInserts writes the document's PDF attachments (BG-24) into the
// batch beside its own PDF (file), as "<file without .pdf>-bilaga-N.pdf",
// for the print house to print after the document's pages in the same
// envelope; it returns their names and pages. An attachment that is not a
// PDF cannot be printed and stays out (the e-mail and Kivra carry it).
func addInserts(zw *zip.Writer, doc *formats.Document, file string, stamp time.Time) ([]string, int, error) {
	var names []string
	pages := 0
	for _, a := range pdf.Extras(doc) {
		if !bytes.HasPrefix(a.Data, []byte("%PDF")) {
			continue
		}
		name := fmt.Sprintf("%s-bilaga-%d.pdf", strings.TrimSuffix(file, ".pdf"), len(names)+1)
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store, Modified: stamp})
		if err != nil {
			return nil, 0, err
		}
		if _, err := w.Write(a.Data); err != nil {
			return nil, 0, err
		}
		names = append(names, name)
		pages += pdf.PageCount(a.Data)
	}
	return names, pages, nil
}
