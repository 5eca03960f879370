package peppol

import (
	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/outbound"
	"github.com/multikanal/multikanal/outbound/sftpput"
	"github.com/multikanal/multikanal/outbound/spool"
)

// Name is the channel's name.
const Name = "peppol"

// Descriptor registers the channel: per document, by the buyer's
// participant id, handed to an access point over its HTTP API, as files in
// a folder it watches, or over SFTP.
var Descriptor = outbound.Descriptor{
	Name:    Name,
	Carries: []formats.Kind{formats.KindInvoice, formats.KindCreditNote},
	Address: "peppol",
	Transports: []outbound.TransportSpec{
		{
			Name:     "http",
			Required: []outbound.Key{outbound.KeyBaseURL, {Name: "token_file", Kind: outbound.File, Help: "a file (or systemd credential) holding the access token"}},
			Optional: []outbound.Key{outbound.KeyCAFile},
			Build: func(s outbound.Setup) (outbound.Transport, error) {
				token, err := s.Secret("token_file")
				if err != nil {
					return nil, err
				}
				client, err := s.HTTPClient()
				if err != nil {
					return nil, err
				}
				return &AccessPoint{BaseURL: s.Settings.Get("base_url"), Token: token, Client: client}, nil
			},
		},
		{
			Name:     "folder",
			Required: []outbound.Key{{Name: "dir", Kind: outbound.Dir, Help: "the local folder to write documents into"}},
			Build: func(s outbound.Setup) (outbound.Transport, error) {
				return spool.New(s.Settings.Get("dir"))
			},
		},
		sftpput.Spec,
	},
	New: func(outbound.Env) (outbound.Channel, error) { return New(), nil },
}
