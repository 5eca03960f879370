package gateway

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/formats/autogiro"
	"github.com/multikanal/multikanal/formats/efaktura"
	"github.com/multikanal/multikanal/formats/recipients"
	"github.com/multikanal/multikanal/gateway/store"
)

// chunkSize is how many documents of one file are recorded per transaction:
// large enough that commits (fsyncs) are not the bottleneck, small enough
// that a crash repeats little work.
const chunkSize = 256

func (d *Daemon) spoolPath(fileID string) string { return filepath.Join(d.dataDir, "spool", fileID) }

// claim takes a file out of a tenant's inbox: it makes its bytes durable
// (whoever wrote the file, cp or the SFTP server, may not have synced it),
// records the file (so a crash after this point can always be resumed), then
// moves it into the spool under its id. The same bytes from the same tenant
// are recorded as a duplicate and not processed again.
func (d *Daemon) claim(tenant, path string) (*store.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	size, err := io.Copy(h, f)
	if err == nil {
		err = f.Sync()
	}
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	now := time.Now().UTC()
	var rec *store.File
	err = d.store.Update(func(tx store.Tx) error {
		id, err := tx.NextFileID()
		if err != nil {
			return err
		}
		rec = &store.File{ID: id, Tenant: tenant, Name: filepath.Base(path), InboxPath: path,
			SHA256: sum, Size: size, ReceivedAt: now, State: store.FileClaimed}
		if prev, err := tx.FileByHash(tenant, sum); err == nil {
			rec.DuplicateOf = prev.ID
			rec.Reason = fmt.Sprintf("the same bytes were received before as %s (file %s, %s); not sent again",
				prev.Name, prev.ID, prev.ReceivedAt.Format(time.RFC3339))
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return tx.PutFile(rec)
	})
	if err != nil {
		return nil, err
	}
	if err := d.moveToSpool(rec); err != nil {
		return rec, err
	}
	return rec, nil
}

// moveToSpool finishes a claim: rename into spool/, then record the file as
// received (or as a final duplicate).
func (d *Daemon) moveToSpool(rec *store.File) error {
	dst := d.spoolPath(rec.ID)
	if _, err := os.Stat(dst); err != nil {
		if err := os.Rename(rec.InboxPath, dst); err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return d.setFile(rec.ID, func(f *store.File) {
					f.State, f.Reason = store.FileRejected, "the file disappeared from the inbox before it could be claimed"
				})
			}
			return fmt.Errorf("moving %s into the spool: %w", rec.InboxPath, err)
		}
	}
	// The rename must be on disk before the file counts as received: the
	// inbox entry is gone, so the spool entry is the only copy.
	if err := syncDir(filepath.Dir(dst)); err != nil {
		return fmt.Errorf("syncing the spool folder: %w", err)
	}
	err := d.setFile(rec.ID, func(f *store.File) {
		if f.DuplicateOf != "" {
			f.State = store.FileDuplicate
		} else {
			f.State = store.FileReceived
		}
	})
	if err != nil {
		return err
	}
	d.log.Info("file claimed", "tenant", rec.Tenant, "file", rec.ID, "name", rec.Name, "size", rec.Size, "sha256", rec.SHA256, "duplicate_of", rec.DuplicateOf)
	d.metrics.fileReceived(rec.Tenant)
	if rec.DuplicateOf != "" {
		d.metrics.fileRejected(rec.Tenant, rejectDuplicate)
	}
	d.receipts.touch(rec.ID)
	if rec.DuplicateOf == "" {
		d.ingestQ.push(job{id: rec.ID})
	}
	return nil
}

func (d *Daemon) setFile(id string, change func(*store.File)) error {
	return d.store.Update(func(tx store.Tx) error {
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
func (d *Daemon) ingest(ctx context.Context, fileID string) {
	var rec *store.File
	if err := d.store.View(func(tx store.Tx) (err error) { rec, err = tx.File(fileID); return }); err != nil {
		d.log.Error("ingest: file record missing", "file", fileID, "err", err)
		return
	}
	log := d.log.With("tenant", rec.Tenant, "file", rec.ID, "name", rec.Name)
	tenant := d.tenant(rec.Tenant)
	if tenant == nil {
		d.rejectFile(rec, rejectOther, fmt.Sprintf("tenant %q is no longer configured", rec.Tenant))
		return
	}
	f, err := os.Open(d.spoolPath(fileID))
	if err != nil {
		d.rejectFile(rec, rejectOther, "cannot read the spooled file: "+err.Error())
		return
	}
	defer f.Close()
	head := make([]byte, formats.SniffSize)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		d.rejectFile(rec, rejectOther, "cannot read the file: "+err.Error())
		return
	}
	if recipients.Sniff(head[:n]) {
		d.applyRegistrationFile(rec, f)
		return
	}
	if autogiro.Sniff(head[:n]) {
		d.applyBankFile(rec, f)
		return
	}
	if efaktura.SniffReport(head[:n]) {
		d.applyEfakturaReport(rec, f)
		return
	}
	reader, err := formats.Detect(head[:n], Readers)
	if err != nil {
		log.Warn("file rejected", "reason", err)
		class := rejectUnknownFormat
		if rec.Size == 0 {
			class = rejectEmpty
		}
		d.rejectFile(rec, class, err.Error())
		return
	}
	known := map[int]bool{}
	d.store.View(func(tx store.Tx) error {
		return tx.FileDocs(fileID, func(doc *store.Doc) error { known[doc.Index] = true; return nil })
	})
	var pending []formats.Item
	total := 0
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		d.askKivra(ctx, rec.Tenant, pending)
		err := d.recordItems(rec, tenant, pending)
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
	err = d.setFile(fileID, func(f *store.File) {
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
		d.metrics.fileRejected(rec.Tenant, rejectInvalid)
	}
	log.Info("file parsed", "format", reader.Name(), "documents", total, "error", readErr)
	d.engine.cutoffEndOfFile(rec.Tenant)
	d.receipts.touch(fileID)
}

func (d *Daemon) rejectFile(rec *store.File, class, reason string) {
	d.metrics.fileRejected(rec.Tenant, class)
	if err := d.setFile(rec.ID, func(f *store.File) { f.State, f.Reason = store.FileRejected, reason }); err != nil {
		d.log.Error("recording a rejected file failed", "file", rec.ID, "err", err)
	}
	d.receipts.touch(rec.ID)
}

// recordItems validates and routes a chunk of documents and records them,
// with their history and first deliveries, in one transaction.
func (d *Daemon) recordItems(rec *store.File, tenant *tenantState, items []formats.Item) error {
	now := time.Now().UTC()
	var queued []*store.Delivery
	var states []docState
	var rejected []*store.Doc // documents that end here: rejected, held, no channel
	err := d.store.Update(func(tx store.Tx) error {
		queued, states, rejected = queued[:0], states[:0], rejected[:0]
		for _, it := range items {
			doc := &store.Doc{
				ID: docID(rec.ID, it.Index), FileID: rec.ID, Tenant: rec.Tenant, Index: it.Index,
				Source: it.Source, State: store.DocReceived, Created: now, Updated: now,
			}
			if err := tx.AppendEvent(doc, store.Event{At: now, State: store.DocReceived}); err != nil {
				return err
			}
			if it.Err != nil {
				doc.State, doc.Reason = store.DocRejected, it.Err.Error()
				if err := tx.AppendEvent(doc, store.Event{At: now, State: store.DocRejected, Reason: doc.Reason}); err != nil {
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
			if err := tx.AppendEvent(doc, store.Event{At: now, State: store.DocParsed}); err != nil {
				return err
			}
			dl, collect, err := d.route(tx, tenant, doc, body, now)
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
	d.metrics.documentStates(states)
	for _, rej := range rejected {
		d.logDoc(rej).Warn("document "+string(rej.State), "reason", rej.Reason)
	}
	for _, dl := range queued {
		d.engine.enqueue(dl)
	}
	d.receipts.touch(rec.ID)
	return nil
}

func docID(fileID string, index int) string { return fmt.Sprintf("%s-%07d", fileID, index) }

// logDoc is the logger for lines about one document.
func (d *Daemon) logDoc(doc *store.Doc) *slog.Logger {
	return d.log.With("tenant", doc.Tenant, "file", doc.FileID, "doc", doc.ID, "number", doc.Number)
}

// applyRegistrationFile applies a recipient-registration CSV dropped into
// the inbox: every row in one transaction with the file's own record, or,
// when any line is bad, nothing (the receipt lists every bad line).
func (d *Daemon) applyRegistrationFile(rec *store.File, r io.ReaderAt) {
	now := time.Now().UTC()
	rows, err := recipients.Parse(io.NewSectionReader(r, 0, rec.Size), now)
	if err != nil {
		d.rejectFile(rec, rejectInvalid, "registration file: "+err.Error())
		return
	}
	err = d.store.Update(func(tx store.Tx) error {
		added, revoked, err := applyRows(tx, rec.Tenant, "file "+rec.Name, rows, now)
		if err != nil {
			return err
		}
		f, err := tx.File(rec.ID)
		if err != nil {
			return err
		}
		f.Format, f.State = "recipients", store.FileApplied
		f.Reason = fmt.Sprintf("registration file applied: %d registrations added, %d revoked", added, revoked)
		return tx.PutFile(f)
	})
	if err != nil {
		d.rejectFile(rec, rejectInvalid, "registration file: nothing applied: "+err.Error())
		return
	}
	d.log.Info("registration file applied", "tenant", rec.Tenant, "file", rec.ID, "name", rec.Name, "rows", len(rows))
	d.receipts.touch(rec.ID)
}

// syncDir makes the renames into dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
