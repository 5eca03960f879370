package sftpput

import "github.com/multikanal/multikanal/outbound"

// Spec is the transport as a channel's table names it, transport = "sftp":
// the batch channels hand their files to a bank or a print house this way.
var Spec = outbound.TransportSpec{
	Name: "sftp",
	Required: []outbound.Key{
		outbound.KeyAddr,
		outbound.KeyUsername,
		{Name: "key_file", Kind: outbound.File, Help: "the SSH private key file to log in with"},
		{Name: "known_hosts", Kind: outbound.File, Help: "an OpenSSH known_hosts file with the server's host key"},
		{Name: "remote_dir", Help: `the folder on the server to put files in, like "/in"`},
	},
	Build: func(s outbound.Setup) (outbound.Transport, error) {
		return New(Options{Addr: s.Settings.Get("addr"), User: s.Settings.Get("username"), KeyFile: s.Settings.Get("key_file"),
			KnownHostsFile: s.Settings.Get("known_hosts"), RemoteDir: s.Settings.Get("remote_dir"), Logger: s.Logger})
	},
}
