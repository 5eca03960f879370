// Package autogiro reads and writes Bankgirot AutoGiro files in the new
// layout ("ny layout") of Bankgirot's "Bg Autogiro Teknisk manual" (2014):
// the reports Bankgirot sends a biller (mandate advice, payment
// specification, rejected payments, cancellations and changes, new mandates
// from internet banks, register extracts, Bg Max), the orders a biller sends
// (payment and mandate files are written and read; cancellation and change
// files are only read), and the HMAC-SHA256 seal every file sent to
// Bankgirot must carry.
//
// Parse takes a whole file and returns either a complete, validated File or
// an *Error naming the line and the rule: nothing is half-read, so a caller
// can apply a file all or nothing. Sniff recognises the files by content.
//
// The package does not implement formats.Reader: these files carry no
// invoices. It does no I/O beyond the reader and writer it is handed, and it
// knows nothing about tenants, the registry or transports; the gateway wires
// it. The old layout ("gammal layout", manual chapter 9) is recognised and
// refused with a clear message.
//
// Files are ISO-8859-1 with CRLF line ends and 80-character records. Text
// fields come out of Parse as UTF-8 Go strings and go into the writers as
// UTF-8 Go strings; the package converts at the edge.
package autogiro
