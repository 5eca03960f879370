package kivra

import (
	"context"
	"time"

	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/outbound"
)

// Name is the channel's name.
const Name = "kivra"

// Descriptor registers the channel: per document, to the digital mailbox of
// a personnummer that usermatch (the client's Match) says accepts the
// biller's content; Kivra users can opt out at any time, so an answer is
// trusted for a day.
var Descriptor = outbound.Descriptor{
	Offer: map[string]string{
		"sv": "Få nästa faktura i Kivra: hämta appen och logga in med BankID.",
		"en": "Get your next invoice in Kivra: get the app and log in with BankID.",
	},
	Name:    Name,
	Carries: []formats.Kind{formats.KindInvoice, formats.KindCreditNote, formats.KindReminder, formats.KindLetter, formats.KindStatement, formats.KindContract, formats.KindNotice},
	Address: "pnr",
	Match:   &outbound.Matching{Source: "Kivra usermatch", TTL: 24 * time.Hour},
	Transports: []outbound.TransportSpec{{
		Name: "api",
		Required: []outbound.Key{
			outbound.KeyBaseURL,
			{Name: "client_id", Help: "the OAuth2 client id the service issued"},
			{Name: "client_secret_file", Kind: outbound.File, Help: "a file (or systemd credential) holding the OAuth2 client secret"},
			{Name: "tenant_key", Help: "the sender's tenant key in Kivra, which content is sent as"},
		},
		Optional: []outbound.Key{outbound.KeyCAFile},
		Build: func(s outbound.Setup) (outbound.Transport, error) {
			secret, err := s.Secret("client_secret_file")
			if err != nil {
				return nil, err
			}
			client, err := s.HTTPClient()
			if err != nil {
				return nil, err
			}
			return NewClient(Options{BaseURL: s.Settings.Get("base_url"), ClientID: s.Settings.Get("client_id"), ClientSecret: secret,
				TenantKey: s.Settings.Get("tenant_key"), HTTP: client}), nil
		},
	}},
	New: func(env outbound.Env) (outbound.Channel, error) { return New(Options{PDF: env.PDF}), nil },
}

// Match is usermatch as the gateway asks it before routing: which of the
// personnummer reach a Kivra mailbox that accepts the biller's content.
func (c *Client) Match(ctx context.Context, personnummers []string) ([]string, error) {
	return c.UserMatch(ctx, personnummers)
}
