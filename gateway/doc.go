// Package gateway is the daemon: it watches the tenants' inboxes, claims
// every file into the spool, parses and validates what is in it, routes each
// document to a channel in the tenant's priority order, delivers it through
// the channel's transport with retries and fallback, and keeps a receipt per
// input file up to date. Every step is recorded in the store.
//
// It imports formats, outbound and config; nothing imports gateway but cmd.
package gateway
