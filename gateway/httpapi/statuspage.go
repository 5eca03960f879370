package httpapi

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html"
	"html/template"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/multikanal/multikanal/gateway/api"
	"github.com/multikanal/multikanal/gateway/store"
	"github.com/multikanal/multikanal/gateway/upkeep"
)

// The status page is for an operator in a hurry: is it up, is it moving,
// what is stuck and why. It is rendered on the server, charts included (as
// inline SVG), so it needs no JavaScript and fetches nothing: it works on a
// loopback port through an SSH tunnel, and its Content-Security-Policy
// forbids every external fetch.

//go:embed web/status.html web/status.css
var webFS embed.FS

var statusTmpl = template.Must(template.New("status.html").Funcs(template.FuncMap{
	"clock": func(t time.Time) string { return clock(t, time.Now()) },
	"bytes": upkeep.HumanBytes,
}).ParseFS(webFS, "web/status.html"))

// statusCSS is inlined into the page: the page is one request, and the one
// route the page has (GET /) serves nothing else.
var statusCSS = func() template.CSS {
	b, err := webFS.ReadFile("web/status.css")
	if err != nil {
		panic(err)
	}
	return template.CSS(b)
}()

const (
	// chartHours is the span of the charts, the current hour included.
	chartHours = 24
	// maxRecentFiles bounds the "recent files" table.
	maxRecentFiles = 15
	// maxOlderFileDocs bounds the documents read for a recent file older
	// than the series (whose documents the series does not read anyway):
	// only a small one has its documents counted.
	maxOlderFileDocs = 1000
)

// hourlySeries is the last hours of work, one slot per hour, from Start.
type hourlySeries struct {
	Start time.Time
	Hours int
	// Files counts input files by the hour they arrived.
	Files []int
	// Delivered counts documents delivered, per channel, by the hour of
	// delivery.
	Delivered map[string][]int
	// Rejected counts documents and whole files rejected for their content
	// (the sender must fix them); Failing counts documents whose delivery is
	// retrying, failed or dead (a receiver or the gateway must).
	Rejected []int
	Failing  []int
	// Recent are the last files received, newest first, whatever their age:
	// the scan that fills the series sees them anyway.
	Recent []recentFile
}

// recentFile is one row of the recent files table.
type recentFile struct {
	*store.File
	// Docs counts the file's documents by state; nil for files older than
	// the series, whose documents were not read.
	Docs map[store.DocState]int
	// opened counts the documents whose invoice page was opened, when
	// Docs were read.
	opened *int
}

// Opened is how many of the file's documents had their invoice page
// opened by the recipient.
func (f recentFile) Opened() int {
	if f.opened == nil {
		return 0
	}
	return *f.opened
}

// count adds a document to the file's counts.
func (f recentFile) count(doc *store.Doc) {
	f.Docs[doc.State]++
	if !doc.Opened.IsZero() {
		*f.opened++
	}
}

// Delivered is how many of the file's documents are delivered.
func (f recentFile) Delivered() int { return f.Docs[store.DocDelivered] }

// stateCount is one part of a file's "what its documents are": a number of
// documents in one state, and the colour class it is shown in.
type stateCount struct {
	N     int
	State string
	Class string
}

// docStateOrder is the order a file's document states are told in: what
// needs someone first.
var docStateOrder = []struct {
	states []store.DocState
	label  string
	class  string
}{
	{[]store.DocState{store.DocDead}, "dead", "dead"},
	{[]store.DocState{store.DocFailed}, "failed", "failed"},
	{[]store.DocState{store.DocRetrying}, "retrying", "retrying"},
	{[]store.DocState{store.DocRejected}, "rejected", "rejected"},
	{[]store.DocState{store.DocHeld}, "held", "held"},
	{inProgress, "in progress", "progress"},
	{[]store.DocState{store.DocDelivered}, "delivered", "delivered"},
	{[]store.DocState{store.DocSkipped}, "skipped", "skipped"},
}

// DocStates tells what a parsed file's documents are ("2 dead", "1
// delivered"), each in its state's colour; nil when they were not read or
// the file is not parsed, and the file's own state is shown instead. A
// parsed file is not "done": 0 of 2 delivered must not read as green.
func (f recentFile) DocStates() []stateCount {
	if f.Docs == nil || f.State != store.FileParsed {
		return nil
	}
	var out []stateCount
	for _, o := range docStateOrder {
		n := 0
		for _, s := range o.states {
			n += f.Docs[s]
		}
		if n > 0 {
			out = append(out, stateCount{n, o.label, o.class})
		}
	}
	return out
}

// hourly reads the work done since the start of since's hour from the store.
// Only the documents of files received in that window are read, so the cost
// follows the last day's volume, not the store's size. Documents are placed
// by their last change, which for a delivered or dead one is when it got
// there.
func (s *Server) hourly(since time.Time) (hourlySeries, error) {
	start := since.Truncate(time.Hour)
	hours := int(time.Since(start)/time.Hour) + 1
	hs := hourlySeries{Start: start, Hours: hours, Files: make([]int, hours),
		Delivered: map[string][]int{}, Rejected: make([]int, hours), Failing: make([]int, hours)}
	slot := func(t time.Time) int {
		i := int(t.Sub(start) / time.Hour)
		return max(0, min(i, hours-1))
	}
	var recent, window []recentFile
	err := s.Store.View(func(tx store.Tx) error {
		// File ids grow with arrival: the scan goes back from the newest
		// and stops when the table is full and the window is behind it.
		return tx.ForEachFileNewestFirst(func(f *store.File) error {
			inWindow := !f.ReceivedAt.Before(start)
			if !inWindow && len(recent) == maxRecentFiles {
				return errEnough
			}
			rf := recentFile{File: f}
			if inWindow {
				hs.Files[slot(f.ReceivedAt)]++
				if f.State == store.FileRejected {
					hs.Rejected[slot(f.ReceivedAt)]++
				}
				rf.Docs, rf.opened = map[store.DocState]int{}, new(int)
				window = append(window, rf)
			}
			if len(recent) < maxRecentFiles {
				recent = append(recent, rf)
			}
			return nil
		})
	})
	if errors.Is(err, errEnough) {
		err = nil
	}
	// A recent file older than the window has its documents counted when
	// it is small, so the table can say what they are.
	for i, rf := range recent {
		if rf.Docs == nil && rf.State == store.FileParsed && rf.File.Docs <= maxOlderFileDocs {
			recent[i].Docs, recent[i].opened = map[store.DocState]int{}, new(int)
			if err == nil {
				err = s.Store.ScanFileDocs(rf.ID, func(doc *store.Doc) error { recent[i].count(doc); return nil })
			}
		}
	}
	// The window's documents are read in short transactions: a file of a
	// million invoices must not hold every commit up.
	for _, rf := range window {
		if err != nil {
			break
		}
		err = s.Store.ScanFileDocs(rf.ID, func(doc *store.Doc) error {
			rf.count(doc)
			switch doc.State {
			case store.DocDelivered:
				if hs.Delivered[doc.Channel] == nil {
					hs.Delivered[doc.Channel] = make([]int, hours)
				}
				hs.Delivered[doc.Channel][slot(doc.Updated)]++
			case store.DocRejected:
				hs.Rejected[slot(doc.Updated)]++
			case store.DocRetrying, store.DocFailed, store.DocDead:
				hs.Failing[slot(doc.Updated)]++
			}
			return nil
		})
	}
	hs.Recent = recent
	return hs, err
}

// statusPage serves the operator's page at /.
func (s *Server) statusPage(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	st, err := s.Status()
	if err != nil {
		http.Error(w, "reading the store: "+err.Error(), http.StatusInternalServerError)
		return
	}
	hs, err := s.hourly(now.Add(-(chartHours - 1) * time.Hour))
	if err != nil {
		http.Error(w, "reading the store: "+err.Error(), http.StatusInternalServerError)
		return
	}
	v := newStatusView(st, hs, now, s.Registered())
	if sess := sessionOf(r); sess != nil {
		v.CSRF = sess.csrf
	}
	if v.Payments, err = s.paymentRows(); err != nil {
		http.Error(w, "reading the store: "+err.Error(), http.StatusInternalServerError)
		return
	}
	v.Distribution, v.Life = s.distribution()
	var buf bytes.Buffer
	if err := statusTmpl.Execute(&buf, v); err != nil {
		http.Error(w, "rendering the status page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	w.Write(buf.Bytes())
}

// statusView is what the template shows.
type statusView struct {
	St       *api.Status
	Now      time.Time
	CSS      template.CSS
	Tiles    []tile
	Charts   []chart
	Channels []channelRow
	Recent   []recentFile
	// CSRF is the session's token, which every form on the page carries
	// (field "csrf"); "" when the page was not opened in a session.
	CSRF     string
	Payments []paymentRow
	// Distribution and Life are each tenant's months of distribution and
	// invoices by life state (distribution.go).
	Distribution []distributionRow
	Life         []lifeRow
}

// paymentRow is one payment state on the status page: how many invoices
// are in it, from the counts the store keeps.
type paymentRow struct {
	State   store.PaymentState
	Label   string
	Meaning string
	Count   int64
	Class   string // "", "warn" or "bad" when some are in it
}

// paymentStates are the payment states in the order of an invoice's life.
var paymentStates = []paymentRow{
	{State: store.PaymentOpen, Label: "open", Meaning: "the payer pays; nothing reported paid yet"},
	{State: store.PaymentScheduled, Label: "scheduled", Meaning: "AutoGiro withdrawal ordered, waiting for its payment file or its date"},
	{State: store.PaymentCollected, Label: "collected", Meaning: "withdrawn by AutoGiro"},
	{State: store.PaymentPaid, Label: "paid", Meaning: "paid in full, as the bank reports (Bg Max)"},
	{State: store.PaymentPartlyPaid, Label: "partly paid", Meaning: "part of the amount due paid", Class: "warn"},
	{State: store.PaymentRefunded, Label: "refunded", Meaning: "money went back to the payer", Class: "warn"},
	{State: store.PaymentCancelled, Label: "cancelled", Meaning: "withdrawal cancelled before it was made", Class: "warn"},
	{State: store.PaymentFailed, Label: "failed", Meaning: "not collected: payment file failed, order rejected or payment stopped", Class: "bad"},
}

// paymentRows counts the invoices in each payment state.
func (s *Server) paymentRows() ([]paymentRow, error) {
	var counts map[store.PaymentState]int64
	err := s.Store.View(func(tx store.Tx) (err error) { counts, err = tx.PaymentCounts(); return err })
	rows := make([]paymentRow, len(paymentStates))
	for i, r := range paymentStates {
		r.Count = counts[r.State]
		if r.Count == 0 {
			r.Class = ""
		}
		rows[i] = r
	}
	return rows, err
}

type tile struct {
	Label string
	Value string
	// Class is "", "ok", "warn" or "bad".
	Class string
}

type chart struct {
	Title  string
	Total  int
	SVG    template.HTML
	Legend []chartSeries
}

type channelRow struct {
	Name                                        string
	Color                                       string
	Delivered24h, Delivered, InProgress, Queued int64
	Retrying, Dead                              int64
}

// inProgress are the document states on the way to delivery.
var inProgress = []store.DocState{store.DocReceived, store.DocParsed, store.DocRouted, store.DocQueued}

// newStatusView lays the page out; registered are the channels, in their
// registration order.
func newStatusView(st *api.Status, hs hourlySeries, now time.Time, registered []string) statusView {
	v := statusView{St: st, Now: now, CSS: statusCSS, Recent: hs.Recent}
	sum := func(m map[store.DocState]int64, states ...store.DocState) (n int64) {
		for _, s := range states {
			n += m[s]
		}
		return n
	}
	// The status speaks the API's words; the page counts in the store's.
	docs := map[store.DocState]int64{}
	for state, n := range st.Documents {
		docs[store.DocState(state)] = n
	}
	class := func(n int64, bad string) string {
		if n > 0 {
			return bad
		}
		return ""
	}
	v.Tiles = []tile{
		{"Delivered", fmt.Sprint(docs[store.DocDelivered]), "ok"},
		{"In progress", fmt.Sprint(sum(docs, inProgress...)), ""},
		{"Retrying", fmt.Sprint(docs[store.DocRetrying]), class(docs[store.DocRetrying], "warn")},
		{"Dead", fmt.Sprint(sum(docs, store.DocFailed, store.DocDead)), class(sum(docs, store.DocFailed)+docs[store.DocDead]-st.DeadAcknowledged, "bad")},
		{"Rejected", fmt.Sprint(docs[store.DocRejected]), class(docs[store.DocRejected], "warn")},
		{"Held", fmt.Sprint(docs[store.DocHeld]), ""},
		{"Files open", fmt.Sprint(st.FilesOpen), ""},
		{"Store", upkeep.HumanBytes(st.StoreBytes), ""},
	}

	channels := orderChannels(st, hs, registered)
	color := func(ch string) string { return channelColor(registered, ch) }
	var delivered []chartSeries
	for _, ch := range channels {
		if vals := hs.Delivered[ch]; vals != nil {
			delivered = append(delivered, chartSeries{Name: ch, Color: color(ch), Values: vals})
		}
	}
	v.Charts = []chart{
		newChart("Files received", hs, []chartSeries{{Name: "files", Color: "#4c6ef5", Values: hs.Files}}),
		newChart("Invoices delivered", hs, delivered),
		newChart("Failures", hs, []chartSeries{
			{Name: "rejected input", Color: "#f59f00", Values: hs.Rejected},
			{Name: "delivery failing", Color: "#e03131", Values: hs.Failing},
		}),
	}
	for _, ch := range channels {
		by := st.ByChannel[ch]
		row := channelRow{Name: ch, Color: color(ch), Queued: int64(st.Queue[ch].Ready)}
		for _, n := range hs.Delivered[ch] {
			row.Delivered24h += int64(n)
		}
		row.Delivered = by[string(store.DocDelivered)]
		for _, s := range inProgress {
			row.InProgress += by[string(s)]
		}
		row.Retrying = by[string(store.DocRetrying)]
		row.Dead = by[string(store.DocFailed)] + by[string(store.DocDead)]
		v.Channels = append(v.Channels, row)
	}
	return v
}

// channelColors are the channels' colours, by their place in the
// registration, so a channel keeps its colour from chart to table and from
// one day to the next.
var channelColors = []string{"#1c7ed6", "#0ca678", "#ae3ec9", "#f76707", "#e64980", "#495057", "#2b8a3e", "#f59f00", "#1098ad", "#7048e8"}

// channelColor is a registered channel's colour; grey for a channel the
// store knows that is no longer registered.
func channelColor(registered []string, ch string) string {
	if i := slices.Index(registered, ch); i >= 0 {
		return channelColors[i%len(channelColors)]
	}
	return "#868e96"
}

// orderChannels lists every registered channel, in registration order
// (distribution in the default priority order, so the page reads like the
// routing does), then any other channel the status or the series knows,
// by name.
func orderChannels(st *api.Status, hs hourlySeries, registered []string) []string {
	seen := map[string]bool{}
	for _, ch := range registered {
		seen[ch] = true
	}
	for ch := range st.Queue {
		if !strings.HasPrefix(ch, "(") { // "(retries)" is the shared scheduler, not a channel
			seen[ch] = true
		}
	}
	for ch := range st.ByChannel {
		seen[ch] = true
	}
	for ch := range hs.Delivered {
		seen[ch] = true
	}
	out := make([]string, 0, len(seen))
	for ch := range seen {
		out = append(out, ch)
	}
	rank := func(ch string) int {
		if i := slices.Index(registered, ch); i >= 0 {
			return i
		}
		return len(registered)
	}
	sort.Slice(out, func(i, j int) bool {
		ri, rj := rank(out[i]), rank(out[j])
		if ri != rj {
			return ri < rj
		}
		return out[i] < out[j]
	})
	return out
}

// chartSeries is one coloured part of a stacked bar chart.
type chartSeries struct {
	Name   string
	Color  string
	Values []int
}

// Chart geometry, in SVG user units; the SVG scales to its box.
const (
	chartW, chartH       = 360, 150
	chartLeft, chartRite = 30, 6
	chartTop, chartBot   = 8, 20
)

func newChart(title string, hs hourlySeries, series []chartSeries) chart {
	c := chart{Title: title, Legend: series}
	for _, s := range series {
		for _, n := range s.Values {
			c.Total += n
		}
	}
	c.SVG = barChart(title, hs.Start, hs.Hours, series)
	return c
}

// barChart draws the series as stacked bars, one per hour, with the hour
// under every sixth bar and a tooltip (<title>) on each bar.
func barChart(title string, start time.Time, hours int, series []chartSeries) template.HTML {
	peak := 0
	for i := range hours {
		stack := 0
		for _, s := range series {
			stack += s.Values[i]
		}
		peak = max(peak, stack)
	}
	top := niceCeil(peak)
	plotW, plotH := float64(chartW-chartLeft-chartRite), float64(chartH-chartTop-chartBot)
	slotW := plotW / float64(hours)
	y := func(n int) float64 { return chartTop + plotH - plotH*float64(n)/float64(top) }

	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-label="%s per hour, last %d hours">`,
		chartW, chartH, html.EscapeString(title), hours)
	for _, n := range []int{0, top / 2, top} {
		if n == 0 && top/2 == 0 {
			continue
		}
		fmt.Fprintf(&b, `<line class="grid" x1="%d" x2="%d" y1="%.1f" y2="%.1f"/>`, chartLeft, chartW-chartRite, y(n), y(n))
		fmt.Fprintf(&b, `<text class="ylabel" x="%d" y="%.1f">%d</text>`, chartLeft-4, y(n)+3, n)
	}
	for i := range hours {
		x := chartLeft + slotW*float64(i)
		hour := start.Add(time.Duration(i) * time.Hour).Local()
		if hour.Hour()%6 == 0 {
			fmt.Fprintf(&b, `<text class="xlabel" x="%.1f" y="%d">%s</text>`, x+slotW/2, chartH-6, hour.Format("15:04"))
		}
		base := 0
		var tip []string
		for _, s := range series {
			n := s.Values[i]
			if n == 0 {
				continue
			}
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>`,
				x+slotW*0.15, y(base+n), slotW*0.7, y(base)-y(base+n), s.Color)
			base += n
			tip = append(tip, fmt.Sprintf("%s %d", s.Name, n))
		}
		if base > 0 {
			// A transparent hit area over the whole slot carries the tooltip,
			// so thin bars are easy to point at.
			fmt.Fprintf(&b, `<rect class="hit" x="%.1f" y="%d" width="%.1f" height="%.1f"><title>%s–%s: %s</title></rect>`,
				x, chartTop, slotW, plotH, hour.Format("15:04"), hour.Add(time.Hour).Format("15:04"),
				html.EscapeString(strings.Join(tip, ", ")))
		}
	}
	fmt.Fprintf(&b, `<line class="axis" x1="%d" x2="%d" y1="%.1f" y2="%.1f"/>`, chartLeft, chartW-chartRite, y(0), y(0))
	if peak == 0 {
		fmt.Fprintf(&b, `<text class="empty" x="%.1f" y="%.1f">nothing in the last %d hours</text>`,
			chartLeft+plotW/2, chartTop+plotH/2, hours)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// niceCeil rounds n up to 1, 2 or 5 times a power of ten, so the axis reads
// in round numbers; never less than 2, so the middle grid line is whole.
func niceCeil(n int) int {
	if n <= 2 {
		return 2
	}
	for p := 1; ; p *= 10 {
		for _, m := range []int{1, 2, 5} {
			if m*p >= n {
				return m * p
			}
		}
	}
}

// clock shows a time of today as 15:04:05 and an older one with its date.
func clock(t, now time.Time) string {
	if t.IsZero() {
		return ""
	}
	t = t.Local()
	if y, m, d := t.Date(); y == now.Year() && m == now.Month() && d == now.Day() {
		return t.Format("15:04:05")
	}
	return t.Format("2006-01-02 15:04")
}

// errEnough stops a scan that has found what it was asked for.
var errEnough = errors.New("enough")
