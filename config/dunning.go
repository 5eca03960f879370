package config

import (
	"math/big"
	"net/url"
	"strings"
	"time"

	"github.com/multikanal/multikanal/formats"
)

// Reminders is a tenant's [tenant.reminders] table: when the daemon
// reminds a customer of an invoice not paid on time, what it adds, and
// when it hands the invoice to debt collection (docs/reminders.md).
type Reminders struct {
	// After is how long after a due date (the invoice's, then each
	// reminder's) a reminder goes out; default 10 days.
	After Duration `toml:"after"`
	// Max is how many reminders an invoice gets at most; default 1.
	Max int `toml:"max"`
	// PayWithin is how long a reminder gives to pay; default 10 days.
	PayWithin Duration `toml:"pay_within"`
	// Fee is the påminnelseavgift in kronor, like "60". The customer
	// owes it only when it was agreed when the debt arose (lag
	// (1981:739) 2 §), which FeeAgreed says; it is at most MaxFee
	// (förordning (2013:60) 1 §).
	Fee       string `toml:"fee"`
	FeeAgreed bool   `toml:"fee_agreed"`
	// Interest is the dröjsmålsränta: "reference" (the reference rate
	// plus 8 percentage points, räntelagen (1975:635) 6 § and 9 §), a
	// rate in percent a year like "12.5", or "none". Default "none".
	Interest string `toml:"interest"`
	// ReferenceRate is Riksbanken's reference rate in force (set each 1
	// January and 1 July, räntelagen 9 §), in percent, like "1.75";
	// required with interest = "reference".
	ReferenceRate string `toml:"reference_rate"`
	// OCR is the reference a reminder is paid with: "invoice" (the
	// invoice's own OCR number, default) or "own" (a new OCR number per
	// reminder, which a bank's payment of it still finds the invoice by).
	OCR string `toml:"ocr"`
	// At is when the daemon makes the day's reminders, "HH:MM" local time;
	// default "08:00".
	At string `toml:"at"`
	// CollectionAgency is how long after the last reminder's due date an
	// invoice still unpaid is handed to debt collection (inkasso): its
	// state becomes collection_agency and the inkasso export lists it.
	// 0 (left out) never hands one over.
	CollectionAgency Duration `toml:"collection_agency"`

	// FeeAmount and RatePercent are Fee and the interest rate as read;
	// zero when none.
	FeeAmount   formats.Amount  `toml:"-"`
	RatePercent formats.Decimal `toml:"-"`
}

// MaxFee is the highest påminnelseavgift: 60 kronor (förordning (2013:60)
// om ersättning för inkassokostnader m.m. 1 §, for a written reminder
// under lag (1981:739) 2 §).
const MaxFee = formats.Amount(6000)

// Defaults of [tenant.reminders].
const (
	DefaultRemindAfter = Duration(10 * 24 * time.Hour)
	DefaultPayWithin   = Duration(10 * 24 * time.Hour)
)

// WholeDays is a duration in whole days, as reminders count them.
func WholeDays(d Duration) int { return int(time.Duration(d) / (24 * time.Hour)) }

// ReminderTime is the hour and minute the tenant's reminders are made.
func (r *Reminders) ReminderTime() (hour, minute int) {
	t, err := time.Parse("15:04", r.At)
	if err != nil {
		return 8, 0
	}
	return t.Hour(), t.Minute()
}

func (c *Config) validateReminders(ps *problems, key string, r *Reminders) {
	if r == nil {
		return
	}
	key += ".reminders"
	if r.After == 0 {
		r.After = DefaultRemindAfter
	}
	if r.PayWithin == 0 {
		r.PayWithin = DefaultPayWithin
	}
	checkDuration(ps, key+".after", r.After)
	checkDuration(ps, key+".pay_within", r.PayWithin)
	if r.CollectionAgency != 0 {
		checkDuration(ps, key+".collection_agency", r.CollectionAgency)
	}
	switch {
	case r.Max == 0:
		r.Max = 1
	case r.Max < 0 || r.Max > 5:
		ps.add(key+".max", "%d: send 1 to 5 reminders before the invoice goes to debt collection", r.Max)
	}
	if r.Fee != "" {
		a, err := formats.ParseAmount(r.Fee)
		switch {
		case err != nil || a < 0:
			ps.add(key+".fee", `%q is not an amount in kronor: write it like "60"`, r.Fee)
		case a > MaxFee:
			ps.add(key+".fee", "%s kr is more than the %s kr a written reminder may cost (förordning (2013:60) 1 §, lag (1981:739) 4 §)", a.Swedish(), MaxFee.Swedish())
		case a > 0 && !r.FeeAgreed:
			ps.add(key+".fee_agreed", "a reminder fee is owed only when it was agreed at the latest when the debt arose (lag (1981:739) 2 §): set fee_agreed = true when your terms say so, or remove fee")
		default:
			r.FeeAmount = a
		}
	}
	switch i := strings.TrimSpace(r.Interest); i {
	case "", "none":
		r.Interest = "none"
	case "reference":
		ref, err := formats.ParseDecimal(r.ReferenceRate)
		if err != nil {
			ps.add(key+".reference_rate", `required with interest = "reference": Riksbanken's reference rate in percent, like "1.75" (räntelagen 9 §); update it each 1 January and 1 July`)
			break
		}
		r.RatePercent = addPercent(ref, 8)
	default:
		d, err := formats.ParseDecimal(i)
		if err != nil || strings.HasPrefix(string(d), "-") {
			ps.add(key+".interest", `%q: write "reference" (reference rate + 8 percentage points, räntelagen 6 § and 9 §), a rate in percent like "12.5", or "none"`, i)
			break
		}
		r.RatePercent = d
	}
	switch r.OCR {
	case "":
		r.OCR = "invoice"
	case "invoice", "own":
	default:
		ps.add(key+".ocr", `%q: use "invoice" (the reminder is paid with the invoice's OCR number) or "own" (each reminder gets its own)`, r.OCR)
	}
	if r.At == "" {
		r.At = "08:00"
	} else if _, err := time.Parse("15:04", r.At); err != nil {
		ps.add(key+".at", `%q: write the time of day as "HH:MM", like "08:00"`, r.At)
	}
}

// addPercent adds whole percentage points to a decimal rate.
func addPercent(d formats.Decimal, points int64) formats.Decimal {
	r := new(big.Rat).Add(d.Rat(), big.NewRat(points, 1))
	return formats.Decimal(r.FloatString(2))
}

// Webhook is a tenant's [tenant.webhook] table: where the gateway posts
// each event of the tenant's log (docs/webhooks.md).
type Webhook struct {
	URL string `toml:"url"`
	// SecretFile holds the key the posts are signed with (HMAC-SHA256).
	SecretFile string `toml:"secret_file"`
	// Events, when set, are the event types posted; default every type.
	Events []string `toml:"events"`
	// Timeout bounds one post; default 10s.
	Timeout Duration `toml:"timeout"`
	// MaxAge is how long an event is retried before it is given up
	// (recorded, and replayable); default 3 days.
	MaxAge Duration `toml:"max_age"`
}

// WebhookEvents are the event types a webhook may choose.
var WebhookEvents = []string{"delivered", "failed", "opened", "paid", "reminded", "collection_agency", "credited", "registration"}

func (c *Config) validateWebhook(ps *problems, key string, w *Webhook) {
	if w == nil {
		return
	}
	key += ".webhook"
	u, err := url.Parse(w.URL)
	switch {
	case w.URL == "":
		ps.add(key+".url", `required: the ERP's https:// URL the events are posted to`)
	case err != nil || u.Host == "" || (u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname()))):
		ps.add(key+".url", "%q: use an https:// URL (http only to loopback)", w.URL)
	}
	if w.SecretFile == "" {
		ps.add(key+".secret_file", "required: a file (or systemd credential) holding the key the posts are signed with (HMAC-SHA256, docs/security.md#webhooks)")
	} else if b, err := ReadSecret(w.SecretFile); err != nil {
		ps.add(key+".secret_file", "%v", err)
	} else if len(b) < 16 {
		ps.add(key+".secret_file", "the key has %d bytes: use at least 16 random bytes (openssl rand -hex 32)", len(b))
	}
	for _, e := range w.Events {
		if !contains(WebhookEvents, e) {
			ps.add(key+".events", "unknown event %q: the events are %s", e, quoteList(WebhookEvents))
		}
	}
	if w.Timeout == 0 {
		w.Timeout = Duration(10 * time.Second)
	}
	if w.MaxAge == 0 {
		w.MaxAge = Duration(72 * time.Hour)
	}
	checkDuration(ps, key+".timeout", w.Timeout)
	checkDuration(ps, key+".max_age", w.MaxAge)
}

// Posts reports whether the webhook posts events of the type.
func (w *Webhook) Posts(event string) bool { return len(w.Events) == 0 || contains(w.Events, event) }

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// Prices are a tenant's [tenant.prices] table: what one document costs
// on each channel, in kronor ("print" = "9.50"), for the distribution
// overview's cost per channel.
type Prices map[string]string

func (c *Config) validatePrices(ps *problems, key string, t *Tenant) {
	t.PriceOf = map[string]formats.Amount{}
	distribution := c.distribution()
	for name, v := range t.Prices {
		if !contains(distribution, name) {
			ps.add(key+".prices."+name, "unknown channel %q: the channels are %s", name, quoteList(distribution))
			continue
		}
		a, err := formats.ParseAmount(v)
		if err != nil || a < 0 {
			ps.add(key+".prices."+name, `%q is not a price in kronor: write it like "9.50"`, v)
			continue
		}
		t.PriceOf[name] = a
	}
}

// TenantAPI is a tenant's [tenant.api] table: the token its ERP reads its
// own event log, overview and inkasso export with (docs/security.md).
type TenantAPI struct {
	TokenFile string `toml:"token_file"`
}

func (c *Config) validateTenantAPI(ps *problems, key string, a *TenantAPI) {
	if a == nil {
		return
	}
	if a.TokenFile == "" {
		ps.add(key+".api.token_file", "required: a file (or systemd credential) holding the bearer token the tenant's ERP reads its own event log with")
		return
	}
	b, err := ReadSecret(a.TokenFile)
	switch {
	case err != nil:
		ps.add(key+".api.token_file", "%v", err)
	case len(b) < 16:
		ps.add(key+".api.token_file", "the token has %d bytes: use at least 16 random bytes (openssl rand -hex 32)", len(b))
	}
}
