package api

import "time"

// RecipientKey is one way to know a payer: pnr, customer, orgnr, peppol,
// email or mobile, and its value.
type RecipientKey struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

// Registration is one registry entry: a recipient reachable (or
// collectable) on a channel, from a source, for a time; a revoked entry is
// kept as history.
type Registration struct {
	ID        string         `json:"id"`
	Tenant    string         `json:"tenant"`
	Keys      []RecipientKey `json:"keys"`
	Channel   string         `json:"channel"` // a channel name, or "autogiro" for a mandate
	Address   string         `json:"address,omitempty"`
	Source    string         `json:"source"` // "file X line 7", "import FILE line 3"
	ValidFrom time.Time      `json:"valid_from"`
	RevokedAt time.Time      `json:"revoked_at,omitzero"`
	RevokedBy string         `json:"revoked_by,omitempty"`
	Created   time.Time      `json:"created"`
}

// Recipient is what the registry holds for one key, history included
// (GET /api/v1/tenants/{t}/recipients?key=).
type Recipient struct {
	Key           string          `json:"key"`
	Registrations []*Registration `json:"registrations"`
}

// Mandate order actions, as the API names them.
const (
	MandateActionNew     = "new"     // a new mandate on the payer's bank account (or bankgiro)
	MandateActionApprove = "approve" // yes to a mandate the payer signed in the internet bank
	MandateActionReject  = "reject"  // no to it (TK04 with AV)
	MandateActionCancel  = "cancel"  // end a mandate (TK03)
	MandateActionChange  = "change"  // give the payer a new payer number (TK05)
)

// MandateOrderRequest is one order as the API receives it.
type MandateOrderRequest struct {
	Action     string `json:"action"`
	Payer      string `json:"payer"`
	Account    string `json:"account,omitempty"`     // new: clearing number and account number
	PersonalID string `json:"personal_id,omitempty"` // new: personnummer or organisationsnummer
	NewPayer   string `json:"new_payer,omitempty"`   // change
}

// MandateOrder is one order a biller sends Bankgirot about a mandate.
type MandateOrder struct {
	ID         string    `json:"id"`
	Tenant     string    `json:"tenant"`
	Action     string    `json:"action"`
	Payer      string    `json:"payer"`
	Account    string    `json:"account,omitempty"`
	PersonalID string    `json:"personal_id,omitempty"`
	NewPayer   string    `json:"new_payer,omitempty"`
	Source     string    `json:"source"`
	State      string    `json:"state"` // queued, batched, retrying, sent, failed
	Batch      string    `json:"batch,omitempty"`
	FileName   string    `json:"file_name,omitempty"` // the dataset name it was sent in
	Reason     string    `json:"reason,omitempty"`
	Created    time.Time `json:"created"`
	Updated    time.Time `json:"updated"`
}

// MandateOrders is what the API lists for a tenant: its orders, the
// internet-bank mandates that wait for its answer, and the mandates under
// enquiry at the payer's bank, which wait for no answer from the biller.
type MandateOrders struct {
	Orders           []*MandateOrder `json:"orders"`
	AwaitingApproval []*Registration `json:"awaiting_approval"`
	UnderEnquiry     []*Registration `json:"under_enquiry"`
}
