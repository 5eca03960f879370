package api

import "time"

// Removed counts what a retention step or an erasure removed from the
// store.
type Removed struct {
	Bodies     int   `json:"bodies"`
	Events     int   `json:"events"`
	Deliveries int   `json:"deliveries"`
	Bytes      int64 `json:"bytes"` // of the values removed
}

// CompactReport is one compaction, as status and the API show it.
type CompactReport struct {
	At           time.Time `json:"at"`
	Cause        string    `json:"cause"` // auto (after a sweep) or api
	MBBefore     float64   `json:"mb_before"`
	MBAfter      float64   `json:"mb_after"`
	Seconds      float64   `json:"seconds"`
	WritesPaused float64   `json:"writes_paused_seconds"`
	Error        string    `json:"error,omitempty"`
}

// StoreStatus is the store's size against its quota, and its upkeep.
type StoreStatus struct {
	Bytes     int64 `json:"bytes"`
	FreeBytes int64 `json:"free_bytes"`
	MaxBytes  int64 `json:"max_bytes"` // 0: no quota
	// OverQuota says why new input files are refused, when they are.
	OverQuota      string         `json:"over_quota,omitempty"`
	LastSweep      *SweepReport   `json:"last_sweep,omitempty"`
	LastCompaction *CompactReport `json:"last_compaction,omitempty"`
}

// EraseRequest asks for an erasure.
type EraseRequest struct {
	// Key is TYPE:VALUE: pnr, customer, orgnr, peppol, email, mobile
	// (phone is taken for mobile) or kid.
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
	Documents     []ErasedDoc `json:"documents"`
	Registrations int         `json:"registrations"`
	MandateOrders int         `json:"mandate_orders"`
	Store         Removed     `json:"store"`
	OutboxFiles   int         `json:"outbox_files"`
	InputFiles    int         `json:"input_files"`
	Receipts      int         `json:"receipts_rewritten"`
	// Kept is what stays, each with why and until when.
	Kept []KeptItem `json:"kept"`
	// Error is why the erasure stopped part way, if it did.
	Error string `json:"error,omitempty"`
}

// ErasedDoc is one document an erasure reaches.
type ErasedDoc struct {
	ID      string   `json:"id"`
	File    string   `json:"file"`
	Number  string   `json:"number,omitempty"`
	State   DocState `json:"state"`
	Channel string   `json:"channel,omitempty"`
}

// KeptItem is something an erasure leaves, and why.
type KeptItem struct {
	What  string    `json:"what"`
	Why   string    `json:"why"`
	Until time.Time `json:"until,omitzero"`
}

// SweepReport is what one retention sweep did.
type SweepReport struct {
	Started time.Time `json:"started"`
	Took    string    `json:"took"`
	// Files is how many file records were looked at.
	Files int `json:"files"`
	// Summarised and Anonymised count documents.
	Summarised int     `json:"documents_summarised"`
	Anonymised int     `json:"documents_anonymised"`
	Store      Removed `json:"store"`
	// InputFiles, OutboxFiles and Receipts count files removed from
	// spool/, outbox/ and the receipts folders, with their bytes.
	InputFiles  int   `json:"input_files"`
	InputBytes  int64 `json:"input_bytes"`
	OutboxFiles int   `json:"outbox_files"`
	OutboxBytes int64 `json:"outbox_bytes"`
	Receipts    int   `json:"receipts"`
	// NotFinal counts documents of final files left alone because they
	// have work again (an operator's retry): the next sweep looks again.
	NotFinal int    `json:"not_final,omitempty"`
	Error    string `json:"error,omitempty"`
	// Compaction is the compaction the sweep started, if any.
	Compaction *CompactReport `json:"compaction,omitempty"`
}
