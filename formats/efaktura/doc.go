// Package efaktura writes the files a biller sends to Bankgirot's e-faktura
// service for consumers (e-faktura privat: the invoice shown in the payer's
// internet bank) and reads the service's report of which invoices it took.
//
// Each invoice is a Svefaktura 1.0 document (SFTI BasicInvoice, namespace
// urn:sfti:documents:BasicInvoice:1:0), one of the two formats the service
// accepts; the other, Bankgirot's own "BGC Invoice", has no published
// layout we could find. Bankgirot's file envelope (the start and end
// records its handbook mentions) and its report of accepted and rejected
// invoices are not published either: this package writes and reads
// documented stand-ins for both, kept apart from the invoice mapping so the
// real layouts replace them in one place. docs/channels/efaktura.md lists
// the sources and every assumption.
//
// The package maps the canonical model (formats.Document) and checks what
// the bank needs to show and pay an invoice; it is not a general Svefaktura
// library and does not read Svefaktura. It does no I/O beyond the reader and
// writer it is handed and knows nothing of tenants, the registry or
// transports.
package efaktura
