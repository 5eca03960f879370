package api

import (
	"time"

	"github.com/multikanal/multikanal/formats"
)

// Dunning is what followed an unpaid invoice: its reminders and its
// hand-off to debt collection.
type Dunning struct {
	Reminders []SentReminder `json:"reminders,omitempty"`
	Agency    time.Time      `json:"collection_agency,omitzero"`
	Exported  time.Time      `json:"exported,omitzero"`
}

// SentReminder is one reminder about an invoice.
type SentReminder struct {
	Doc      string         `json:"doc"`
	Number   string         `json:"number"`
	At       time.Time      `json:"at"`
	Due      formats.Date   `json:"due"`
	Fee      formats.Amount `json:"fee,omitempty"`
	Interest formats.Amount `json:"interest,omitempty"`
	Source   string         `json:"source"`
}

// ReminderPlan is what the reminders of a tenant do on a day
// (`multikanal reminders [--dry-run]`, GET or POST
// /api/v1/tenants/{t}/reminders): each invoice whose due date (or last
// reminder's) is far enough past, and what becomes of it.
type ReminderPlan struct {
	Tenant string       `json:"tenant"`
	Day    formats.Date `json:"day"`
	DryRun bool         `json:"dry_run"`
	// File is the input file the reminders made are recorded under (its
	// receipt is the reminders' receipt); "" for a dry run or none made.
	File  string         `json:"file,omitempty"`
	Steps []ReminderStep `json:"steps"`
}

// Reminder actions.
const (
	ActionRemind           = "remind"
	ActionCollectionAgency = "collection_agency"
	ActionSkip             = "skip"
)

// ReminderStep is one invoice in a plan.
type ReminderStep struct {
	Invoice string `json:"invoice"` // document id
	Number  string `json:"number"`
	Buyer   string `json:"buyer,omitempty"`
	// Due is the due date of the invoice's last step (the invoice's, or
	// its last reminder's).
	Due    formats.Date `json:"due"`
	Action string       `json:"action"` // remind, collection_agency, skip
	// Sequence, Outstanding, Fee, Interest and Total are the reminder's.
	Sequence    int            `json:"sequence,omitempty"`
	Outstanding formats.Amount `json:"outstanding,omitempty"`
	Fee         formats.Amount `json:"fee,omitempty"`
	Interest    formats.Amount `json:"interest,omitempty"`
	Total       formats.Amount `json:"total,omitempty"`
	Currency    string         `json:"currency,omitempty"`
	// Reminder is the reminder's document id once made; Channel where it
	// goes (its first eligible channel).
	Reminder string `json:"reminder,omitempty"`
	Channel  string `json:"channel,omitempty"`
	Reason   string `json:"reason,omitempty"`
}

// ERPEvent is one event of a tenant's log (GET
// /api/v1/tenants/{t}/events) and the body of a webhook's post.
type ERPEvent struct {
	Seq          uint64       `json:"seq"`
	Tenant       string       `json:"tenant"`
	Type         string       `json:"type"`
	At           time.Time    `json:"at"`
	Doc          string       `json:"doc,omitempty"`
	File         string       `json:"file,omitempty"`
	Kind         formats.Kind `json:"kind,omitempty"`
	Number       string       `json:"number,omitempty"`
	Channel      string       `json:"channel,omitempty"`
	State        string       `json:"state,omitempty"`
	Reason       string       `json:"reason,omitempty"`
	Registration string       `json:"registration,omitempty"`
	Keys         []string     `json:"keys,omitempty"`
	// Hook is what the tenant's webhook did with it (the log only).
	Hook *HookAttempts `json:"hook,omitempty"`
}

// HookAttempts is the webhook's record of one event.
type HookAttempts struct {
	Attempts  int       `json:"attempts"`
	Last      time.Time `json:"last,omitzero"`
	Status    int       `json:"status,omitempty"`
	Error     string    `json:"error,omitempty"`
	Delivered time.Time `json:"delivered,omitzero"`
}

// EventPage is one page of a tenant's event log: the events after the
// cursor asked for, and the cursor to ask with next.
type EventPage struct {
	Events []*ERPEvent `json:"events"`
	Next   uint64      `json:"next"`
	// Hook is the last event the tenant's webhook is done with.
	Hook uint64 `json:"hook_cursor"`
}

// ReplayRequest moves a tenant's webhook back to post again every event
// after After (POST /api/v1/tenants/{t}/events/replay).
type ReplayRequest struct {
	After uint64 `json:"after"`
}

// DisputeRequest marks an invoice disputed, or clears it (POST
// /api/v1/docs/{id}/dispute).
type DisputeRequest struct {
	By    string `json:"by"`
	Why   string `json:"why"`
	Clear bool   `json:"clear,omitempty"`
}

// Overview is a tenant's distribution: documents per channel and month,
// the share that went digital, what each channel cost (GET
// /api/v1/tenants/{t}/overview; as CSV with ?format=csv).
type Overview struct {
	Tenant string          `json:"tenant"`
	Months []OverviewMonth `json:"months"`
}

// OverviewMonth is one month of a tenant's distribution.
type OverviewMonth struct {
	Month     string           `json:"month"` // "2026-03"
	Channels  map[string]int64 `json:"channels"`
	Digital   int64            `json:"digital"`
	Paper     int64            `json:"paper"`
	Share     float64          `json:"digital_share"` // 0..1
	Cost      formats.Amount   `json:"cost"`
	CostByCh  map[string]int64 `json:"cost_by_channel,omitempty"` // öre
	Reminders int64            `json:"reminders,omitempty"`
}
