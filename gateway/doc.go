// Package gateway is the daemon: it wires the parts that do the work, starts
// them, stops them, and reloads the configuration they read. Every part is
// a package of its own, given what it needs here (wire) and nothing else:
//
//	intake      the inboxes, the SFTP hand-off, the claim, the readers of claimed files
//	route       validation, duplicates, the payment decision, the channel and the fall-back (pure)
//	registry    who wants which channel: Kivra's usermatch, registration files, the API
//	deliver     the lanes, queues, scheduler, cut-offs, sends and their record
//	collection  the clearing houses' files (mandates, payments), AutoGiro's mandate orders, receivers' reports
//	receipts    the receipt writer and the tenant's view
//	upkeep      retention, erasure, the quota, compaction
//	httpapi     the operators' API and status page, the public callbacks
//	metrics     /metrics
//	store       the records and the aggregates' interfaces; store/bolt implements them
//	api         the JSON the gateway says to the outside
//	errkind     what went wrong, as the parts and the API's status codes say it
//
// docs/architecture.md draws the picture. Nothing imports gateway but cmd.
package gateway
