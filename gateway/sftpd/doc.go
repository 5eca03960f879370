// Package sftpd is the SFTP inbox of the gateway: the front door through which
// legacy ERPs deliver invoice files.
//
// Each tenant logs in with its own user name and sees exactly two folders:
// /inbox, where it uploads, and /receipts, which it reads (and where it may
// delete what it has read). Nothing else exists for it. An upload is written
// under a hidden temporary name in the tenant's inbox directory and renamed to
// its visible name only when the client closes the file without a transfer
// error, so the inbox watcher never sees a half written file.
//
// The server is built on golang.org/x/crypto/ssh and the RequestServer of
// github.com/pkg/sftp, offers only modern algorithms, and keeps an audit log
// (log/slog) of every login, upload and refusal.
//
// It is not a general SFTP or SSH server: there are no shells, no port
// forwarding, no subdirectories and no links. It does not process what it
// receives either; that is the inbox watcher's job.
package sftpd
