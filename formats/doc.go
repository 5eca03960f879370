// Package formats holds the canonical document model that every input format is
// parsed into and every channel renders from, plus the identifier checks
// (OCR, bankgiro, plusgiro, organisationsnummer, personnummer) they share.
//
// It does no I/O. Each input or output format lives in its own subpackage
// (ubl, csv, autogiro, ...), imports this package and not its siblings.
package formats
