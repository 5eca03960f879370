// Package efaktura writes the files a biller sends to Bankgirot's e-faktura
// service for consumers (e-faktura privat: the invoice shown in the payer's
// internet bank) and reads the service's report of which invoices it took.
//
// Each invoice is a Svefaktura 1.0 document (SFTI BasicInvoice, namespace
// urn:sfti:documents:BasicInvoice:1:0). Bankgirot's own layouts are
// published (the EF records of "Samverkan e-faktura, Bilaga 3", BGC
// Invoice 1.3.x, the registration file of "E-faktura Anmälningsärende"),
// but none of their field layouts could be read where this was written, so
// the file envelope and the report are still documented stand-ins, kept
// apart from the invoice mapping so Bankgirot's layouts replace them in one
// place. docs/channels/efaktura.md lists every document with its version
// and section, what could not be read, and every assumption.
//
// The package maps the canonical model (formats.Document) and checks what
// the bank needs to show and pay an invoice; it is not a general Svefaktura
// library and does not read Svefaktura. It does no I/O beyond the reader and
// writer it is handed and knows nothing of tenants, the registry or
// transports.
package efaktura
