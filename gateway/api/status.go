package api

import "time"

// Status is what /api/v1/status answers and `multikanal status` shows.
type Status struct {
	Info       Info                        `json:"daemon"`
	Ready      bool                        `json:"ready"`
	Uptime     string                      `json:"uptime"`
	StoreBytes int64                       `json:"store_bytes"`
	Files      map[FileState]int           `json:"files"`
	FilesOpen  int                         `json:"files_not_final"`
	Documents  map[DocState]int64          `json:"documents"`
	ByChannel  map[string]map[string]int64 `json:"documents_by_channel"`
	Queue      map[string]QueueStatus      `json:"queue"`
	// Failures are the documents that need attention, the newest first, at
	// most 50; NeedsAttention is how many there are in all.
	Failures       []Failure `json:"failures"`
	NeedsAttention int       `json:"needs_attention"`
	// DeadAcknowledged counts the dead documents an operator acknowledged:
	// they no longer need attention.
	DeadAcknowledged int64 `json:"dead_acknowledged"`
	// LastReload is the outcome of the last SIGHUP, if there was one.
	LastReload *ReloadStatus `json:"last_reload,omitempty"`
	// Store is the store's size against its quota, and its upkeep.
	Store *StoreStatus `json:"store,omitempty"`
}

// QueueStatus is one channel's waiting work.
type QueueStatus struct {
	Ready     int `json:"ready"`     // waiting for a worker
	Scheduled int `json:"scheduled"` // waiting for a retry time (all channels share the scheduler)
}

// Failure is a document that needs attention: retrying, failed, or dead
// and not acknowledged.
type Failure struct {
	Doc     string    `json:"doc"`
	Tenant  string    `json:"tenant"`
	Number  string    `json:"number,omitempty"`
	State   DocState  `json:"state"`
	Channel string    `json:"channel,omitempty"`
	Reason  string    `json:"reason"`
	Updated time.Time `json:"updated"`
}

// ReloadStatus is the outcome of the last configuration reload, shown by
// `multikanal status`.
type ReloadStatus struct {
	At      time.Time `json:"at"`
	OK      bool      `json:"ok"`
	Error   string    `json:"error,omitempty"`
	Restart []string  `json:"needs_restart,omitempty"` // changed keys only a restart applies
}

// Info describes a running daemon.
type Info struct {
	PID     int    `json:"pid"`
	Version string `json:"version"`
	DataDir string `json:"data_dir"`
	HTTP    string `json:"http,omitempty"`
	SFTP    string `json:"sftp,omitempty"`
	// SFTPHostKey is the SSH host key's fingerprint, for clients to verify.
	SFTPHostKey string `json:"sftp_host_key,omitempty"`
	// SFTPCommands is, per tenant whose client key the daemon made (the
	// embedded default), the exact command that logs in.
	SFTPCommands map[string]string `json:"sftp_commands,omitempty"`
	Inboxes      map[string]string `json:"inboxes"`
	Started      time.Time         `json:"started"`
	Config       string            `json:"config"`
	// HTTPS says the HTTP listener serves TLS.
	HTTPS bool `json:"https,omitempty"`
	// Socket is the operators' Unix socket, which the CLI prefers.
	Socket string `json:"socket,omitempty"`
	// Public is the public listener's address.
	Public string `json:"public,omitempty"`
}
