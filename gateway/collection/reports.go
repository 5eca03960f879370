package collection

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/gateway/route"
	"github.com/multikanal/multikanal/gateway/store"
	"github.com/multikanal/multikanal/outbound"
)

// Receivers' reports on deliveries, whichever channel they are about and
// however they arrive (posted to the public listener, or as a file in the
// tenant's inbox), are applied here, by one path.

// errReportTooEarly asks the receiver to post a report again later: it
// came before the send it is about was recorded.
var errReportTooEarly = errors.New("the delivery's send is not recorded yet")

// reportFrom says where a report came from.
type reportFrom struct {
	// file is the report file, for a report that came through the inbox:
	// it may name only its tenant's deliveries, and is recorded as applied
	// in the same transaction.
	file *store.File
}

// reportTally counts a report's results as the receiver gave them.
type reportTally struct {
	confirmed, failed int
	ignored           []string // why results changed nothing
	next              []*store.Delivery
	files             map[string]bool // the input files whose documents changed
}

// applyReport applies a receiver's report on deliveries of channel in one
// transaction: a confirmed delivery is recorded in its document's history;
// a failed one fails after the fact, and the document falls back to its
// next channel (a paper invoice, say). Only a delivered delivery that no
// report confirmed yet awaits one: a report about anything else (a
// delivery confirmed or failed already, one the document has moved on
// from, a message the delivery did not send) changes nothing, so a
// replayed report cannot undo a delivery. A batch report is applied whole
// or refused, naming what does not match.
func (c *Collection) applyReport(channel string, rep outbound.Report, from reportFrom) (*reportTally, error) {
	now := time.Now().UTC()
	source := ""
	if from.file != nil {
		source = " (report " + from.file.Name + ")"
	}
	var t *reportTally
	err := c.Store.Update(func(tx store.Tx) error {
		t = &reportTally{files: map[string]bool{}}
		dls, err := reportDeliveries(tx, channel, rep, from)
		if err != nil {
			return err
		}
		for i, res := range rep.Results {
			switch res.Outcome {
			case outbound.Confirmed:
				t.confirmed++
			case outbound.Failed:
				t.failed++
			}
			dl := dls[i]
			if dl == nil {
				t.ignored = append(t.ignored, "no such delivery")
				continue
			}
			doc, err := tx.Doc(dl.DocID)
			if err != nil {
				return err
			}
			why := ""
			switch {
			case res.Outcome == outbound.Pending:
				continue // the receiver took it; the end state follows
			case dl.State == store.DeliveryQueued || dl.State == store.DeliveryRetrying:
				if rep.Batch == "" {
					return errReportTooEarly
				}
				why = fmt.Sprintf("delivery %s is %s", dl.ID, dl.State)
			case dl.State != store.DeliveryDelivered || doc.Channel != dl.Channel:
				why = fmt.Sprintf("the delivery is %s and the document on %q", dl.State, doc.Channel)
			case dl.Confirmed:
				why = "the receiver confirmed it already"
			case res.Ref != "" && dl.Ref != "" && res.Ref != dl.Ref:
				why = fmt.Sprintf("the report is about message %s, the delivery sent message %s", res.Ref, dl.Ref)
			}
			if why != "" {
				t.ignored = append(t.ignored, why)
				continue
			}
			t.files[doc.FileID] = true
			switch res.Outcome {
			case outbound.Confirmed:
				dl.Confirmed, dl.Updated = true, now
				if err := tx.PutDelivery(dl); err != nil {
					return err
				}
				if err := tx.AppendEvent(doc, store.Event{At: now, State: doc.State, Channel: dl.Channel, Reason: res.Reason + source}); err != nil {
					return err
				}
				if err := tx.PutDoc(doc); err != nil {
					return err
				}
			case outbound.Failed:
				next, err := route.FailDelivered(tx, c.Channels, dl, doc, res.Reason+source, now)
				if err != nil {
					return err
				}
				t.next = append(t.next, next)
			}
		}
		if from.file == nil {
			return nil
		}
		f, err := tx.File(from.file.ID)
		if err != nil {
			return err
		}
		f.Format, f.State = channel+"-report", store.FileApplied
		f.Reason = fmt.Sprintf("%s report for batch %s applied: %d accepted, %d rejected", channel, rep.Batch, t.confirmed, t.failed)
		return tx.PutFile(f)
	})
	if err != nil {
		return nil, err
	}
	c.Delivery.Requeue(t.next...)
	for id := range t.files {
		c.Receipts.Touch(id)
	}
	return t, nil
}

// reportDeliveries finds the delivery each result of a report names (nil
// for one that names none of this gateway's deliveries), or refuses the
// report.
func reportDeliveries(tx store.Tx, channel string, rep outbound.Report, from reportFrom) ([]*store.Delivery, error) {
	dls := make([]*store.Delivery, len(rep.Results))
	if rep.Batch == "" {
		for i, res := range rep.Results {
			if res.Key == "" {
				return nil, fmt.Errorf("the report names no delivery (the callback URL lost its key parameter)")
			}
			dl, err := tx.Delivery(res.Key)
			switch {
			case errors.Is(err, store.ErrNotFound):
				continue
			case err != nil:
				return nil, fmt.Errorf("delivery %s: %w", res.Key, err)
			case dl.Channel != channel || from.file != nil && dl.Tenant != from.file.Tenant:
				continue
			}
			dls[i] = dl
		}
		return dls, nil
	}
	b, err := tx.Batch(rep.Batch)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("batch %q is not one this gateway sent", rep.Batch)
	}
	if err != nil {
		return nil, err
	}
	if b.Channel != channel || from.file != nil && b.Tenant != from.file.Tenant {
		return nil, fmt.Errorf("batch %q is not a %s batch of this tenant", rep.Batch, channel)
	}
	byNumber := map[string]*store.Delivery{}
	for _, id := range b.Deliveries {
		dl, err := tx.Delivery(id)
		if err != nil {
			return nil, err
		}
		doc, err := tx.Doc(dl.DocID)
		if err != nil {
			return nil, err
		}
		byNumber[doc.Number] = dl
	}
	for i, res := range rep.Results {
		if dls[i] = byNumber[res.Number]; dls[i] == nil {
			return nil, fmt.Errorf("result %d: invoice %q is not in batch %s", i+1, res.Number, rep.Batch)
		}
	}
	return dls, nil
}

// ReportHandler serves the reports a channel's receiver posts to the
// public listener (the channel is an outbound.CallbackReports). It asks
// the channel's current parts for each request, so a reload's channel
// serves the next report.
func (c *Collection) ReportHandler(channel string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ch, _, _ := c.Channels.Channel(channel)
		cr, ok := ch.(outbound.CallbackReports)
		if !ok {
			http.NotFound(w, r)
			return
		}
		cr.ReportHandler(func(rep outbound.Report) error {
			t, err := c.applyReport(channel, rep, reportFrom{})
			if err != nil {
				return err
			}
			if len(t.ignored) > 0 {
				c.Log.Info("a receiver's report changes nothing", "channel", channel, "results", len(rep.Results), "why", t.ignored)
			}
			return nil
		}).ServeHTTP(w, r)
	})
}

// CallbackReports are the channels whose receivers post their reports to
// the public listener, by name.
func (c *Collection) CallbackReports() []string {
	var out []string
	for _, name := range c.Channels.Names() {
		if ch, _, _ := c.Channels.Channel(name); ch != nil {
			if _, ok := ch.(outbound.CallbackReports); ok {
				out = append(out, name)
			}
		}
	}
	return out
}

// FileReports are the receivers' report files that come back through a
// tenant's inbox (a bank's report on an e-faktura batch), as intake
// applies them: each channel that is an outbound.FileReports tells its
// own by their first bytes.
func (c *Collection) FileReports() Applier { return fileReports{c} }

type fileReports struct{ c *Collection }

// channel is the channel whose report the first bytes are, or "".
func (f fileReports) channel(head []byte) (string, outbound.FileReports) {
	for _, name := range f.c.Channels.Names() {
		ch, _, _ := f.c.Channels.Channel(name)
		if fr, ok := ch.(outbound.FileReports); ok && fr.SniffReport(head) {
			return name, fr
		}
	}
	return "", nil
}

func (f fileReports) Sniff(head []byte) bool {
	name, _ := f.channel(head)
	return name != ""
}

// Apply applies a report file whole, or nothing with the error saying why
// (intake rejects the file with it).
func (f fileReports) Apply(rec *store.File, r io.ReaderAt) error {
	head := make([]byte, formats.SniffSize)
	n, err := r.ReadAt(head, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("cannot read the file: %w", err)
	}
	channel, fr := f.channel(head[:n])
	if fr == nil {
		return errors.New("the file is no longer a report any channel reads (the configuration was reloaded)")
	}
	rep, err := fr.ReadReport(io.NewSectionReader(r, 0, rec.Size))
	if err != nil {
		return fmt.Errorf("%s report: %w", channel, err)
	}
	if _, err := f.c.applyReport(channel, rep, reportFrom{file: rec}); err != nil {
		return fmt.Errorf("%s report: nothing applied: %w", channel, err)
	}
	return nil
}
