package sftpd

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pkg/sftp"
)

// Refusals beyond those of resolve, each with the status a client expects.
var (
	errUploadOutsideInbox = fmt.Errorf("uploads go to /inbox/<name>: %w", sftp.ErrSSHFxPermissionDenied)
	errReadOnly           = fmt.Errorf("%s is read only, but for deleting a receipt that was read: %w", folderReceipts, sftp.ErrSSHFxPermissionDenied)
	errInboxWriteOnly     = fmt.Errorf("files in /inbox cannot be read back; receipts are in /receipts: %w", sftp.ErrSSHFxPermissionDenied)
	errFolderFixed        = fmt.Errorf("the folders are fixed and flat: folders cannot be created, removed or changed: %w", sftp.ErrSSHFxPermissionDenied)
	errNoLinks            = fmt.Errorf("links are not supported: %w", sftp.ErrSSHFxPermissionDenied)
	errIsFolder           = fmt.Errorf("is a folder: %w", sftp.ErrSSHFxFailure)
	errNotFolder          = fmt.Errorf("not a folder: %w", sftp.ErrSSHFxFailure)
	errNotLink            = fmt.Errorf("not a symbolic link: %w", sftp.ErrSSHFxFailure)
	errExists             = fmt.Errorf("the target name exists: %w", sftp.ErrSSHFxFailure)
	errResumeFinal        = fmt.Errorf("the file is already in the inbox and may be in processing: upload it again with overwrite, or resume only .part/.filepart/.tmp names: %w", sftp.ErrSSHFxPermissionDenied)
	errSetSize            = fmt.Errorf("changing a file's size is not supported: %w", sftp.ErrSSHFxOpUnsupported)
	errDiskLow            = fmt.Errorf("not enough free disk space on the server, try again later: %w", sftp.ErrSSHFxFailure)
	errInternal           = fmt.Errorf("internal error, see the server log: %w", sftp.ErrSSHFxFailure)
)

// session is one tenant's SFTP session and implements pkg/sftp's handlers.
// It reaches the tenant's directories only through os.Root (and, for new
// upload files, the inbox folder opened through it: see createTemp), so
// that even a symbolic link planted in a directory by someone else cannot
// lead a path out of it.
type session struct {
	srv      *Server
	id       uint64 // Upload.Session
	tenant   Tenant
	log      *slog.Logger // with tenant and ip
	inbox    *os.Root
	inboxDir *os.File // the inbox folder, opened through inbox, for createTemp
	receipts *os.Root
	disk     *diskPool // free space of the inbox's file system; nil: no limit

	mu      sync.Mutex
	writing map[string][]*upload // open uploads by visible name, for setstat and fsync
	open    int                  // files open, uploads and downloads (holdFile)
}

// newSession opens the tenant's directories.
func newSession(srv *Server, t Tenant, log *slog.Logger) (*session, error) {
	inbox, err := os.OpenRoot(t.InboxDir)
	if err != nil {
		return nil, fmt.Errorf("inbox of %s: %w", t.ID, err)
	}
	inboxDir, err := inbox.Open(".")
	if err != nil {
		inbox.Close()
		return nil, fmt.Errorf("inbox of %s: %w", t.ID, err)
	}
	pool, err := srv.disk.pool(inboxDir)
	if err != nil {
		inboxDir.Close()
		inbox.Close()
		return nil, fmt.Errorf("inbox of %s: %w", t.ID, err)
	}
	receipts, err := os.OpenRoot(t.ReceiptsDir)
	if err != nil {
		inboxDir.Close()
		inbox.Close()
		return nil, fmt.Errorf("receipts of %s: %w", t.ID, err)
	}
	return &session{srv: srv, id: srv.sessions.Add(1), tenant: t, log: log, inbox: inbox, inboxDir: inboxDir,
		receipts: receipts, disk: pool, writing: make(map[string][]*upload)}, nil
}

// close releases the directories. Open uploads are closed by pkg/sftp
// before, when its Serve returns.
func (ss *session) close() {
	ss.inboxDir.Close()
	ss.inbox.Close()
	ss.receipts.Close()
}

func (ss *session) handlers() sftp.Handlers {
	return sftp.Handlers{FileGet: ss, FilePut: ss, FileCmd: ss, FileList: ss}
}

// refuse logs a refused request in the audit log and returns err for the
// client.
func (ss *session) refuse(what, path string, err error) error {
	ss.log.Info("sftp refused", "what", what, "path", path, "why", err.Error())
	return err
}

// fsErr turns a file system error into a status for the client. The
// client never sees the server's own paths or error texts; the log does.
func (ss *session) fsErr(what string, err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return sftp.ErrSSHFxNoSuchFile
	case errors.Is(err, fs.ErrExist):
		return errExists
	case errors.Is(err, fs.ErrPermission):
		return sftp.ErrSSHFxPermissionDenied
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		return errDiskLow
	}
	ss.log.Error("sftp file system error", "what", what, "err", err)
	return errInternal
}

// errNotRegular is a link, device or folder inside a tenant's directory:
// it does not exist for the client, but someone put it there, so it is
// logged.
var errNotRegular = fmt.Errorf("not a regular file: %w", fs.ErrNotExist)

// regularFile returns the entry name of root when it is a regular file;
// anything else (links, devices, folders) does not exist for the client.
func regularFile(root *os.Root, name string) (os.FileInfo, error) {
	fi, err := root.Lstat(name)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, errNotRegular
	}
	return fi, nil
}

// Fileread opens a receipt for download.
func (ss *session) Fileread(r *sftp.Request) (io.ReaderAt, error) {
	t, err := resolve(r.Filepath)
	switch {
	case err != nil:
		return nil, ss.refuse("download", r.Filepath, err)
	case t.name == "":
		return nil, ss.refuse("download", t.String(), errIsFolder)
	case t.dir == folderInbox:
		return nil, ss.refuse("download", t.String(), errInboxWriteOnly)
	}
	if _, err := regularFile(ss.receipts, t.name); err != nil {
		return nil, ss.refuse("download", t.String(), ss.fsErr("download", err))
	}
	release, err := ss.holdFile()
	if err != nil {
		return nil, ss.refuse("download", t.String(), err)
	}
	// O_NOFOLLOW closes the window between the check above and the open.
	f, err := ss.receipts.OpenFile(t.name, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		release()
		return nil, ss.refuse("download", t.String(), ss.fsErr("download", err))
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		f.Close()
		release()
		return nil, ss.refuse("download", t.String(), sftp.ErrSSHFxNoSuchFile)
	}
	ss.log.Info("sftp download", "name", t.name, "size", fi.Size())
	return &download{File: f, release: release}, nil
}

// download is a receipt open for reading; closing it gives its place
// among the open files back.
type download struct {
	*os.File
	release func()
}

func (d *download) Close() error {
	defer d.release()
	return d.File.Close()
}

// Filewrite starts an upload into the inbox. See upload for the rules.
func (ss *session) Filewrite(r *sftp.Request) (io.WriterAt, error) {
	t, err := resolve(r.Filepath)
	if err != nil {
		return nil, ss.refuse("upload", r.Filepath, err)
	}
	if t.dir == folderReceipts {
		return nil, ss.refuse("upload", t.String(), errReadOnly)
	}
	if t.dir != folderInbox || t.name == "" {
		return nil, ss.refuse("upload", t.String(), errUploadOutsideInbox)
	}
	if err := ss.disk.check(ss.tenant.InboxDir); err != nil {
		return nil, ss.refuse("upload", t.String(), err)
	}
	flags := r.Pflags()
	fi, err := ss.inbox.Lstat(t.name)
	exists := err == nil
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, ss.refuse("upload", t.String(), ss.fsErr("upload", err))
	}
	switch {
	case exists && !fi.Mode().IsRegular():
		return nil, ss.refuse("upload", t.String(), errExists)
	case exists && flags.Excl:
		return nil, ss.refuse("upload", t.String(), errExists)
	case !exists && !flags.Creat:
		return nil, ss.refuse("upload", t.String(), sftp.ErrSSHFxNoSuchFile)
	case exists && !flags.Trunc && !isPartialName(t.name):
		return nil, ss.refuse("upload", t.String(), errResumeFinal)
	}
	release, err := ss.holdFile()
	if err != nil {
		return nil, ss.refuse("upload", t.String(), err)
	}
	u, err := ss.startUpload(t.name, exists && !flags.Trunc, release)
	if err != nil {
		release()
		return nil, ss.refuse("upload", t.String(), err)
	}
	return u, nil
}

// Filecmd handles setstat, rename, remove, mkdir, rmdir and links.
func (ss *session) Filecmd(r *sftp.Request) error {
	switch r.Method {
	case "Setstat":
		return ss.setstat(r)
	case "Rename":
		return ss.rename(r.Filepath, r.Target, false)
	case "Remove":
		if t, err := resolve(r.Filepath); err == nil && t.dir == folderReceipts && t.name != "" {
			return ss.removeReceipt(t)
		}
		return ss.remove(r.Filepath)
	case "Mkdir", "Rmdir":
		return ss.refuse(strings.ToLower(r.Method), r.Filepath, errFolderFixed)
	case "Link", "Symlink":
		return ss.refuse(strings.ToLower(r.Method), r.Filepath+" -> "+r.Target, errNoLinks)
	}
	return ss.refuse(strings.ToLower(r.Method), r.Filepath, sftp.ErrSSHFxOpUnsupported)
}

// PosixRename renames with overwrite (posix-rename@openssh.com), which
// OpenSSH's sftp uses for its rename command.
func (ss *session) PosixRename(r *sftp.Request) error {
	return ss.rename(r.Filepath, r.Target, true)
}

// inboxFile resolves p to a name in the inbox for a command that changes
// it, or refuses.
func (ss *session) inboxFile(what, p string) (string, error) {
	t, err := resolve(p)
	switch {
	case err != nil:
		return "", ss.refuse(what, p, err)
	case t.dir == folderReceipts && t.name != "":
		return "", ss.refuse(what, t.String(), errReadOnly)
	case t.name == "":
		return "", ss.refuse(what, t.String(), errFolderFixed)
	}
	return t.name, nil
}

// rename renames one pending upload in the inbox to another name there;
// this is how clients that upload as x.filepart finish. Without overwrite
// an existing target is refused, as with OpenSSH's SSH_FXP_RENAME.
func (ss *session) rename(from, to string, overwrite bool) error {
	oldName, err := ss.inboxFile("rename", from)
	if err != nil {
		return err
	}
	newName, err := ss.inboxFile("rename", to)
	if err != nil {
		return err
	}
	if _, err := regularFile(ss.inbox, oldName); err != nil {
		return ss.refuse("rename", from, ss.fsErr("rename", err))
	}
	if oldName == newName {
		return nil
	}
	if fi, err := ss.inbox.Lstat(newName); err == nil && (!overwrite || !fi.Mode().IsRegular()) {
		return ss.refuse("rename", to, errExists)
	}
	if err := ss.inbox.Rename(oldName, newName); err != nil {
		return ss.refuse("rename", from, ss.fsErr("rename", err))
	}
	ss.log.Info("sftp rename", "from", oldName, "to", newName)
	return nil
}

// remove deletes a pending upload that the watcher has not taken yet.
func (ss *session) remove(p string) error {
	name, err := ss.inboxFile("remove", p)
	if err != nil {
		return err
	}
	if _, err := regularFile(ss.inbox, name); err != nil {
		return ss.refuse("remove", p, ss.fsErr("remove", err))
	}
	if err := ss.inbox.Remove(name); err != nil {
		return ss.refuse("remove", p, ss.fsErr("remove", err))
	}
	ss.log.Info("sftp remove", "name", name)
	return nil
}

// removeReceipt deletes a receipt the ERP has read: the one change a
// tenant may make in /receipts. Only a regular file directly in the
// tenant's own receipts folder goes (resolve and os.Root keep the name
// inside it; a link or folder there does not exist for the client). A
// receipt deleted before its file is final is written again, whole, at
// the file's next change (see gateway/receipts).
func (ss *session) removeReceipt(t target) error {
	if _, err := regularFile(ss.receipts, t.name); err != nil {
		return ss.refuse("remove", t.String(), ss.fsErr("remove", err))
	}
	if err := ss.receipts.Remove(t.name); err != nil {
		return ss.refuse("remove", t.String(), ss.fsErr("remove", err))
	}
	ss.log.Info("sftp remove receipt", "name", t.name)
	return nil
}

// setstat accepts times and permissions of a pending upload, or of one
// still being written, and ignores them: the watcher decides what happens
// to the file, and a client's chmod 000 must not block it. The setstat
// that stands for fsync@openssh.com (see stream) syncs instead.
func (ss *session) setstat(r *sftp.Request) error {
	if isFsync(r) {
		return ss.fsync(r.Filepath)
	}
	name, err := ss.inboxFile("setstat", r.Filepath)
	if err != nil {
		return err
	}
	if r.AttrFlags().Size {
		return ss.refuse("setstat", r.Filepath, errSetSize)
	}
	if len(ss.uploadsOf(name)) > 0 {
		return nil
	}
	if _, err := regularFile(ss.inbox, name); err != nil {
		return ss.refuse("setstat", r.Filepath, ss.fsErr("setstat", err))
	}
	return nil
}

// fsync syncs this session's open uploads of p to disk, for
// fsync@openssh.com (see stream). A receipt being read has nothing to sync.
func (ss *session) fsync(p string) error {
	t, err := resolve(p)
	if err != nil {
		return ss.refuse("fsync", p, err)
	}
	if t.dir != folderInbox || t.name == "" {
		return nil
	}
	for _, u := range ss.uploadsOf(t.name) {
		if err := u.sync(); err != nil {
			return err
		}
	}
	return nil
}

// Filelist lists a folder or stats one path.
func (ss *session) Filelist(r *sftp.Request) (sftp.ListerAt, error) {
	t, err := resolve(r.Filepath)
	if r.Method == "List" {
		if err != nil {
			return nil, ss.refuse("list", r.Filepath, err)
		}
		if t.name != "" {
			return nil, ss.refuse("list", t.String(), errNotFolder)
		}
		infos, err := ss.list(t.dir)
		if err != nil {
			return nil, ss.refuse("list", t.String(), ss.fsErr("list", err))
		}
		return listerAt(infos), nil
	}
	// Clients probe names with stat, so a missing name in a folder is not
	// logged; a path outside the two folders, or an entry that is not a
	// regular file, is.
	if err != nil {
		return nil, ss.refuse("stat", r.Filepath, err)
	}
	fi, err := ss.stat(t)
	if errors.Is(err, errNotRegular) {
		return nil, ss.refuse("stat", t.String(), fmt.Errorf("%w: %w", errNotRegular, sftp.ErrSSHFxNoSuchFile))
	}
	if err != nil {
		return nil, ss.fsErr("stat", err)
	}
	return listerAt{fi}, nil
}

// Lstat is Stat: no link is ever shown.
func (ss *session) Lstat(r *sftp.Request) (sftp.ListerAt, error) {
	return ss.Filelist(r)
}

// Readlink finds no link anywhere.
func (ss *session) Readlink(p string) (string, error) {
	t, err := resolve(p)
	if err != nil {
		return "", err
	}
	if _, err := ss.stat(t); err != nil {
		return "", sftp.ErrSSHFxNoSuchFile
	}
	return "", errNotLink
}

// RealPath cleans p lexically from the start folder; ".." stops at "/".
func (ss *session) RealPath(p string) (string, error) {
	if !strings.HasPrefix(p, "/") {
		p = startDir + "/" + p
	}
	return path.Clean(p), nil
}

// LookupUserName shows the tenant as the owner in long listings, instead
// of the server's own account.
func (ss *session) LookupUserName(string) string { return ss.tenant.ID }

// LookupGroupName shows the tenant as the group in long listings.
func (ss *session) LookupGroupName(string) string { return ss.tenant.ID }

// folderModes are the modes the folders show, which say what the tenant
// may do there.
var folderModes = map[folder]fs.FileMode{
	folderRoot:     fs.ModeDir | 0o555,
	folderInbox:    fs.ModeDir | 0o755,
	folderReceipts: fs.ModeDir | 0o755, // receipts may be deleted, nothing created
}

// stat describes one target.
func (ss *session) stat(t target) (os.FileInfo, error) {
	root := ss.rootOf(t.dir)
	if t.name != "" {
		fi, err := regularFile(root, t.name)
		if err != nil {
			return nil, err
		}
		return newFileInfo(fi), nil
	}
	name := t.dir.String()
	if t.dir != folderRoot {
		name = name[1:]
	}
	mtime := ss.srv.started
	if root != nil {
		if fi, err := root.Stat("."); err == nil {
			mtime = fi.ModTime()
		}
	}
	return &fileInfo{name: name, mode: folderModes[t.dir], mtime: mtime}, nil
}

func (ss *session) rootOf(f folder) *os.Root {
	switch f {
	case folderInbox:
		return ss.inbox
	case folderReceipts:
		return ss.receipts
	}
	return nil
}

// list returns the entries of a folder, sorted by name: the two folders at
// "/", and the regular, visible files elsewhere. Uploads in progress are
// hidden files and so never listed.
func (ss *session) list(f folder) ([]os.FileInfo, error) {
	if f == folderRoot {
		var infos []os.FileInfo
		for _, d := range []folder{folderInbox, folderReceipts} {
			fi, err := ss.stat(target{dir: d})
			if err != nil {
				return nil, err
			}
			infos = append(infos, fi)
		}
		return infos, nil
	}
	dir, err := ss.rootOf(f).Open(".")
	if err != nil {
		return nil, err
	}
	defer dir.Close()
	entries, err := dir.ReadDir(-1)
	if err != nil {
		return nil, err
	}
	var infos []os.FileInfo
	for _, e := range entries {
		if !e.Type().IsRegular() || checkName(e.Name()) != nil {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue // taken by the watcher meanwhile
		}
		infos = append(infos, newFileInfo(fi))
	}
	slices.SortFunc(infos, func(a, b os.FileInfo) int { return strings.Compare(a.Name(), b.Name()) })
	return infos, nil
}

func (ss *session) startWriting(u *upload) {
	ss.mu.Lock()
	ss.writing[u.name] = append(ss.writing[u.name], u)
	ss.mu.Unlock()
}

func (ss *session) endWriting(u *upload) {
	ss.mu.Lock()
	list := slices.DeleteFunc(ss.writing[u.name], func(x *upload) bool { return x == u })
	if len(list) == 0 {
		delete(ss.writing, u.name)
	} else {
		ss.writing[u.name] = list
	}
	ss.mu.Unlock()
}

// uploadsOf returns the uploads of this session open under name.
func (ss *session) uploadsOf(name string) []*upload {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return slices.Clone(ss.writing[name])
}

// fileInfo is what a client sees of a file: no owner, no inode, no link
// count from the server's file system.
type fileInfo struct {
	name  string
	size  int64
	mode  fs.FileMode
	mtime time.Time
}

func newFileInfo(fi os.FileInfo) *fileInfo {
	return &fileInfo{name: fi.Name(), size: fi.Size(), mode: fi.Mode() & (fs.ModeType | 0o644), mtime: fi.ModTime()}
}

func (fi *fileInfo) Name() string       { return fi.name }
func (fi *fileInfo) Size() int64        { return fi.size }
func (fi *fileInfo) Mode() fs.FileMode  { return fi.mode }
func (fi *fileInfo) ModTime() time.Time { return fi.mtime }
func (fi *fileInfo) IsDir() bool        { return fi.mode.IsDir() }
func (fi *fileInfo) Sys() any           { return nil }

// listerAt serves a fixed list of entries.
type listerAt []os.FileInfo

// ListAt copies entries from offset into ls, as pkg/sftp asks.
func (l listerAt) ListAt(ls []os.FileInfo, offset int64) (int, error) {
	if offset >= int64(len(l)) {
		return 0, io.EOF
	}
	n := copy(ls, l[offset:])
	if n < len(ls) {
		return n, io.EOF
	}
	return n, nil
}
