package upkeep

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/multikanal/multikanal/config"
	"github.com/multikanal/multikanal/formats/recipients"
	"github.com/multikanal/multikanal/gateway/api"
	"github.com/multikanal/multikanal/gateway/errkind"
	"github.com/multikanal/multikanal/gateway/registry"
	"github.com/multikanal/multikanal/gateway/route"
	"github.com/multikanal/multikanal/gateway/store"
	"github.com/multikanal/multikanal/outbound"
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

// ErrBadKey marks a request whose key cannot be read.
var ErrBadKey = errkind.New(errkind.Invalid, "bad key")

// parseEraseKey reads TYPE:VALUE into a normalised recipient key.
func parseEraseKey(s string, now time.Time) (store.RecipientKey, error) {
	typ, value, ok := registry.SplitKey(strings.TrimSpace(s))
	typ = strings.ToLower(typ)
	if typ == "phone" {
		typ = store.KeyMobile
	}
	if !ok || !slices.Contains(recipients.KeyTypes, typ) {
		return store.RecipientKey{}, fmt.Errorf("%w: %q: write TYPE:VALUE, TYPE one of %s (phone for mobile), like pnr:19121212-1212",
			ErrBadKey, s, strings.Join(recipients.KeyTypes, ", "))
	}
	v, err := recipients.NormaliseKey(typ, value, now)
	if err != nil {
		return store.RecipientKey{}, fmt.Errorf("%w: %v", ErrBadKey, err)
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
func (u *Upkeep) Erase(ctx context.Context, tenant string, req api.EraseRequest) (*api.EraseReport, error) {
	now := time.Now().UTC()
	key, err := parseEraseKey(req.Key, now)
	if err != nil {
		return nil, err
	}
	if _, ok := u.Tenant(tenant); !ok {
		return nil, fmt.Errorf("%w: no tenant %q", errkind.NotFound, tenant)
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	rep := &api.EraseReport{Tenant: tenant, Key: key.String(), DryRun: req.DryRun, Documents: []api.ErasedDoc{}, Kept: []api.KeptItem{}}
	hash := u.Store.HashKey(key)
	matched, err := u.findErasable(tenant, key, hash)
	if err != nil {
		return nil, err
	}
	retention := u.Config().RetentionFor(tenant)
	files := map[string]*store.File{}
	var erase []*erasable
	for _, e := range matched {
		files[e.file.ID] = e.file
		if !e.final {
			rep.Kept = append(rep.Kept, api.KeptItem{What: "document " + e.doc.ID,
				Why: "still on its way (" + string(e.doc.State) + "): run the erasure again once its receipt is final"})
			continue
		}
		erase = append(erase, e)
		rep.Documents = append(rep.Documents, api.ErasedDoc{ID: e.doc.ID, File: e.doc.FileID, Number: e.doc.Number, State: api.DocState(e.doc.State), Channel: e.doc.Channel})
	}
	if len(erase) > 0 {
		rep.Kept = append(rep.Kept, api.KeptItem{What: fmt.Sprintf("the summaries of %d documents", len(erase)),
			Why: "bookkeeping facts without name, address or keys: invoice number, amount, dates, state, channel and the hash of what was sent"})
	}
	inputs, err := u.inputFiles(rep, erase, files, retention, now)
	if err != nil {
		return nil, err
	}
	// Whatever happens from here, the audit line says what was done.
	err = u.eraseDocs(ctx, rep, erase, now)
	for _, f := range inputs {
		if err != nil || rep.DryRun {
			break
		}
		if _, err = u.removeInput(f.ID); err == nil {
			err = u.Store.Update(func(tx store.Tx) error {
				cur, err := tx.File(f.ID)
				if err != nil {
					return err
				}
				cur.InputRemoved = now
				return tx.PutFile(cur)
			})
		}
		if err == nil {
			rep.InputFiles++
		}
	}
	if rep.DryRun {
		rep.InputFiles = len(inputs)
	}
	if err == nil {
		err = u.eraseRegistry(rep, tenant, key, now)
	}
	if err != nil {
		rep.Error = err.Error()
		if aerr := u.audit(req, tenant, key, hash, rep, now); aerr != nil {
			err = errors.Join(err, aerr)
		}
		return rep, fmt.Errorf("erasure stopped part way (the audit line says what was done; run it again): %w", err)
	}
	if !rep.DryRun {
		// Rewritten only where the tenant has not deleted it yet.
		for id, f := range files {
			if f.ReceiptRemoved.IsZero() && u.Receipts.Path(f) != "" {
				u.Receipts.Touch(id)
				rep.Receipts++
			}
		}
		u.erasures.WithLabelValues(tenant).Inc()
	}
	if err := u.audit(req, tenant, key, hash, rep, now); err != nil {
		return rep, err
	}
	u.Log.Info("erasure", "tenant", tenant, "key_type", key.Type, "dry_run", rep.DryRun, "documents", len(rep.Documents),
		"registrations", rep.Registrations, "mandate_orders", rep.MandateOrders)
	return rep, nil
}

// findErasable finds the tenant's documents whose recipient has key: by
// their key pseudonyms, or, for documents recorded before pseudonyms were
// kept, by their bodies.
func (u *Upkeep) findErasable(tenant string, key store.RecipientKey, hash string) ([]*erasable, error) {
	var found []*store.Doc
	var unkeyed []string
	err := u.Store.ScanDocsNewestFirst(func(doc *store.Doc) error {
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
		err := u.Store.View(func(tx store.Tx) error {
			for _, id := range chunk {
				body, err := tx.Body(id)
				if err != nil {
					continue
				}
				if slices.Contains(registry.Keys(body, time.Now()), key) {
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
	err = u.Store.View(func(tx store.Tx) error {
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
	for _, ch := range channelsOf(doc) {
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
func (u *Upkeep) inputFiles(rep *api.EraseReport, docs []*erasable, files map[string]*store.File, r config.Retention, now time.Time) ([]*store.File, error) {
	perFile := map[string]int{}
	batches := map[string]bool{}
	err := u.Store.View(func(tx store.Tx) error {
		for _, e := range docs {
			perFile[e.file.ID]++
			path, err := u.batchFile(tx, e.doc)
			if err != nil {
				return err
			}
			if path != "" {
				batches[path] = true
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var remove []*store.File
	for _, id := range slices.Sorted(maps.Keys(perFile)) {
		f := files[id]
		if !f.InputRemoved.IsZero() {
			continue
		}
		until := r.ArchiveUntil(f.ReceivedAt)
		switch {
		case r.Archive == config.ArchiveInput && now.Before(until):
			rep.Kept = append(rep.Kept, api.KeptItem{What: "input file " + f.ID + " (" + f.Name + ")",
				Why: "the biller's archive copy of the invoices as they arrived (räkenskapsinformation, Bokföringslagen 7 kap. 2 §)", Until: until})
		case perFile[id] < f.Docs:
			rep.Kept = append(rep.Kept, api.KeptItem{What: "input file " + f.ID + " (" + f.Name + ")",
				Why:   fmt.Sprintf("holds %d other documents; retention removes it with their payloads", f.Docs-perFile[id]),
				Until: f.FinalAt.Add(r.Payloads.D())})
		default:
			remove = append(remove, f)
		}
	}
	for _, path := range slices.Sorted(maps.Keys(batches)) {
		rep.Kept = append(rep.Kept, api.KeptItem{What: "batch file " + filepath.Base(path),
			Why: "holds other recipients' invoices too; retention removes it with the payloads"})
	}
	return remove, nil
}

// batchFile is the spool-transport batch file a document went in, if it
// is still there: a file the document shares with others.
func (u *Upkeep) batchFile(tx store.Tx, doc *store.Doc) (string, error) {
	if doc.Output == "" || !u.inOutbox(doc.Output) {
		return "", nil
	}
	if dl, err := tx.Delivery(doc.DeliveryID(doc.Channel)); err == nil && !dl.Batched {
		return "", nil
	}
	own, err := u.docOutputs(tx, doc)
	if err != nil || slices.Contains(own, doc.Output) {
		return "", err
	}
	if _, err := os.Stat(doc.Output); err != nil {
		return "", nil
	}
	return doc.Output, nil
}

// eraseDocs removes the documents' payloads and anonymises their
// summaries, a chunk per transaction.
func (u *Upkeep) eraseDocs(ctx context.Context, rep *api.EraseReport, docs []*erasable, now time.Time) error {
	for len(docs) > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		chunk := docs[:min(sweepChunk, len(docs))]
		docs = docs[len(chunk):]
		// As in a sweep, the outputs are found before their records go,
		// and a read that fails stops the erasure.
		var outputs []string
		err := u.Store.View(func(tx store.Tx) error {
			for _, e := range chunk {
				if e.doc.Summarised.IsZero() {
					out, err := u.docOutputs(tx, e.doc)
					if err != nil {
						return err
					}
					outputs = append(outputs, out...)
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("finding the outbox files: %w", err)
		}
		rep.OutboxFiles += len(outputs)
		if rep.DryRun {
			err := u.Store.View(func(tx store.Tx) error {
				for _, e := range chunk {
					if e.doc.Summarised.IsZero() {
						addRemoved(&rep.Store, payloadSize(tx, e.doc))
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
			continue
		}
		for _, path := range outputs {
			if _, err := removeFile(path); err != nil {
				return err
			}
		}
		var removed store.Removed
		err = u.Store.Update(func(tx store.Tx) error {
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
				if err := u.forgetCollection(tx, doc); err != nil {
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
		addRemoved(&rep.Store, removed)
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
	for _, ch := range channelsOf(doc) {
		for _, id := range doc.DeliveryIDs(ch) {
			if _, err := tx.Delivery(id); err == nil {
				rm.Deliveries++
			}
		}
	}
	return rm
}

// collects reports whether a registration's channel is a collection
// channel: its registrations are mandates, which the payer's bank holds.
func (u *Upkeep) collects(channel string) bool {
	cc := u.Config().ChannelConfig(channel)
	return cc != nil && cc.Descriptor.Role == outbound.Collection
}

// eraseRegistry removes the registry entries under the key and the
// personal fields of the mandate orders that name it.
func (u *Upkeep) eraseRegistry(rep *api.EraseReport, tenant string, key store.RecipientKey, now time.Time) error {
	return u.Store.Update(func(tx store.Tx) error {
		rep.Registrations, rep.MandateOrders = 0, 0
		regs, err := tx.Registrations(tenant, key)
		if err != nil {
			return err
		}
		for _, r := range regs {
			rep.Registrations++
			if u.collects(r.Channel) && r.Active(now) {
				rep.Kept = append(rep.Kept, api.KeptItem{What: "nothing of registration " + r.ID,
					Why: fmt.Sprintf("it was an active %s mandate: the payer's bank still has it; tell the payer, or have the mandate cancelled (multikanal mandates cancel, where the channel takes the biller's cancellations)", r.Channel)})
			}
			if !rep.DryRun {
				if err := tx.RemoveRegistration(r); err != nil {
					return err
				}
			}
		}
		var orders []*store.MandateOrder
		err = tx.ForEachMandateOrder(tenant, func(o *store.MandateOrder) error {
			if key.Type == store.KeyCustomer && route.PayerKey(o.Payer) == route.PayerKey(key.Value) ||
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
				rep.Kept = append(rep.Kept, api.KeptItem{What: "mandate order " + o.ID,
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

// AuditLine is one line of <data>/audit.log. It holds no personal data:
// the key is there only as its pseudonym (the store's keyed hash, which
// no one without state.db can reverse or test), and what was removed only
// as counts.
type AuditLine struct {
	At            time.Time   `json:"at"`
	Action        string      `json:"action"` // erase, erase-dry-run
	By            string      `json:"by"`
	Tenant        string      `json:"tenant"`
	KeyType       string      `json:"key_type"`
	KeyHash       string      `json:"key_hash"`
	Documents     int         `json:"documents"`
	Registrations int         `json:"registrations"`
	MandateOrders int         `json:"mandate_orders"`
	Store         api.Removed `json:"store"`
	OutboxFiles   int         `json:"outbox_files"`
	InputFiles    int         `json:"input_files"`
	Kept          int         `json:"kept"`
	Error         string      `json:"error,omitempty"`
}

// audit appends the erasure's line to <data>/audit.log, synced: an
// erasure without its line must not be reported done.
func (u *Upkeep) audit(req api.EraseRequest, tenant string, key store.RecipientKey, hash string, rep *api.EraseReport, now time.Time) error {
	action := "erase"
	if rep.DryRun {
		action = "erase-dry-run"
	}
	by := strings.TrimSpace(req.By)
	if by == "" {
		by = "unknown"
	}
	line, err := json.Marshal(AuditLine{At: now, Action: action, By: by, Tenant: tenant, KeyType: key.Type, KeyHash: hash,
		Documents: len(rep.Documents), Registrations: rep.Registrations, MandateOrders: rep.MandateOrders, Store: rep.Store,
		OutboxFiles: rep.OutboxFiles, InputFiles: rep.InputFiles, Kept: len(rep.Kept), Error: rep.Error})
	if err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(u.DataDir, "audit.log"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o640)
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
