// Package systemd holds the files that run Multikanal under systemd: the
// service unit (multikanal.service), the optional SFTP socket
// (multikanal-sftp.socket), the sysusers.d and tmpfiles.d snippets and the
// example configuration. `make install` puts them in place.
//
// The package has no code; its tests hold the unit to what the operations
// guide promises: `systemd-analyze verify` passes and
// `systemd-analyze security` reports an exposure of at most 1.5.
package systemd
