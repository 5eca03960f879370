// Package avtalegiro reads and writes the files of AvtaleGiro, the
// Norwegian direct debit run by Nets (now Mastercard Payment Services), in
// the "OCR giro" family of 80-character records that Nets' specifications
// describe:
//
//   - written (payee to Nets): the payment claim file (betalingskrav:
//     amount item 1 and 2 per claim, with the specification lines of the
//     notice Nets sends the payer, or none when the payee notifies the payer
//     itself), and the cancellation file (sletteanmodninger);
//   - read (Nets to payee): the notifications of the payer's mandates
//     ("faste betalingsoppdrag": new or changed, deleted, or the full list,
//     each with whether the payer wants a written notice), the payee's own
//     claim and cancellation files, and the OCR giro accounting data
//     (konteringsdata) that reports what was paid, AvtaleGiro withdrawals
//     among them (transaction type 15).
//
// The record layouts follow Nets' "Systemspesifikasjon AvtaleGiro" (v 2.9;
// the December 2016 edition is the one the netsgiro project keeps) and
// "Systemspesifikasjon OCR giro"; docs/channels/avtalegiro.md cites the
// sections and says which parts could not be checked against the
// documents' text.
//
// Parse takes a whole file and returns a complete, validated Transmission
// or an *Error naming the line and the rule: counts and sums of every end
// record are checked, so nothing is half-read. Sniff recognises the files
// by content. The package does no I/O beyond the reader and writer it is
// handed and knows nothing of tenants, the registry or transports.
//
// Files are ISO-8859-1 with 80-character records, written with CR LF line
// ends (LF alone is read too). Text fields are UTF-8 Go strings on this
// side; the package converts at the edge.
package avtalegiro
