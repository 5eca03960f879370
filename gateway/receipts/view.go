package receipts

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"path"
	"regexp"
	"strings"
	"syscall"
	"unicode/utf8"

	"github.com/multikanal/multikanal/gateway/api"
	"github.com/multikanal/multikanal/gateway/store"
)

// What a tenant sees of its files: the receipts' names, and texts that
// never show the daemon's file system.

const (
	// nameMax is NAME_MAX of Linux file systems (ext4, xfs, btrfs): the
	// longest name a folder entry may have, in bytes.
	nameMax = 255
	// receiptSuffix ends every receipt's name.
	receiptSuffix = ".receipt.json"
)

// endsLikeFileID matches a name ending the way an id-qualified receipt
// name does before its suffix (".F0000042"). Such a name never gets the
// plain form: "x.F0000042.receipt.json" is kept for file F0000042 named x.
var endsLikeFileID = regexp.MustCompile(`\.F[0-9]+$`)

// receiptNames are the two names a file's receipt may have:
//
//   - plain, "<name>.receipt.json", when it fits in NAME_MAX and the name
//     does not end like a file id; "" otherwise;
//   - qualified, "<name>.<file id>.receipt.json", with the name cut (at a
//     character boundary) so that the whole fits in NAME_MAX.
//
// A file id holds no dot, so a qualified name names its file's id as its
// last part and can never be another file's qualified or plain name: the
// qualified names need no check that they are free.
func receiptNames(name, fileID string) (plain, qualified string) {
	if len(name)+len(receiptSuffix) <= nameMax && !endsLikeFileID.MatchString(name) {
		plain = name + receiptSuffix
	}
	tail := "." + fileID + receiptSuffix
	return plain, cutName(name, nameMax-len(tail)) + tail
}

// cutName shortens s to at most n bytes without splitting a UTF-8
// character.
func cutName(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// receiptOwner reads which file a receipt on disk belongs to: the
// "file_id" near its start. It reads at most 16 KiB (a file's name is at
// most 255 bytes, 1,530 once escaped in JSON).
func receiptOwner(p string) (string, error) {
	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return "", err
	}
	defer f.Close()
	dec := json.NewDecoder(io.LimitReader(f, 16<<10))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return "", fmt.Errorf("%s is not a receipt", p)
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return "", fmt.Errorf("%s is not a receipt: %w", p, err)
		}
		if key == "file_id" {
			var id string
			if err := dec.Decode(&id); err != nil {
				return "", fmt.Errorf("%s is not a receipt: %w", p, err)
			}
			return id, nil
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return "", fmt.Errorf("%s is not a receipt: %w", p, err)
		}
	}
	return "", fmt.Errorf("%s names no file", p)
}

// tenantRef is what a tenant sees of a delivery's reference: the base name
// of a file the gateway wrote (the spool transport's path, an SFTP URL),
// else the receiver's own reference (a message id, a Peppol key).
func tenantRef(ref string) string {
	if strings.HasPrefix(ref, "/") {
		return path.Base(ref)
	}
	if strings.HasPrefix(ref, "sftp://") || strings.HasPrefix(ref, "file://") {
		if u, err := url.Parse(ref); err == nil && u.Path != "" {
			return path.Base(u.Path)
		}
	}
	return ref
}

// tenantText replaces the server paths in a text meant for a tenant (a
// reason, an error) with their base names: "spool: writing
// /var/lib/multikanal/outbox/email/x.eml: no space left" becomes "spool:
// writing x.eml: no space left". A path is a word that starts with "/" and
// has at least two parts, or an sftp:// or file:// URL; "/inbox", a
// tenant's own SFTP folder, stays.
func tenantText(s string) string {
	if !strings.Contains(s, "/") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if i == 0 || strings.IndexByte(" \t\n\"'([=<,", s[i-1]) >= 0 {
			if j := pathEnd(s, i); j > i {
				if base, ok := serverPath(s[i:j]); ok {
					b.WriteString(base)
					i = j
					continue
				}
			}
		}
		b.WriteByte(s[i])
		i++
	}
	return b.String()
}

// pathEnd is where a word starting at i ends: at blank space, a quote or
// bracket, or a ':', ';', ',' or '.' that ends a clause.
func pathEnd(s string, i int) int {
	j := i
	for ; j < len(s); j++ {
		c := s[j]
		if strings.IndexByte(" \t\n\"')]>", c) >= 0 {
			break
		}
		if strings.IndexByte(":;,.", c) >= 0 && (j+1 == len(s) || s[j+1] == ' ' || s[j+1] == '\n') {
			break
		}
	}
	return j
}

// serverPath returns the base name of a word that is a server path.
func serverPath(w string) (string, bool) {
	switch {
	case strings.HasPrefix(w, "sftp://"), strings.HasPrefix(w, "file://"):
		return tenantRef(w), true
	case strings.HasPrefix(w, "/inbox/"), strings.HasPrefix(w, "/receipts/"):
		return "", false // the tenant's own SFTP folders
	case strings.HasPrefix(w, "/") && strings.Count(w, "/") >= 2:
		base := path.Base(w)
		if base == "/" || base == "." {
			return "…", true
		}
		return base, true
	}
	return "", false
}

// DocOf is a document as its tenant may see it: the record without server
// paths in its output, reasons, route and collection.
func DocOf(d *store.Doc) *api.Doc {
	out := &api.Doc{ID: d.ID, FileID: d.FileID, Tenant: d.Tenant, Index: d.Index, Source: d.Source, Kind: d.Kind, Number: d.Number,
		Buyer: d.Buyer, Currency: d.Currency, Amount: d.Amount, DueDate: d.DueDate, State: api.DocState(d.State), Channel: d.Channel,
		Address: d.Address, Reason: tenantText(d.Reason), Problems: d.Problems, Route: routeOf(d.Route), Tried: d.Tried,
		Output: tenantRef(d.Output), Collection: collectionOf(d.Collection), Payment: collectionOf(d.Payment()), Opened: d.Opened, Created: d.Created, Updated: d.Updated, Events: d.Events,
		Resends: d.Resends, SentSHA256: d.SentSHA256, Keys: d.Keys, Summarised: d.Summarised, Anonymised: d.Anonymised}
	if a := d.Ack; a != nil {
		out.Ack = &api.Ack{At: a.At, By: a.By, Why: a.Why}
	}
	return withLife(out, d)
}

// routeOf is a route without server paths in its reasons.
func routeOf(steps []store.RouteStep) []api.RouteStep {
	if steps == nil {
		return nil
	}
	out := make([]api.RouteStep, len(steps))
	for i, s := range steps {
		out[i] = api.RouteStep{Channel: s.Channel, Eligible: s.Eligible, Address: s.Address, Reason: tenantText(s.Reason)}
	}
	return out
}

// collectionOf is a payment without server paths in its file and reason.
func collectionOf(c *store.Collection) *api.Collection {
	if c == nil {
		return nil
	}
	out := &api.Collection{Method: c.Method, Payer: c.Payer, State: api.PaymentState(c.State), AtBank: c.AtBank, File: tenantRef(c.File),
		Date: c.Date, Paid: c.Paid, Reason: tenantText(c.Reason), At: c.At}
	for _, p := range c.Payments {
		out.Payments = append(out.Payments, api.Received{Key: p.Key, Amount: p.Amount, Date: p.Date, Source: p.Source})
	}
	return out
}

// fileOf is an input file as its tenant may see it: not where it is on
// the server.
func fileOf(f *store.File) *api.File {
	return &api.File{ID: f.ID, Tenant: f.Tenant, Name: f.Name, SHA256: f.SHA256, Size: f.Size, ReceivedAt: f.ReceivedAt,
		State: api.FileState(f.State), Reason: tenantText(f.Reason), Format: f.Format, Docs: f.Docs, DuplicateOf: f.DuplicateOf,
		Final: f.Final, FinalAt: f.FinalAt, Receipt: f.Receipt, Refused: f.Refused, InputRemoved: f.InputRemoved,
		PayloadsRemoved: f.PayloadsRemoved, ReceiptRemoved: f.ReceiptRemoved, ArchiveEnded: f.ArchiveEnded}
}

// deliveryOf is a delivery as its tenant may see it: the base name of
// what it wrote, and its error without server paths.
func deliveryOf(dl *store.Delivery) *api.Delivery {
	return &api.Delivery{ID: dl.ID, DocID: dl.DocID, Tenant: dl.Tenant, Channel: dl.Channel, To: dl.To, Collection: dl.Collection,
		State: string(dl.State), Batched: dl.Batched, BatchID: dl.BatchID, Attempts: dl.Attempts, NextAt: dl.NextAt,
		ConfirmBy: dl.ConfirmBy, Confirmed: dl.Confirmed, OpenBy: dl.OpenBy, Opened: dl.Opened, LastError: tenantText(dl.LastError), Ref: tenantRef(dl.Ref),
		Created: dl.Created, Updated: dl.Updated}
}
