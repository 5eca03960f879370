// Package finvoice writes and reads Finvoice 3.0, the Finnish banks'
// e-invoice message (Finance Finland, "Finvoice 3.0 implementation
// guidelines" and the schema Finvoice3.0.xsd): consumer e-invoices shown in
// the payer's online bank and business e-invoices routed by banks and
// e-invoice operators.
//
// A file this package writes is what a biller hands to its bank or operator
// for the Finvoice forwarding service: one or more messages, each preceded
// by its SOAP frame (an ebXML message header naming the sender's and the
// receiver's e-invoice addresses and intermediators), in ISO-8859-15 as the
// guidelines' section 9.3 requires. Each message maps one canonical
// formats.Document: parties, invoice details, rows, VAT, and EpiDetails,
// the payment part the bank turns into a credit transfer: the seller's
// IBAN and BIC, the structured reference (a Finnish reference number or an
// RF creditor reference, checked by formats.CheckFinnishReference and
// formats.CheckRF), the due date and the amount, all from the payment
// decision (Document.HowToPay).
//
// Read parses such a file (or a single message without a frame) back into
// documents; it exists for round trips and tests and covers what Write
// writes, not every optional element of the schema.
//
// The package does no I/O beyond the reader and writer it is handed and
// knows nothing of tenants, the registry or transports. Sources, the
// element mapping and every assumption are in docs/channels/finvoice.md.
package finvoice
