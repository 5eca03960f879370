package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/multikanal/multikanal/config"
	"github.com/multikanal/multikanal/formats/recipients"
	"github.com/multikanal/multikanal/gateway/store"
)

// Erasure of a person's data on request (GDPR art. 17), within what
// Bokföringslagen requires the biller to keep (art. 17.3 b). A person is
// named by one of their recipient keys within one tenant. What goes: every
// final document's payload (body, history, deliveries, outbox file of its
// own), the name, address, route and key pseudonyms in its summary, its
// payment references, the registry entries under the key, and the personal
// fields of the mandate orders already sent. What stays is said in the
// report: the summaries as bookkeeping facts (number, amount, dates,
// state, channel, hash of what was sent); an input file that is the
// biller's archive copy or holds others' invoices too; batch files holding
// others' invoices (until payload retention); documents still on their
// way. docs/retention.md explains.

// EraseRequest asks for an erasure.
type EraseRequest struct {
	// Key is TYPE:VALUE: pnr, customer, orgnr, peppol, email or mobile
	// (phone is taken for mobile).
	Key string `json:"key"`
	// DryRun reports what would be removed and changes nothing.
	DryRun bool `json:"dry_run"`
	// By names who asks, for the audit line (the CLI sends its user).
	By string `json:"by"`
}

// EraseReport is what an erasure removed (or would), and what it kept.
type EraseReport struct {
	Tenant string `json:"tenant"`
	// Key is the key as normalised; it is shown to the operator who
	// asked, never written to the audit log.
	Key    string `json:"key"`
	DryRun bool   `json:"dry_run"`
	// Documents are the documents whose personal data goes.
	Documents     []ErasedDoc   `json:"documents"`
	Registrations int           `json:"registrations"`
	MandateOrders int           `json:"mandate_orders"`
	Store         store.Removed `json:"store"`
	OutboxFiles   int           `json:"outbox_files"`
	InputFiles    int           `json:"input_files"`
	Receipts      int           `json:"receipts_rewritten"`
	// Kept is what stays, each with why and until when.
	Kept []KeptItem `json:"kept"`
	// Error is why the erasure stopped part way, if it did.
	Error string `json:"error,omitempty"`
}

// ErasedDoc is one document an erasure reaches.
type ErasedDoc struct {
	ID      string         `json:"id"`
	File    string         `json:"file"`
	Number  string         `json:"number,omitempty"`
	State   store.DocState `json:"state"`
	Channel string         `json:"channel,omitempty"`
}

// KeptItem is something an erasure leaves, and why.
type KeptItem struct {
	What  string    `json:"what"`
	Why   string    `json:"why"`
	Until time.Time `json:"until,omitzero"`
}

// errBadKey marks a request whose key cannot be read.
var errBadKey = errors.New("bad key")

// parseEraseKey reads TYPE:VALUE into a normalised recipient key.
func parseEraseKey(s string, now time.Time) (store.RecipientKey, error) {
	typ, value, ok := cut(strings.TrimSpace(s))
	typ = strings.ToLower(typ)
	if typ == "phone" {
		typ = store.KeyMobile
	}
	if !ok || !slices.Contains(recipients.KeyTypes, typ) {
		return store.RecipientKey{}, fmt.Errorf("%w: %q: write TYPE:VALUE, TYPE one of %s (phone for mobile), like pnr:19121212-1212",
			errBadKey, s, strings.Join(recipients.KeyTypes, ", "))
	}
	v, err := recipients.NormaliseKey(typ, value, now)
	if err != nil {
		return store.RecipientKey{}, fmt.Errorf("%w: %v", errBadKey, err)
	}
	return store.RecipientKey{Type: typ, Value: v}, nil
}

// erasable is a matched document and what its erasure involves.
type erasable struct {
	doc   *store.Doc
	file  *store.File
	final bool
}

// Erase removes (or, dry, finds) a person's data within a tenant and
// writes the audit line.
func (d *Daemon) Erase(ctx context.Context, tenant string, req EraseRequest) (*EraseReport, error) {
	now := time.Now().UTC()
	key, err := parseEraseKey(req.Key, now)
	if err != nil {
		return nil, err
	}
	if d.tenant(tenant) == nil {
		return nil, fmt.Errorf("%w: no tenant %q", store.ErrNotFound, tenant)
	}
	d.upkeep.mu.Lock()
	defer d.upkeep.mu.Unlock()
	rep := &EraseReport{Tenant: tenant, Key: key.String(), DryRun: req.DryRun, Documents: []ErasedDoc{}, Kept: []KeptItem{}}
	hash := d.store.HashKey(key)
	matched, err := d.findErasable(tenant, key, hash)
	if err != nil {
		return nil, err
	}
	retention := d.live.Load().RetentionFor(tenant)
	files := map[string]*store.File{}
	var erase []*erasable
	for _, e := range matched {
		files[e.file.ID] = e.file
		if !e.final {
			rep.Kept = append(rep.Kept, KeptItem{What: "document " + e.doc.ID,
				Why: "still on its way (" + string(e.doc.State) + "): run the erasure again once its receipt is final"})
			continue
		}
		erase = append(erase, e)
		rep.Documents = append(rep.Documents, ErasedDoc{ID: e.doc.ID, File: e.doc.FileID, Number: e.doc.Number, State: e.doc.State, Channel: e.doc.Channel})
	}
	if len(erase) > 0 {
		rep.Kept = append(rep.Kept, KeptItem{What: fmt.Sprintf("the summaries of %d documents", len(erase)),
			Why: "bookkeeping facts without name, address or keys: invoice number, amount, dates, state, channel and the hash of what was sent"})
	}
	inputs := d.inputFiles(rep, erase, files, retention, now)
	// Whatever happens from here, the audit line says what was done.
	err = d.eraseDocs(ctx, rep, erase, now)
	for _, f := range inputs {
		if err != nil || rep.DryRun {
			break
		}
		if _, err = removeFile(d.spoolPath(f.ID)); err == nil {
			err = d.setFile(f.ID, func(f *store.File) { f.InputRemoved = now })
		}
		if err == nil {
			rep.InputFiles++
		}
	}
	if rep.DryRun {
		rep.InputFiles = len(inputs)
	}
	if err == nil {
		err = d.eraseRegistry(rep, tenant, key, now)
	}
	if err != nil {
		rep.Error = err.Error()
		if aerr := d.audit(req, tenant, key, hash, rep, now); aerr != nil {
			err = errors.Join(err, aerr)
		}
		return rep, fmt.Errorf("erasure stopped part way (the audit line says what was done; run it again): %w", err)
	}
	if !rep.DryRun {
		// Rewritten only where the tenant has not deleted it yet.
		for id, f := range files {
			if f.ReceiptRemoved.IsZero() && d.receiptPath(f) != "" {
				d.receipts.touch(id)
				rep.Receipts++
			}
		}
		d.upkeep.erasures.WithLabelValues(tenant).Inc()
	}
	if err := d.audit(req, tenant, key, hash, rep, now); err != nil {
		return rep, err
	}
	d.log.Info("erasure", "tenant", tenant, "key_type", key.Type, "dry_run", rep.DryRun, "documents", len(rep.Documents),
		"registrations", rep.Registrations, "mandate_orders", rep.MandateOrders)
	return rep, nil
}

// findErasable finds the tenant's documents whose recipient has key: by
// their key pseudonyms, or, for documents recorded before pseudonyms were
// kept, by their bodies.
func (d *Daemon) findErasable(tenant string, key store.RecipientKey, hash string) ([]*erasable, error) {
	var found []*store.Doc
	var unkeyed []string
	err := d.store.ScanDocsNewestFirst(func(doc *store.Doc) error {
		switch {
		case doc.Tenant != tenant || !doc.Anonymised.IsZero():
		case slices.Contains(doc.Keys, hash):
			found = append(found, doc)
		case len(doc.Keys) == 0 && doc.Summarised.IsZero():
			unkeyed = append(unkeyed, doc.ID)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for len(unkeyed) > 0 {
		chunk := unkeyed[:min(scanChunkErase, len(unkeyed))]
		unkeyed = unkeyed[len(chunk):]
		err := d.store.View(func(tx store.Tx) error {
			for _, id := range chunk {
				body, err := tx.Body(id)
				if err != nil {
					continue
				}
				if slices.Contains(docKeys(body, time.Now()), key) {
					doc, err := tx.Doc(id)
					if err != nil {
						return err
					}
					found = append(found, doc)
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	var out []*erasable
	err = d.store.View(func(tx store.Tx) error {
		for _, doc := range found {
			f, err := tx.File(doc.FileID)
			if err != nil {
				return err
			}
			final := f.Final && doc.State.End() && doc.Collection.End() && !docPending(tx, doc)
			out = append(out, &erasable{doc: doc, file: f, final: final})
		}
		return nil
	})
	slices.SortFunc(out, func(a, b *erasable) int { return strings.Compare(a.doc.ID, b.doc.ID) })
	return out, err
}

// scanChunkErase is how many bodies one read of an erasure decodes.
const scanChunkErase = 256

// docPending reports whether a document has a delivery not at its end.
func docPending(tx store.Tx, doc *store.Doc) bool {
	channels := []string{doc.Channel, autogiroChannel}
	for _, s := range doc.Route {
		channels = append(channels, s.Channel)
	}
	for _, ch := range channels {
		if ch == "" {
			continue
		}
		for _, id := range doc.DeliveryIDs(ch) {
			if dl, err := tx.Delivery(id); err == nil {
				if dl.State != store.DeliveryDelivered && dl.State != store.DeliveryFailed || dl.AwaitsConfirmation() {
					return true
				}
			}
		}
	}
	return false
}

// inputFiles decides the input and batch files of the erased documents:
// it returns the input files that hold only this person's documents and
// are not the biller's archive copy, to be removed; the others, and the
// batch files, are reported as kept, with why and until when.
func (d *Daemon) inputFiles(rep *EraseReport, docs []*erasable, files map[string]*store.File, r config.Retention, now time.Time) []*store.File {
	perFile := map[string]int{}
	batches := map[string]bool{}
	d.store.View(func(tx store.Tx) error {
		for _, e := range docs {
			perFile[e.file.ID]++
			if path := d.batchFile(tx, e.doc); path != "" {
				batches[path] = true
			}
		}
		return nil
	})
	var remove []*store.File
	for _, id := range slices.Sorted(maps.Keys(perFile)) {
		f := files[id]
		if !f.InputRemoved.IsZero() {
			continue
		}
		until := r.ArchiveUntil(f.ReceivedAt)
		switch {
		case r.Archive == config.ArchiveInput && now.Before(until):
			rep.Kept = append(rep.Kept, KeptItem{What: "input file " + f.ID + " (" + f.Name + ")",
				Why: "the biller's archive copy of the invoices as they arrived (räkenskapsinformation, Bokföringslagen 7 kap. 2 §)", Until: until})
		case perFile[id] < f.Docs:
			rep.Kept = append(rep.Kept, KeptItem{What: "input file " + f.ID + " (" + f.Name + ")",
				Why:   fmt.Sprintf("holds %d other documents; retention removes it with their payloads", f.Docs-perFile[id]),
				Until: f.FinalAt.Add(r.Payloads.D())})
		default:
			remove = append(remove, f)
		}
	}
	for _, path := range slices.Sorted(maps.Keys(batches)) {
		rep.Kept = append(rep.Kept, KeptItem{What: "batch file " + filepath.Base(path),
			Why: "holds other recipients' invoices too; retention removes it with the payloads"})
	}
	return remove
}

// batchFile is the spool-transport batch file a document went in, if it
// is still there: a file the document shares with others.
func (d *Daemon) batchFile(tx store.Tx, doc *store.Doc) string {
	if doc.Output == "" || !d.inOutbox(doc.Output) {
		return ""
	}
	if dl, err := tx.Delivery(doc.DeliveryID(doc.Channel)); err == nil && !dl.Batched {
		return ""
	}
	if slices.Contains(d.docOutputs(tx, doc), doc.Output) {
		return ""
	}
	if _, err := os.Stat(doc.Output); err != nil {
		return ""
	}
	return doc.Output
}

// eraseDocs removes the documents' payloads and anonymises their
// summaries, a chunk per transaction.
func (d *Daemon) eraseDocs(ctx context.Context, rep *EraseReport, docs []*erasable, now time.Time) error {
	for len(docs) > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		chunk := docs[:min(sweepChunk, len(docs))]
		docs = docs[len(chunk):]
		var outputs []string
		d.store.View(func(tx store.Tx) error {
			for _, e := range chunk {
				if e.doc.Summarised.IsZero() {
					outputs = append(outputs, d.docOutputs(tx, e.doc)...)
				}
			}
			return nil
		})
		rep.OutboxFiles += len(outputs)
		if rep.DryRun {
			d.store.View(func(tx store.Tx) error {
				for _, e := range chunk {
					if e.doc.Summarised.IsZero() {
						rep.Store.Add(payloadSize(tx, e.doc))
					}
				}
				return nil
			})
			continue
		}
		for _, path := range outputs {
			if _, err := removeFile(path); err != nil {
				return err
			}
		}
		var removed store.Removed
		err := d.store.Update(func(tx store.Tx) error {
			removed = store.Removed{}
			for _, e := range chunk {
				doc, err := tx.Doc(e.doc.ID)
				if err != nil {
					return err
				}
				if doc.Summarised.IsZero() {
					rm, err := tx.RemovePayload(doc)
					if err != nil {
						return err
					}
					removed.Add(rm)
				}
				if err := d.forgetCollection(tx, doc); err != nil {
					return err
				}
				doc.Anonymise(now)
				doc.Reason = "the recipient's data was erased on request " + now.Format(time.DateOnly)
				if err := tx.PutDoc(doc); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		rep.Store.Add(removed)
	}
	return nil
}

// payloadSize is what RemovePayload would remove, for a dry run (counts;
// the bytes are known only once removed).
func payloadSize(tx store.Tx, doc *store.Doc) store.Removed {
	var rm store.Removed
	if _, err := tx.Body(doc.ID); err == nil {
		rm.Bodies = 1
	}
	if ev, err := tx.Events(doc.ID); err == nil {
		rm.Events = len(ev)
	}
	for _, ch := range []string{doc.Channel, autogiroChannel} {
		for _, id := range doc.DeliveryIDs(ch) {
			if _, err := tx.Delivery(id); ch != "" && err == nil {
				rm.Deliveries++
			}
		}
	}
	return rm
}

// eraseRegistry removes the registry entries under the key and the
// personal fields of the mandate orders that name it.
func (d *Daemon) eraseRegistry(rep *EraseReport, tenant string, key store.RecipientKey, now time.Time) error {
	return d.store.Update(func(tx store.Tx) error {
		rep.Registrations, rep.MandateOrders = 0, 0
		regs, err := tx.Registrations(tenant, key)
		if err != nil {
			return err
		}
		for _, r := range regs {
			rep.Registrations++
			if r.Channel == autogiroChannel && r.Active(now) {
				rep.Kept = append(rep.Kept, KeptItem{What: "nothing of registration " + r.ID,
					Why: "it was an active AutoGiro mandate: the bank still has it; tell the payer, or cancel it with multikanal mandates cancel"})
			}
			if !rep.DryRun {
				if err := tx.RemoveRegistration(r); err != nil {
					return err
				}
			}
		}
		var orders []*store.MandateOrder
		err = tx.ForEachMandateOrder(tenant, func(o *store.MandateOrder) error {
			if key.Type == store.KeyCustomer && payerKey(o.Payer) == payerKey(key.Value) ||
				key.Type == store.KeyPNR && o.PersonalID == key.Value {
				orders = append(orders, o)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, o := range orders {
			if !o.State.End() {
				rep.Kept = append(rep.Kept, KeptItem{What: "mandate order " + o.ID,
					Why: "not yet sent to Bankgirot (" + string(o.State) + "): run the erasure again once it is sent"})
				continue
			}
			rep.MandateOrders++
			if !rep.DryRun {
				o.Payer, o.PersonalID, o.Account, o.NewPayer = "", "", "", ""
				o.Updated = now
				if err := tx.PutMandateOrder(o); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// auditLine is one line of <data>/audit.log. It holds no personal data:
// the key is there only as its pseudonym (the store's keyed hash, which
// no one without state.db can reverse or test), and what was removed only
// as counts.
type auditLine struct {
	At            time.Time     `json:"at"`
	Action        string        `json:"action"` // erase, erase-dry-run
	By            string        `json:"by"`
	Tenant        string        `json:"tenant"`
	KeyType       string        `json:"key_type"`
	KeyHash       string        `json:"key_hash"`
	Documents     int           `json:"documents"`
	Registrations int           `json:"registrations"`
	MandateOrders int           `json:"mandate_orders"`
	Store         store.Removed `json:"store"`
	OutboxFiles   int           `json:"outbox_files"`
	InputFiles    int           `json:"input_files"`
	Kept          int           `json:"kept"`
	Error         string        `json:"error,omitempty"`
}

// audit appends the erasure's line to <data>/audit.log, synced: an
// erasure without its line must not be reported done.
func (d *Daemon) audit(req EraseRequest, tenant string, key store.RecipientKey, hash string, rep *EraseReport, now time.Time) error {
	action := "erase"
	if rep.DryRun {
		action = "erase-dry-run"
	}
	by := strings.TrimSpace(req.By)
	if by == "" {
		by = "unknown"
	}
	line, err := json.Marshal(auditLine{At: now, Action: action, By: by, Tenant: tenant, KeyType: key.Type, KeyHash: hash,
		Documents: len(rep.Documents), Registrations: rep.Registrations, MandateOrders: rep.MandateOrders, Store: rep.Store,
		OutboxFiles: rep.OutboxFiles, InputFiles: rep.InputFiles, Kept: len(rep.Kept), Error: rep.Error})
	if err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(d.dataDir, "audit.log"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o640)
	if err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	_, err = f.Write(append(line, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	return nil
}

// handleErase serves POST /api/v1/tenants/{tenant}/erase.
func (d *Daemon) handleErase(w http.ResponseWriter, r *http.Request) {
	var req EraseRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": `the body must be {"key": "TYPE:VALUE", "dry_run": true|false, "by": "who"}: ` + err.Error()})
		return
	}
	if req.By == "" {
		req.By = "api"
	}
	req.By += " from " + r.RemoteAddr
	// A client that hangs up does not stop an erasure part way.
	rep, err := d.Erase(context.WithoutCancel(r.Context()), r.PathValue("tenant"), req)
	switch {
	case errors.Is(err, errBadKey):
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
	case errors.Is(err, store.ErrNotFound):
		writeJSON(w, http.StatusNotFound, map[string]string{"error": err.Error()})
	case err != nil:
		writeJSON(w, http.StatusInternalServerError, map[string]any{"error": err.Error(), "erasure": rep})
	default:
		writeJSON(w, http.StatusOK, rep)
	}
}
