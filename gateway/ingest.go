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
	"github.com/multikanal/multikanal/formats/recipients"
	"github.com/multikanal/multikanal/gateway/store"
	"github.com/multikanal/multikanal/outbound"
	"golang.org/x/sys/unix"
)

// chunkSize is how many documents of one file are recorded per transaction:
// large enough that commits (fsyncs) are not the bottleneck, small enough
// that a crash repeats little work.
const chunkSize = 256

func (d *Daemon) spoolPath(fileID string) string { return filepath.Join(d.dataDir, "spool", fileID) }

// inboxFile is a complete file in a tenant's inbox, to be claimed.
type inboxFile struct{ tenant, path string }

// claimGroup is how many inbox files are claimed together: one sync, two
// commits and one spool-folder sync for all of them. Many small uploads
// (an ERP sending one file per invoice over SFTP) would otherwise cost two
// commits and three syncs each.
const claimGroup = 256

// claim takes files out of the tenants' inboxes: it makes their bytes
// durable (whoever wrote them, cp or the SFTP server, may not have synced
// them), records them (so a crash after this point can always be resumed),
// then moves them into the spool under their ids. The same bytes from the
// same tenant are recorded as a duplicate and not processed again. A file
// that cannot be read is reported and left in the inbox; the others go on.
func (d *Daemon) claim(files []inboxFile) {
	type read struct {
		inboxFile
		sum  string
		size int64
	}
	var ok []read
	var dirs = map[string]bool{}
	for _, f := range files {
		sum, size, err := d.hashFile(f.path)
		if err != nil {
			if !errors.Is(err, os.ErrNotExist) {
				d.log.Error("claiming a file failed; it stays in the inbox and is tried again", "tenant", f.tenant, "path", f.path, "err", err)
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
	if err := syncFileSystems(dirs); err != nil {
		d.log.Error("claiming files failed: cannot sync the inbox; they stay and are tried again", "files", len(ok), "err", err)
		return
	}
	now := time.Now().UTC()
	recs := make([]*store.File, len(ok))
	err := d.store.Update(func(tx store.Tx) error {
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
		d.log.Error("claiming files failed; they stay in the inbox and are tried again", "files", len(ok), "err", err)
		return
	}
	if err := d.moveToSpool(recs...); err != nil {
		d.log.Error("moving claimed files into the spool failed; they are moved at the next start", "files", len(recs), "err", err)
	}
}

// hashFile returns a file's SHA-256 and size: the SFTP server's hash when
// the file is unchanged since it landed, else by reading it.
func (d *Daemon) hashFile(path string) (string, int64, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return "", 0, err
	}
	if sum, ok := d.uploads.take(path, fi); ok {
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
func (d *Daemon) moveToSpool(recs ...*store.File) error {
	var moved []*store.File
	var firstErr error
	for _, rec := range recs {
		dst := d.spoolPath(rec.ID)
		if _, err := os.Stat(dst); err != nil {
			if err := os.Rename(rec.InboxPath, dst); err != nil {
				if errors.Is(err, os.ErrNotExist) {
					if err := d.setFile(rec.ID, func(f *store.File) {
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
	if err := syncDir(filepath.Dir(d.spoolPath(moved[0].ID))); err != nil {
		return fmt.Errorf("syncing the spool folder: %w", err)
	}
	err := d.store.Update(func(tx store.Tx) error {
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
	for _, rec := range moved {
		d.log.Info("file claimed", "tenant", rec.Tenant, "file", rec.ID, "name", rec.Name, "size", rec.Size, "sha256", rec.SHA256, "duplicate_of", rec.DuplicateOf)
		d.metrics.fileReceived(rec.Tenant)
		if rec.DuplicateOf != "" {
			d.metrics.fileRejected(rec.Tenant, rejectDuplicate)
		}
		d.receipts.touch(rec.ID)
		if rec.DuplicateOf == "" {
			d.ingestQ.push(rec.Tenant, rec.ID)
		}
	}
	return firstErr
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
	if d.refuseOverQuota(rec) {
		return
	}
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
	cfg := d.live.Load()
	for _, name := range cfg.ChannelNames() {
		l := d.lanes[name] // none for a channel that is off
		if l == nil {
			continue
		}
		if fr, ok := l.get().ch.(outbound.FileReports); ok && fr.SniffReport(head[:n]) {
			d.reportFile(rec, name, fr, f)
			return
		}
	}
	reader, err := formats.Detect(head[:n], Readers(cfg))
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
		d.prefetch(ctx, rec.Tenant, pending)
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

// rejectFile records that a file is refused, and why, without waiting for
// the commit: nothing after it depends on the record, and a burst of refused
// files (a folder of wrong files uploaded at once) then shares commits
// instead of taking one commit each, one after the other. A stop waits for
// the record (Run); should it be lost in a crash, the file is still
// "received" and is read, and refused, again at the next start.
func (d *Daemon) rejectFile(rec *store.File, class, reason string) {
	d.metrics.fileRejected(rec.Tenant, class)
	d.recording.Add(1)
	go func() {
		defer d.recording.Done()
		if err := d.setFile(rec.ID, func(f *store.File) { f.State, f.Reason = store.FileRejected, reason }); err != nil {
			d.log.Error("recording a rejected file failed", "file", rec.ID, "err", err)
		}
		d.receipts.touch(rec.ID)
	}()
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
			doc.Keys = d.keyHashes(docKeys(body, now))
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
	rows, err := recipients.Parse(io.NewSectionReader(r, 0, rec.Size), now, recipientChannels(d.live.Load()))
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

// syncFileSystems writes all dirty data of the file systems holding dirs to
// disk, one syncfs each.
func syncFileSystems(dirs map[string]bool) error {
	synced := map[uint64]bool{}
	for dir := range dirs {
		var st unix.Stat_t
		if err := unix.Stat(dir, &st); err != nil {
			return err
		}
		if synced[st.Dev] {
			continue
		}
		synced[st.Dev] = true
		if err := syncFS(dir); err != nil {
			return err
		}
	}
	return nil
}

// syncFS writes all dirty data of the file system holding dir to disk.
func syncFS(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return unix.Syncfs(int(d.Fd()))
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
