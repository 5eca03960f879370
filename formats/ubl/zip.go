package ubl

import (
	"archive/zip"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/multikanal/multikanal/formats"
)

// ZIP limits. Sizes are enforced on the bytes actually inflated, not on what
// the archive's headers claim.
const (
	maxEntries    = 100_000
	maxEntrySize  = 100 << 20
	maxTotalSize  = 4 << 30
	maxRatio      = 200     // inflated/compressed; XML invoices rarely pass 30
	ratioFreeSize = 1 << 20 // small entries may compress as they like
)

// readZIP emits one item per file entry, in archive order. An archive whose
// directory cannot be read is an error for the whole file.
func readZIP(in formats.Input, emit func(formats.Item) error) error {
	zr, err := zip.NewReader(in.R, in.Size)
	if err != nil {
		return fmt.Errorf("ZIP archive: %w; check that the upload was complete", err)
	}
	if len(zr.File) > maxEntries {
		return fmt.Errorf("ZIP archive has %d entries, at most %d are read: split it: %w", len(zr.File), maxEntries, ErrLimit)
	}
	index := 0
	var total int64
	for _, f := range zr.File {
		if skipEntry(f) {
			continue
		}
		source := "entry " + f.Name
		doc, n, err := readEntry(f, source, maxTotalSize-total)
		total += n
		if err := emit(formats.Item{Index: index, Source: source, Doc: doc, Err: err}); err != nil {
			return err
		}
		index++
		if total >= maxTotalSize {
			return fmt.Errorf("ZIP archive inflates to more than %d bytes; the entries after %s are not read: split the archive: %w", int64(maxTotalSize), f.Name, ErrLimit)
		}
	}
	return nil
}

// skipEntry passes over directories and the metadata files that archivers
// add (__MACOSX/, .DS_Store and other dot files).
func skipEntry(f *zip.File) bool {
	if f.FileInfo().IsDir() || strings.HasSuffix(f.Name, "/") || strings.HasPrefix(f.Name, "__MACOSX") {
		return true
	}
	for _, part := range strings.Split(path.Clean(strings.ReplaceAll(f.Name, "\\", "/")), "/") {
		if strings.HasPrefix(part, ".") {
			return true
		}
	}
	return false
}

// readEntry reads one entry; n is how many bytes were inflated.
func readEntry(f *zip.File, source string, budget int64) (*formats.Document, int64, error) {
	if f.UncompressedSize64 > maxEntrySize {
		return nil, 0, fmt.Errorf("%s: %d bytes uncompressed, more than the %d a UBL document may have: %w", source, f.UncompressedSize64, maxEntrySize, ErrLimit)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", source, err)
	}
	defer rc.Close()
	lr := &inflateLimit{r: rc, max: min(int64(maxEntrySize), budget), compressed: int64(f.CompressedSize64)}
	doc, err := readDocument(lr, source)
	return doc, lr.n, err
}

// inflateLimit stops an entry that inflates past its size limit or far past
// what its compressed size suggests (a zip bomb), whatever the header says.
type inflateLimit struct {
	r          io.Reader
	n, max     int64
	compressed int64
}

func (l *inflateLimit) Read(p []byte) (int, error) {
	if int64(len(p)) > l.max-l.n+1 {
		p = p[:l.max-l.n+1]
	}
	k, err := l.r.Read(p)
	l.n += int64(k)
	if l.n > l.max {
		return k, fmt.Errorf("entry inflates to more than %d bytes: %w", l.max, ErrLimit)
	}
	if l.n > ratioFreeSize && l.n > maxRatio*max(l.compressed, 1) {
		return k, fmt.Errorf("entry inflates more than %d times its compressed size %d, which looks like a zip bomb: %w", maxRatio, l.compressed, ErrLimit)
	}
	return k, err
}
