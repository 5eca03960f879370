package sftpput_test

import (
	"context"
	"fmt"
	"log"

	"github.com/multikanal/multikanal/outbound"
	"github.com/multikanal/multikanal/outbound/sftpput"
)

// A bank channel pushes its batch file; the error's class tells the caller
// whether to retry.
func Example() {
	tr, err := sftpput.New(sftpput.Options{
		Addr:           "sftp.bankgirot.example.se:22",
		User:           "acme",
		KeyFile:        "/etc/multikanal/sftp_ed25519",
		KnownHostsFile: "/etc/multikanal/known_hosts",
		RemoteDir:      "/in",
	})
	if err != nil {
		log.Fatal(err) // a configuration error: fix it and restart
	}
	sent, err := tr.Send(context.Background(), outbound.Message{
		Key:  "B0000042",
		Name: "AG-471117-B0000042.txt",
		Body: []byte("...the sealed AutoGiro file..."),
	})
	switch {
	case err == nil:
	case outbound.ClassOf(err) == outbound.ClassTemporary:
		log.Printf("retry later: %v", err)
		return
	default:
		log.Printf("not deliverable on this channel: %v", err)
		return
	}
	fmt.Println("delivered as", sent.Ref)
}
