package sftpd

import (
	"fmt"
	"path"
	"strings"
	"unicode/utf8"

	"github.com/pkg/sftp"
)

// folder is one of the places a tenant can see.
type folder int

const (
	folderRoot     folder = iota + 1 // "/", which lists the two others
	folderInbox                      // "/inbox", uploads
	folderReceipts                   // "/receipts", read and delete
)

// String returns the folder's client path.
func (f folder) String() string {
	switch f {
	case folderRoot:
		return "/"
	case folderInbox:
		return "/inbox"
	case folderReceipts:
		return "/receipts"
	}
	return "?"
}

// startDir is where a session starts, so that an ERP's plain `put file`
// lands in the inbox.
const startDir = "/inbox"

// partialSuffixes are the names clients give a file while they upload it
// before renaming it (WinSCP .filepart, lftp .part, FileZilla and others
// .tmp). The inbox watcher ignores them.
var partialSuffixes = []string{".filepart", ".part", ".tmp"}

// isPartialName reports whether name is a client's in-progress name.
func isPartialName(name string) bool {
	for _, s := range partialSuffixes {
		if strings.HasSuffix(name, s) {
			return true
		}
	}
	return false
}

// target is a resolved client path: a folder, or one file name directly in
// the inbox or receipts folder.
//
// Invariant (checked by FuzzResolve): name is empty or a single path
// component that is not ".", "..", hidden, or longer than NAME_MAX, and holds
// no '/', NUL or control character; when name is set, dir is folderInbox or
// folderReceipts. A target therefore can only ever name an entry directly
// inside one of the tenant's two directories.
type target struct {
	dir  folder
	name string
}

// String returns the client path of t.
func (t target) String() string {
	if t.name == "" {
		return t.dir.String()
	}
	return t.dir.String() + "/" + t.name
}

// Errors of resolve. They wrap pkg/sftp's status codes so the client gets
// the right SFTP status and a message that says why.
var (
	errNoSuchPath = fmt.Errorf("only /inbox and /receipts exist: %w", sftp.ErrSSHFxNoSuchFile)
	errHiddenName = fmt.Errorf("names starting with '.' are reserved for uploads in progress: %w", sftp.ErrSSHFxPermissionDenied)
	errBadName    = fmt.Errorf("file name is empty, too long or holds control characters: %w", sftp.ErrSSHFxPermissionDenied)
)

// resolve maps a client path onto the tenant's view. Relative paths are taken
// from startDir. ".." is resolved lexically, so it can never climb above "/";
// anything deeper than one name inside a folder does not exist, because the
// folders are flat.
func resolve(p string) (target, error) {
	if !path.IsAbs(p) {
		p = startDir + "/" + p
	}
	clean := path.Clean(p)
	if clean == "/" {
		return target{dir: folderRoot}, nil
	}
	first, rest, _ := strings.Cut(clean[1:], "/")
	var t target
	switch first {
	case "inbox":
		t.dir = folderInbox
	case "receipts":
		t.dir = folderReceipts
	default:
		return target{}, errNoSuchPath
	}
	if rest == "" {
		return t, nil
	}
	if strings.Contains(rest, "/") {
		return target{}, errNoSuchPath
	}
	if err := checkName(rest); err != nil {
		return target{}, err
	}
	t.name = rest
	return t, nil
}

// checkName enforces the file name rules of the inbox and receipts folders.
// Names starting with '.' are the server's own temporary files and the
// watcher ignores them, so a client may neither see nor create them.
func checkName(name string) error {
	if strings.HasPrefix(name, ".") {
		return errHiddenName
	}
	if name == "" || len(name) > 255 || !utf8.ValidString(name) {
		return errBadName
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f || r == '/' || r == '\\' {
			return errBadName
		}
	}
	return nil
}
