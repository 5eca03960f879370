package store

import "time"

// RegistryTx is the aggregate of the recipient registry: per tenant, which
// channel each recipient wants (or which mandate a payer has), with its
// source and time; history is kept, never overwritten.
type RegistryTx interface {
	// PutRegistration adds or updates a registry entry and indexes it
	// under every one of its keys.
	PutRegistration(r *Registration) error
	// Registrations finds every entry of the tenant with this key, revoked
	// ones included, oldest first.
	Registrations(tenant string, key RecipientKey) ([]*Registration, error)
	ForEachRegistration(tenant string, fn func(*Registration) error) error
}

// Recipient key types: a payer is known by any of them.
const (
	KeyCustomer = "customer" // the biller's customer number = AutoGiro payer number
	KeyPNR      = "pnr"      // personnummer, 12 digits
	KeyOrgnr    = "orgnr"    // organisationsnummer, 10 digits
	KeyPeppol   = "peppol"   // participant id scheme:value
	KeyEmail    = "email"
	KeyMobile   = "mobile" // E.164
)

// RecipientKey is one way to know a payer.
type RecipientKey struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

func (k RecipientKey) String() string { return k.Type + ":" + k.Value }

// Registration is one registry entry: a recipient reachable (or collectable)
// on a channel, from a source, for a time. Entries are never overwritten:
// a cancellation sets RevokedAt and keeps the entry as history.
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

// Active reports whether the entry applies at t.
func (r *Registration) Active(t time.Time) bool {
	return !r.ValidFrom.After(t) && (r.RevokedAt.IsZero() || r.RevokedAt.After(t))
}
