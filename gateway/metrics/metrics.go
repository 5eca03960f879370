// Package metrics is what /metrics shows: the counters the parts of the
// daemon count events with (each part names the ones it uses in its own
// Metrics interface), and the gauges read from the store at scrape time
// (SetSources). It owns a private registry (Registry), which the parts
// that keep counters of their own register them with.
package metrics

import (
	"net/http"
	"runtime"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/multikanal/multikanal/gateway/store"
)

// Metrics is what /metrics shows. Events (a file arrived, a send failed) are
// counted as they happen by the methods below; state (documents by state,
// queue depth, store size) is read from the store at scrape time, so it is
// right after a restart and cannot drift from what `multikanal status` says.
//
// It owns a private registry rather than the global one: two daemons in one
// test binary would otherwise register the same names twice.
type Metrics struct {
	// Registry is the private registry; the parts' own counters join it.
	Registry *prometheus.Registry

	filesReceived  *prometheus.CounterVec
	filesRejected  *prometheus.CounterVec
	docStates      *prometheus.CounterVec
	attempts       *prometheus.CounterVec
	deliveryErrors *prometheus.CounterVec
	latency        *prometheus.HistogramVec
	sftpOpen       prometheus.Gauge
	sftpSessions   prometheus.Counter
	authFailures   prometheus.Counter
	bans           prometheus.Counter

	src *sourceCollector
}

// Rejection classes for FileRejected. The label must stay low-cardinality:
// the reason text itself is in the receipt and the log.
const (
	RejectUnknownFormat = "unknown_format"
	RejectEmpty         = "empty"
	RejectDuplicate     = "duplicate"
	RejectInvalid       = "invalid"
	RejectOther         = "other"
	RejectQuota         = "quota" // the store is over store.max_size
)

// noChannel labels documents that have no channel (rejected, held, not yet
// routed): an empty label value would read as "label absent" in PromQL.
const noChannel = "none"

// endToEndBuckets span a spool delivery (milliseconds) to an invoice that
// waited for a daily batch cut-off and retries up to delivery.max_age (72 h).
var endToEndBuckets = []float64{
	0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900,
	3600, 4 * 3600, 12 * 3600, 24 * 3600, 72 * 3600,
}

// New makes the metrics of a daemon of version.
func New(version string) *Metrics {
	reg := prometheus.NewRegistry()
	counterVec := func(name, help string, labels ...string) *prometheus.CounterVec {
		v := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
		reg.MustRegister(v)
		return v
	}
	m := &Metrics{
		Registry: reg,
		filesReceived: counterVec("multikanal_files_received_total",
			"Input files claimed from a tenant's inbox.", "tenant"),
		filesRejected: counterVec("multikanal_files_rejected_total",
			"Input files rejected as a whole, by class (unknown_format, empty, duplicate, invalid, quota, other).", "tenant", "reason"),
		docStates: counterVec("multikanal_document_transitions_total",
			"Document state changes, by the state entered and the channel at that moment.", "channel", "state"),
		attempts: counterVec("multikanal_delivery_attempts_total",
			"Sends tried, one per delivery or per batch file.", "channel"),
		deliveryErrors: counterVec("multikanal_delivery_errors_total",
			"Sends that failed, by class: temporary (retried) or permanent (falls back).", "channel", "class"),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "multikanal_end_to_end_seconds",
			Help:    "Time from the input file's arrival to the document's delivery.",
			Buckets: endToEndBuckets,
		}, []string{"channel"}),
		sftpOpen: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "multikanal_sftp_sessions_open", Help: "SFTP sessions logged in now."}),
		sftpSessions: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "multikanal_sftp_sessions_total", Help: "SFTP sessions logged in since start."}),
		authFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "multikanal_sftp_auth_failures_total", Help: "Failed SFTP logins."}),
		bans: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "multikanal_sftp_bans_total", Help: "Client addresses banned after repeated failed logins."}),
		src: &sourceCollector{},
	}
	build := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "multikanal_build_info",
		Help:        "Always 1; the labels say which build runs.",
		ConstLabels: prometheus.Labels{"version": version, "goversion": runtime.Version()},
	})
	build.Set(1)
	reg.MustRegister(m.latency, m.sftpOpen, m.sftpSessions, m.authFailures, m.bans, build, m.src,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the registry in the Prometheus text (or OpenMetrics)
// format. A source that fails (the store cannot be read) leaves its gauges
// out and the rest is still served: one broken gauge must not blind the
// alerting on the others.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{
		ErrorHandling:     promhttp.ContinueOnError,
		EnableOpenMetrics: true,
		Registry:          m.Registry,
	})
}

// FileReceived counts a file claimed from a tenant's inbox.
func (m *Metrics) FileReceived(tenant string) { m.filesReceived.WithLabelValues(tenant).Inc() }

// FileRejected counts a file rejected as a whole. A reason that is not one
// of the known classes is counted as "other" so no free text becomes a label.
func (m *Metrics) FileRejected(tenant, reason string) {
	switch reason {
	case RejectUnknownFormat, RejectEmpty, RejectDuplicate, RejectInvalid, RejectQuota:
	default:
		reason = RejectOther
	}
	m.filesRejected.WithLabelValues(tenant, reason).Inc()
}

// DocumentState counts a document entering state on channel ("" when it
// has none).
func (m *Metrics) DocumentState(channel string, state store.DocState) {
	m.docStates.WithLabelValues(channelLabel(channel), string(state)).Inc()
}

// DeliveryAttempt counts a send tried.
func (m *Metrics) DeliveryAttempt(channel string) { m.attempts.WithLabelValues(channel).Inc() }

// DeliveryError counts a failed send; class is "temporary" or "permanent"
// (outbound.ErrorClass's String).
func (m *Metrics) DeliveryError(channel, class string) {
	m.deliveryErrors.WithLabelValues(channel, class).Inc()
}

// EndToEnd observes how long a document took from its file's arrival to
// its delivery on channel.
func (m *Metrics) EndToEnd(channel string, d time.Duration) {
	m.latency.WithLabelValues(channel).Observe(d.Seconds())
}

// SFTPSession is called with +1 when an SFTP session logs in and -1 when it
// ends.
func (m *Metrics) SFTPSession(delta int) {
	m.sftpOpen.Add(float64(delta))
	if delta > 0 {
		m.sftpSessions.Add(float64(delta))
	}
}

// AuthFailure counts a failed SFTP login.
func (m *Metrics) AuthFailure() { m.authFailures.Inc() }

// Ban counts a client address banned.
func (m *Metrics) Ban() { m.bans.Inc() }

// SFTP feeds the SFTP server's events into the metrics (sftpd.Observer).
type SFTP struct{ M *Metrics }

func (o SFTP) Session(delta int) { o.M.SFTPSession(delta) }
func (o SFTP) AuthFailure()      { o.M.AuthFailure() }
func (o SFTP) Ban()              { o.M.Ban() }

// SetSources gives the gauges read at scrape time their data: document
// counts by state and channel, unfinished deliveries per channel, and the
// store's size. The daemon calls it once the store is open; before that the
// gauges are absent.
func (m *Metrics) SetSources(counts func() (map[string]map[string]int64, error), queue func() (map[string]QueueSample, error), storeSize func() int64) {
	m.src.mu.Lock()
	defer m.src.mu.Unlock()
	m.src.counts, m.src.queue, m.src.size = counts, queue, storeSize
}

// QueueSample is one channel's unfinished deliveries.
type QueueSample struct {
	// Depth counts the deliveries by state: queued (waiting for a worker),
	// retrying (waiting for the next try), batched (waiting for a cut-off
	// or in a batch not yet sent).
	Depth map[store.DeliveryState]int
	// Oldest is when the oldest of them was created.
	Oldest time.Time
}

var (
	descDocuments = prometheus.NewDesc("multikanal_documents",
		"Documents by current state and channel, from the store.", []string{"state", "channel"}, nil)
	descQueueDepth = prometheus.NewDesc("multikanal_queue_depth",
		"Unfinished deliveries by channel and state (queued, retrying, batched).", []string{"channel", "state"}, nil)
	descQueueAge = prometheus.NewDesc("multikanal_queue_oldest_age_seconds",
		"Age of the oldest unfinished delivery of the channel.", []string{"channel"}, nil)
	descStoreSize = prometheus.NewDesc("multikanal_store_size_bytes",
		"Size of state.db on disk.", nil, nil)
)

// sourceCollector turns the daemon's sources into gauges on every scrape.
type sourceCollector struct {
	mu     sync.Mutex
	counts func() (map[string]map[string]int64, error)
	queue  func() (map[string]QueueSample, error)
	size   func() int64
}

func (c *sourceCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descDocuments
	ch <- descQueueDepth
	ch <- descQueueAge
	ch <- descStoreSize
}

func (c *sourceCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	counts, queue, size := c.counts, c.queue, c.size
	c.mu.Unlock()
	if counts != nil {
		byState, err := counts()
		if err != nil {
			ch <- prometheus.NewInvalidMetric(descDocuments, err)
		}
		for state, byCh := range byState {
			for channel, n := range byCh {
				ch <- prometheus.MustNewConstMetric(descDocuments, prometheus.GaugeValue, float64(n), state, channelLabel(channel))
			}
		}
	}
	if queue != nil {
		samples, err := queue()
		if err != nil {
			ch <- prometheus.NewInvalidMetric(descQueueDepth, err)
		}
		now := time.Now()
		for channel, s := range samples {
			for state, n := range s.Depth {
				ch <- prometheus.MustNewConstMetric(descQueueDepth, prometheus.GaugeValue, float64(n), channel, string(state))
			}
			age := 0.0
			if !s.Oldest.IsZero() {
				age = now.Sub(s.Oldest).Seconds()
			}
			ch <- prometheus.MustNewConstMetric(descQueueAge, prometheus.GaugeValue, age, channel)
		}
	}
	if size != nil {
		ch <- prometheus.MustNewConstMetric(descStoreSize, prometheus.GaugeValue, float64(size()))
	}
}

func channelLabel(channel string) string {
	if channel == "" {
		return noChannel
	}
	return channel
}
