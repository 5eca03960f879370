package intake

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/multikanal/multikanal/config"
	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/gateway/metrics"
	"github.com/multikanal/multikanal/gateway/registry"
	"github.com/multikanal/multikanal/gateway/route"
	"github.com/multikanal/multikanal/gateway/store"
	"github.com/multikanal/multikanal/internal/durable"
)

// chunkSize is how many documents of one file are recorded per transaction:
// large enough that commits (fsyncs) are not the bottleneck, small enough
// that a crash repeats little work and a transaction's pages stay few.
// Each chunk waits for its commit, and on a busy machine the one goroutine
// that commits waits for a core after each of its disk syncs, so fewer,
// larger chunks go faster: 1,024 took the 30,000-invoice CSV from 9.17 to
// 8.61 s against 256 (medians of seven interleaved runs), but at 1,000,000
// invoices its transactions' pages took the peak RSS to 305 MB (goal 300);
// 512 did the million in 338 s at 266 MB (1,024: 381 s). 4,096 was slower
// still (10.6 s for 30,000: larger transactions held deliveries up).
const chunkSize = 512

// spoolPath is where a claimed file is kept.
func (in *Intake) spoolPath(fileID string) string { return filepath.Join(in.SpoolDir, fileID) }

// inboxFile is a complete file in a tenant's inbox, to be claimed.
type inboxFile struct{ tenant, path string }

// ClaimGroup is how many inbox files are claimed together: one sync, two
// commits and one spool-folder sync for all of them. Many small uploads
// (an ERP sending one file per invoice over SFTP) would otherwise cost two
// commits and three syncs each.
const ClaimGroup = 256

// claim takes files out of the tenants' inboxes: it makes their bytes
// durable (whoever wrote them, cp or the SFTP server, may not have synced
// them), records them (so a crash after this point can always be resumed),
// then moves them into the spool under their ids. The same bytes from the
// same tenant are recorded as a duplicate and not processed again. A file
// that cannot be read is reported and left in the inbox; the others go on.
func (in *Intake) claim(files []inboxFile) {
	type read struct {
		inboxFile
		sum  string
		size int64
	}
	var ok []read
	var dirs = map[string]bool{}
	for _, f := range files {
		sum, size, err := in.hashFile(f.path)
		if err != nil {
			if !errors.Is(err, os.ErrNotExist) {
				in.Log.Error("claiming a file failed; it stays in the inbox and is tried again", "tenant", f.tenant, "path", f.path, "err", err)
			}
			continue
		}
		ok = append(ok, read{f, sum, size})
		dirs[filepath.Dir(f.path)] = true
	}
	if len(ok) == 0 {
		return
	}
	// One syncfs per file system writes every file's data (and any other
	// dirty data there) instead of an fsync per file.
	if err := durable.SyncFileSystems(slices.Collect(maps.Keys(dirs))...); err != nil {
		in.Log.Error("claiming files failed: cannot sync the inbox; they stay and are tried again", "files", len(ok), "err", err)
		return
	}
	now := time.Now().UTC()
	recs := make([]*store.File, len(ok))
	err := in.Store.Update(func(tx store.Tx) error {
		for i, r := range ok {
			id, err := tx.NextFileID()
			if err != nil {
				return err
			}
			rec := &store.File{ID: id, Tenant: r.tenant, Name: filepath.Base(r.path), InboxPath: r.path,
				SHA256: r.sum, Size: r.size, ReceivedAt: now, State: store.FileClaimed}
			// The transaction sees its own writes: a duplicate within the
			// group is found too.
			if prev, err := tx.FileByHash(r.tenant, r.sum); err == nil {
				rec.DuplicateOf = prev.ID
				rec.Reason = fmt.Sprintf("the same bytes were received before as %s (file %s, %s); not sent again",
					prev.Name, prev.ID, prev.ReceivedAt.Format(time.RFC3339))
			} else if !errors.Is(err, store.ErrNotFound) {
				return err
			}
			if err := tx.PutFile(rec); err != nil {
				return err
			}
			recs[i] = rec
		}
		return nil
	})
	if err != nil {
		in.Log.Error("claiming files failed; they stay in the inbox and are tried again", "files", len(ok), "err", err)
		return
	}
	if err := in.moveToSpool(recs...); err != nil {
		in.Log.Error("moving claimed files into the spool failed; they are moved at the next start", "files", len(recs), "err", err)
	}
}

// hashFile returns a file's SHA-256 and size: the SFTP server's hash when
// the file is unchanged since it landed, else by reading it.
func (in *Intake) hashFile(path string) (string, int64, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return "", 0, err
	}
	if sum, ok := in.uploads.take(path, fi); ok {
		return sum, fi.Size(), nil
	}
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	size, err := io.Copy(h, f)
	if err != nil {
		return "", 0, fmt.Errorf("reading %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), size, nil
}

// moveToSpool finishes claims: rename into spool/, sync the spool folder,
// then record the files as received (or as final duplicates).
func (in *Intake) moveToSpool(recs ...*store.File) error {
	var moved []*store.File
	var firstErr error
	for _, rec := range recs {
		dst := in.spoolPath(rec.ID)
		if _, err := os.Stat(dst); err != nil {
			if err := os.Rename(rec.InboxPath, dst); err != nil {
				if errors.Is(err, os.ErrNotExist) {
					if err := in.setFile(rec.ID, func(f *store.File) {
						f.State, f.Reason = store.FileRejected, "the file disappeared from the inbox before it could be claimed"
					}); err != nil && firstErr == nil {
						firstErr = err
					}
					continue
				}
				if firstErr == nil {
					firstErr = fmt.Errorf("moving %s into the spool: %w", rec.InboxPath, err)
				}
				continue
			}
		}
		moved = append(moved, rec)
	}
	if len(moved) == 0 {
		return firstErr
	}
	// The renames must be on disk before the files count as received: the
	// inbox entries are gone, so the spool entries are the only copies.
	if err := durable.SyncDir(filepath.Dir(in.spoolPath(moved[0].ID))); err != nil {
		return fmt.Errorf("syncing the spool folder: %w", err)
	}
	// Where nodes share the store, the bytes go where every node reads
	// them before the files count as received.
	if err := in.storeInputs(moved); err != nil {
		return err
	}
	err := in.Store.Update(func(tx store.Tx) error {
		for _, rec := range moved {
			f, err := tx.File(rec.ID)
			if err != nil {
				return err
			}
			if f.DuplicateOf != "" {
				f.State = store.FileDuplicate
			} else {
				f.State = store.FileReceived
			}
			if err := tx.PutFile(f); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	in.dropSpooled(moved)
	for _, rec := range moved {
		in.Log.Info("file claimed", "tenant", rec.Tenant, "file", rec.ID, "name", rec.Name, "size", rec.Size, "sha256", rec.SHA256, "duplicate_of", rec.DuplicateOf)
		in.Metrics.FileReceived(rec.Tenant)
		if rec.DuplicateOf != "" {
			in.Metrics.FileRejected(rec.Tenant, metrics.RejectDuplicate)
		}
		in.Receipts.Touch(rec.ID)
		if rec.DuplicateOf == "" {
			in.queue.push(rec.Tenant, rec.ID)
		}
	}
	return firstErr
}

func (in *Intake) setFile(id string, change func(*store.File)) error {
	return in.Store.Update(func(tx store.Tx) error {
		f, err := tx.File(id)
		if err != nil {
			return err
		}
		change(f)
		return tx.PutFile(f)
	})
}

// ingest parses one claimed file and records every document in it, routed.
// It is idempotent: documents already recorded (before a crash) are skipped.
func (in *Intake) ingest(ctx context.Context, fileID string) {
	var rec *store.File
	if err := in.Store.View(func(tx store.Tx) (err error) { rec, err = tx.File(fileID); return }); err != nil {
		in.Log.Error("ingest: file record missing", "file", fileID, "err", err)
		return
	}
	log := in.Log.With("tenant", rec.Tenant, "file", rec.ID, "name", rec.Name)
	if in.refuseOverQuota(rec) {
		return
	}
	tenant, ok := in.Tenant(rec.Tenant)
	if !ok {
		in.rejectFile(rec, metrics.RejectOther, fmt.Sprintf("tenant %q is no longer configured", rec.Tenant))
		return
	}
	f, err := in.openInput(fileID)
	if err != nil {
		in.rejectFile(rec, metrics.RejectOther, "cannot read the spooled file: "+err.Error())
		return
	}
	defer f.Close()
	head := make([]byte, formats.SniffSize)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		in.rejectFile(rec, metrics.RejectOther, "cannot read the file: "+err.Error())
		return
	}
	for _, a := range in.Appliers {
		if !a.Sniff(head[:n]) {
			continue
		}
		if err := a.Apply(rec, f); err != nil {
			in.rejectFile(rec, metrics.RejectInvalid, err.Error())
			return
		}
		in.Receipts.Touch(rec.ID)
		return
	}
	reader, err := formats.Detect(head[:n], in.Readers())
	if err != nil {
		log.Warn("file rejected", "reason", err)
		class := metrics.RejectUnknownFormat
		if rec.Size == 0 {
			class = metrics.RejectEmpty
		}
		in.rejectFile(rec, class, err.Error())
		return
	}
	// The documents recorded before a stop are skipped. Should they not
	// be readable, nothing is recorded now: recording them again would
	// route and send them twice. The file stays received and is read
	// again at the next start.
	known := map[int]bool{}
	err = in.Store.View(func(tx store.Tx) error {
		return tx.FileDocs(fileID, func(doc *store.Doc) error { known[doc.Index] = true; return nil })
	})
	if err != nil {
		log.Error("ingest: the documents already recorded cannot be read; the file is read again at the next start", "err", err)
		return
	}
	var pending []formats.Item
	total := 0
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		in.prefetch(ctx, rec.Tenant, pending)
		err := in.recordItems(rec, tenant, pending)
		pending = pending[:0]
		return err
	}
	readErr := reader.Read(formats.Input{Name: rec.Name, R: f, Size: rec.Size}, func(it formats.Item) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		total++
		if known[it.Index] {
			return nil
		}
		pending = append(pending, it)
		if len(pending) >= chunkSize {
			return flush()
		}
		return nil
	})
	if err := flush(); err != nil && readErr == nil {
		readErr = err
	}
	if ctx.Err() != nil {
		// Stopping: the file stays "received" and is read again at start;
		// the documents recorded so far are skipped then.
		return
	}
	err = in.setFile(fileID, func(f *store.File) {
		f.Format = reader.Name()
		f.Docs = total
		switch {
		case readErr != nil && total == 0:
			f.State, f.Reason = store.FileRejected, fmt.Sprintf("%s file: %v", reader.Name(), readErr)
		case readErr != nil:
			f.State, f.Reason = store.FileParsed, fmt.Sprintf("%s file: reading stopped after %d documents: %v", reader.Name(), total, readErr)
		case total == 0:
			f.State, f.Reason = store.FileRejected, reader.Name()+" file holds no documents"
		default:
			f.State = store.FileParsed
		}
	})
	if err != nil {
		log.Error("ingest: recording the file failed", "err", err)
		return
	}
	if total == 0 {
		in.Metrics.FileRejected(rec.Tenant, metrics.RejectInvalid)
	}
	log.Info("file parsed", "format", reader.Name(), "documents", total, "error", readErr)
	in.Delivery.CutoffEndOfFile(rec.Tenant)
	in.Receipts.Touch(fileID)
}

// rejectFile records that a file is refused, and why, without waiting for
// the commit: nothing after it depends on the record, and a burst of refused
// files (a folder of wrong files uploaded at once) then shares commits
// instead of taking one commit each, one after the other. A stop waits for
// the record (Run); should it be lost in a crash, the file is still
// "received" and is read, and refused, again at the next start.
func (in *Intake) rejectFile(rec *store.File, class, reason string) {
	in.Metrics.FileRejected(rec.Tenant, class)
	in.recording.Add(1)
	go func() {
		defer in.recording.Done()
		if err := in.setFile(rec.ID, func(f *store.File) { f.State, f.Reason = store.FileRejected, reason }); err != nil {
			in.Log.Error("recording a rejected file failed", "file", rec.ID, "err", err)
		}
		in.Receipts.Touch(rec.ID)
	}()
}

// recordItems validates and routes a chunk of documents and records them,
// with their history and first deliveries, in one transaction.
func (in *Intake) recordItems(rec *store.File, tenant config.Tenant, items []formats.Item) error {
	now := time.Now().UTC()
	// Validation needs no transaction: done here, on every core, it is out
	// of the one goroutine that runs every transaction.
	problems, keys := validateAll(items, tenant, now, in.Store.HashKey)
	var queued []*store.Delivery
	var states []docState
	var rejected []*store.Doc // documents that end here: rejected, held, no channel
	err := in.Store.Update(func(tx store.Tx) error {
		queued, states, rejected = queued[:0], states[:0], rejected[:0]
		for i, it := range items {
			doc := &store.Doc{
				ID: docID(rec.ID, it.Index), FileID: rec.ID, Tenant: rec.Tenant, Index: it.Index,
				Source: it.Source, State: store.DocReceived, Created: now, Updated: now,
			}
			if err := tx.AppendEvent(doc, store.Event{At: now, State: store.DocReceived}); err != nil {
				return err
			}
			if it.Err != nil {
				doc.State, doc.Reason = store.DocRejected, it.Err.Error()
				if errors.Is(it.Err, formats.ErrSkipped) {
					doc.State = store.DocSkipped
				}
				if err := tx.AppendEvent(doc, store.Event{At: now, State: doc.State, Reason: doc.Reason}); err != nil {
					return err
				}
				if err := tx.PutDoc(doc); err != nil {
					return err
				}
				states = append(states, docState{doc.Channel, doc.State})
				rejected = append(rejected, doc)
				continue
			}
			body := it.Doc
			doc.Kind, doc.Number, doc.Buyer = body.Kind, body.Number, body.Buyer.DisplayName()
			doc.Currency, doc.Amount, doc.DueDate = body.Currency, body.Totals.Payable, body.DueDate
			doc.Keys = keys[i]
			if err := tx.AppendEvent(doc, store.Event{At: now, State: store.DocParsed}); err != nil {
				return err
			}
			dl, collect, err := route.RouteValidated(tx, in.Channels, tenant, doc, body, now, problems[i])
			if err != nil {
				return err
			}
			for _, x := range []*store.Delivery{dl, collect} {
				if x != nil {
					queued = append(queued, x)
				}
			}
			if err := tx.PutBody(doc.ID, body); err != nil {
				return err
			}
			if err := tx.PutDoc(doc); err != nil {
				return err
			}
			states = append(states, docState{doc.Channel, doc.State})
			if doc.State.End() {
				rejected = append(rejected, doc)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, st := range states {
		in.Metrics.DocumentState(st.channel, st.state)
	}
	for _, rej := range rejected {
		in.logDoc(rej).Warn("document "+string(rej.State), "reason", rej.Reason)
	}
	for _, dl := range queued {
		in.Delivery.Enqueue(dl)
	}
	in.Receipts.Touch(rec.ID)
	return nil
}

// validateAll validates the documents of items (route.Validate) and makes
// their recipients' pseudonyms (registry.Pseudonyms, with hash), on every
// core: neither needs the transaction, and the one goroutine that runs
// every transaction is what a large file waits for. The problems and keys
// of item i are at i.
func validateAll(items []formats.Item, tenant config.Tenant, now time.Time, hash func(store.RecipientKey) string) ([]formats.Problems, [][]string) {
	problems := make([]formats.Problems, len(items))
	keys := make([][]string, len(items))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.NumCPU(), len(items)) {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < len(items); i = int(next.Add(1)) - 1 {
				if items[i].Err == nil {
					problems[i] = route.Validate(tenant, items[i].Doc, now)
					keys[i] = registry.Pseudonyms(hash, items[i].Doc, now)
				}
			}
		})
	}
	wg.Wait()
	return problems, keys
}

func docID(fileID string, index int) string { return fmt.Sprintf("%s-%07d", fileID, index) }

// logDoc is the logger for lines about one document.
func (in *Intake) logDoc(doc *store.Doc) *slog.Logger {
	return in.Log.With("tenant", doc.Tenant, "file", doc.FileID, "doc", doc.ID, "number", doc.Number)
}

// prefetch asks the outside about a chunk of documents before their
// routing transaction (Options.Prefetch).
func (in *Intake) prefetch(ctx context.Context, tenant string, items []formats.Item) {
	if in.Prefetch != nil {
		in.Prefetch(ctx, tenant, items)
	}
}

// docState is one document's state after a committed change, for the
// transition counter (counted after the commit: a grouped transaction may
// run twice).
type docState struct {
	channel string
	state   store.DocState
}

// refuseOverQuota rejects a file, before reading it, while the store is
// over its quota. The file stays in spool/ until rejected_files retention
// removes it, and its hash is forgotten so the same bytes are taken when
// sent again. It reports whether it refused the file.
func (in *Intake) refuseOverQuota(rec *store.File) bool {
	why := in.OverQuota()
	if why == "" {
		return false
	}
	reason := "refused, not read: " + why + "; the operator is alerted (multikanal status). Send the file again once the store is below its quota"
	err := in.Store.Update(func(tx store.Tx) error {
		f, err := tx.File(rec.ID)
		if err != nil {
			return err
		}
		f.State, f.Reason, f.Refused = store.FileRejected, reason, true
		if err := tx.PutFile(f); err != nil {
			return err
		}
		return tx.DropFileHash(f)
	})
	if err != nil {
		// Not recorded: the file stays received and is looked at again at
		// the next start.
		in.Log.Error("recording a refused file failed", "file", rec.ID, "err", err)
		return true
	}
	in.Log.Warn("file refused: store over its quota", "tenant", rec.Tenant, "file", rec.ID, "name", rec.Name, "reason", why)
	in.Metrics.FileRejected(rec.Tenant, metrics.RejectQuota)
	in.Receipts.Touch(rec.ID)
	return true
}
