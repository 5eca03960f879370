package store

import "time"

// FileTx is the aggregate of input files: what a transaction reads and
// writes of them. A file's id grows with its arrival ("F0000042"), so id
// order is arrival order.
type FileTx interface {
	// NextFileID gives the next file's id.
	NextFileID() (string, error)
	File(id string) (*File, error)
	// PutFile records a file and keeps its indexes: its content hash for
	// FileByHash (unless it is a duplicate or was refused), the counts per
	// state, and the open files.
	PutFile(f *File) error
	// FileByHash finds an earlier file of the tenant with the same content.
	FileByHash(tenant, sha256 string) (*File, error)
	ForEachFile(fn func(*File) error) error
	// ForEachFileAfter calls fn for every file whose id sorts after
	// after ("" for all), in id (arrival) order, until fn returns an
	// error, which it returns: a sweep reads the files a part at a time.
	ForEachFileAfter(after string, fn func(*File) error) error
	// ForEachFileNewestFirst calls fn for every file, the last received
	// first, until fn returns an error, which it returns.
	ForEachFileNewestFirst(fn func(*File) error) error
	// ForEachOpenFile calls fn for every file whose receipt is not final,
	// oldest first, without reading the others.
	ForEachOpenFile(fn func(*File) error) error
	// FileCounts is the number of files per state.
	FileCounts() (map[FileState]int64, error)
}

// FileState is where an input file stands.
type FileState string

// File states. A file is final when it and all its documents are in end states.
const (
	FileClaimed   FileState = "claimed"   // recorded, being moved into spool/
	FileReceived  FileState = "received"  // in spool/, not yet parsed
	FileParsed    FileState = "parsed"    // every document recorded
	FileRejected  FileState = "rejected"  // unreadable as a whole
	FileDuplicate FileState = "duplicate" // same bytes as an earlier file of the tenant
	FileApplied   FileState = "applied"   // a bank or registry file, applied to the registry
)

// File is one input file.
type File struct {
	ID          string    `json:"id"`
	Tenant      string    `json:"tenant"`
	Name        string    `json:"name"` // the name it arrived with
	InboxPath   string    `json:"inbox_path,omitempty"`
	SHA256      string    `json:"sha256"`
	Size        int64     `json:"size"`
	ReceivedAt  time.Time `json:"received_at"`
	State       FileState `json:"state"`
	Reason      string    `json:"reason,omitempty"`
	Format      string    `json:"format,omitempty"`
	Docs        int       `json:"documents"`
	DuplicateOf string    `json:"duplicate_of,omitempty"`
	Final       bool      `json:"final"`
	FinalAt     time.Time `json:"final_at,omitzero"`
	// Receipt is the name of the file's receipt in the tenant's receipts
	// folder, chosen at its first write and kept for every rewrite.
	Receipt string `json:"receipt,omitempty"`

	// Refused marks a file rejected for the gateway's reason (its store
	// over quota), not for its content: its hash is not indexed, so the
	// same bytes sent again are taken.
	Refused bool `json:"refused,omitempty"`

	// Retention steps done (package upkeep): the input file left
	// spool/, the documents were summarised, the receipt was removed, the
	// archive period ended.
	InputRemoved    time.Time `json:"input_removed,omitzero"`
	PayloadsRemoved time.Time `json:"payloads_removed,omitzero"`
	ReceiptRemoved  time.Time `json:"receipt_removed,omitzero"`
	ArchiveEnded    time.Time `json:"archive_ended,omitzero"`
}
