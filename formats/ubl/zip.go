package ubl

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"path"
	"runtime"
	"strings"
	"sync/atomic"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/internal/ordered"
)

// ZIP limits. Sizes are enforced on the bytes actually inflated, not on what
// the archive's headers claim.
const (
	maxEntries    = 100_000
	maxEntrySize  = 100 << 20
	maxRatio      = 200     // inflated/compressed; XML invoices rarely pass 30
	ratioFreeSize = 1 << 20 // small entries may compress as they like
)

// maxTotalSize bounds what one archive inflates to (a variable for the
// tests, which hold the parallel reading to it at a small size).
var maxTotalSize int64 = 4 << 30

// readZIP emits one item per entry, in archive order: every entry is
// accounted for in the receipt. An entry is read as a document; or
// rejected with the reason (unreadable, not UBL, or a name that would
// leave the archive); or skipped with the reason (a folder, an archiver's
// metadata), as an item whose Err wraps formats.ErrSkipped. An archive
// whose directory cannot be read is an error for the whole file.
//
// The entries are inflated and parsed on every core (zipWorkers), a few
// ahead of the one emitted, and emitted in order; the results are the
// ones reading them one after the other gives, the total size limit
// included (entryBudget).
func readZIP(in formats.Input, emit func(formats.Item) error) error {
	zr, err := zip.NewReader(in.R, in.Size)
	// With GODEBUG=zipinsecurepath=0 an unsafe name fails the archive;
	// its reader is still good, and entryRule rejects that entry alone.
	if err != nil && !(errors.Is(err, zip.ErrInsecurePath) && zr != nil) {
		return fmt.Errorf("ZIP archive: %w; check that the upload was complete", err)
	}
	if len(zr.File) > maxEntries {
		return fmt.Errorf("ZIP archive has %d entries, at most %d are read: split it: %w", len(zr.File), maxEntries, ErrLimit)
	}
	var inflated atomic.Int64 // by every entry read so far, in any order
	read := func(index int) entry {
		f := zr.File[index]
		e := entry{Item: formats.Item{Index: index, Source: "entry " + f.Name}}
		if rule := entryRule(f.Name); rule != "" {
			e.Err = fmt.Errorf("%s: not read: %s", e.Source, rule)
		} else if why := skipEntry(f); why != "" {
			e.Err = fmt.Errorf("%s: %w: %s", e.Source, formats.ErrSkipped, why)
		} else {
			e.read, e.budget = true, max(0, maxTotalSize-inflated.Load())
			e.Doc, e.n, e.Err = readEntry(f, e.Source, e.budget)
			inflated.Add(e.n)
		}
		return e
	}
	var total int64 // inflated by the entries emitted, in order
	return ordered.Map(len(zr.File), ordered.Options{Workers: zipWorkers(), Ahead: 4 * zipWorkers(),
		Weight: func(i int) int64 { return entryWeight(zr.File[i]) }, MaxWeight: maxInflight},
		read, func(e entry) error {
			if e.read && !sameLimit(e, maxTotalSize-total) {
				// Read in parallel with a budget other than the one in
				// order, and the budget decided it: read it again.
				f := zr.File[e.Index]
				e.budget = maxTotalSize - total
				e.Doc, e.n, e.Err = readEntry(f, e.Source, e.budget)
			}
			total += e.n
			if err := emit(e.Item); err != nil {
				return err
			}
			if total >= maxTotalSize {
				return fmt.Errorf("ZIP archive inflates to more than %d bytes; the entries after %s are not read: split the archive: %w", maxTotalSize, zr.File[e.Index].Name, ErrLimit)
			}
			return nil
		})
}

// entry is an entry read, with what it took of the total size limit.
type entry struct {
	formats.Item
	read   bool  // inflated (not rejected or skipped by its name)
	budget int64 // of the total limit, when it was read
	n      int64 // bytes inflated
}

// sameLimit reports whether reading e with the total budget left in
// archive order would have ended as reading it with e.budget did: the
// entry's limit is the same, or the entry ended within both limits.
func sameLimit(e entry, budget int64) bool {
	used, exact := min(int64(maxEntrySize), e.budget), min(int64(maxEntrySize), budget)
	return used == exact || e.n <= min(used, exact)
}

// zipWorkers is how many entries are read at once: one per core.
var zipWorkers = runtime.NumCPU

// maxInflight bounds what the entries read ahead may hold (entryWeight):
// more than a few megabytes in flight only when one large entry is read
// alone.
const maxInflight = 16 << 20

// entryWeight is the most an entry can inflate to: its limit, or what its
// compressed size allows (inflateLimit stops it there).
func entryWeight(f *zip.File) int64 {
	return min(int64(maxEntrySize), max(int64(ratioFreeSize), int64(f.CompressedSize64)*maxRatio))
}

// entryRule returns the rule an entry's name breaks, or "". The name is
// never used as a path here, but one that would leave the folder it is
// unpacked into (zip slip) is a mistake or an attack, and the ERP must
// hear of it rather than have the entry read or pass unseen.
func entryRule(name string) string {
	const rule = "an entry name must be a relative path inside the archive: " +
		"no leading '/', no drive letter (PKWARE APPNOTE.TXT 6.3.10, section 4.4.17.1) and no '..' that leaves it"
	n := strings.ReplaceAll(name, "\\", "/")
	clean := path.Clean(n)
	switch {
	case name == "":
		return "the entry has no name; " + rule
	case strings.HasPrefix(n, "/"):
		return "the name starts with '/'; " + rule
	case len(n) >= 2 && n[1] == ':':
		return "the name starts with a drive letter; " + rule
	case clean == ".." || strings.HasPrefix(clean, "../"):
		return "the name leaves the archive with '..'; " + rule
	case strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return "the name holds control characters; " + rule
	}
	return ""
}

// skipEntry says why an entry holds no document, or "": a folder, or the
// metadata that archivers add (__MACOSX/, .DS_Store and other dot files).
func skipEntry(f *zip.File) string {
	if f.FileInfo().IsDir() || strings.HasSuffix(f.Name, "/") {
		return "a folder entry, which holds no document"
	}
	clean := path.Clean(strings.ReplaceAll(f.Name, "\\", "/"))
	if clean == "__MACOSX" || strings.HasPrefix(clean, "__MACOSX/") {
		return "macOS metadata (__MACOSX), not a document"
	}
	for _, part := range strings.Split(clean, "/") {
		if strings.HasPrefix(part, ".") {
			return "a hidden file (" + part + "), as archivers add, not a document"
		}
	}
	return ""
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
