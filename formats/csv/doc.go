// Package csv reads and writes the Multikanal CSV: the flat file format for
// ERPs that cannot produce UBL. One row is one invoice line; the invoice
// columns are repeated on every row, and consecutive rows with the same type
// and invoice number form one invoice. A header row names the columns, so
// their order is free. docs/formats/csv.md is the user's reference.
//
// The reader decides the separator from the header row and the character
// encoding and decimal mark from the whole file, before it emits anything: a
// file is read under one interpretation or refused, never guessed at. To do
// that with flat memory it reads the input twice, streaming both times.
//
// The package parses; it does not validate. Check digits (OCR, bankgiro,
// organisationsnummer, personnummer), due dates and the Peppol rules are the
// validation step's work, which names the broken rule. What the reader
// refuses is what it cannot read: a date that is not a date, a number that is
// not a number, an amount with three decimals, totals in the file that the
// lines do not add up to.
package csv
