package pdf

// english is the invoice's wording in English, by its Swedish: the
// layout is written in Swedish and asks t for each label, so a label
// without a translation stays Swedish rather than vanishing.
var english = map[string]string{
	"Faktura": "Invoice", "Kreditnota": "Credit note",
	"Fakturanummer": "Invoice number", "Kreditnotanummer": "Credit note number",
	"Fakturadatum": "Invoice date", "Förfallodatum": "Due date", "Avser faktura": "Refers to invoice",
	"Kundnummer": "Customer number", "Er referens": "Your reference", "Ert ordernummer": "Your order number",
	"Vår referens": "Our reference", "Projekt": "Project", "Avtal": "Contract", "Leveransdatum": "Delivery date",
	"Period": "Period", "Att": "Attn", "Sida": "Page", "av": "of",
	"Beskrivning": "Description", "Antal": "Qty", "Enhet": "Unit", "À-pris": "Unit price", "Moms": "VAT", "Belopp": "Amount",
	"Summa rader": "Lines total", "Rabatter": "Allowances", "Avgifter": "Charges", "Summa exkl. moms": "Total excl. VAT",
	"Summa inkl. moms": "Total incl. VAT", "Öresavrundning": "Rounding", "Betalt i förskott": "Paid in advance",
	"Betalarnummer": "Payer number", "Dragningsdag": "Withdrawal date", "närmaste bankdag": "next bank day",
	"Att betala": "Amount due", "Referens": "Reference", "OCR-nummer": "OCR reference",
	"Momsspecifikation": "VAT breakdown", "Underlag": "Taxable", "Er tillgodo": "In your favour",
	"Dras via autogiro": "Withdrawn by AutoGiro", "Kreditnota – betala inte": "Credit note – do not pay",
	"Beloppet dras av från er nästa betalning eller betalas tillbaka.": "The amount is deducted from your next payment or paid back.",
	"Krediterar faktura": "Credits invoice", "Betalning": "Payment", "Inget att betala": "Nothing to pay",
	"betala inte själv": "do not pay yourself", "Betala med Swish": "Pay with Swish", "Betalningsvillkor": "Payment terms",
	"Org.nr": "Reg. no.", "Momsreg.nr": "VAT no.", "Godkänd för F-skatt": "Approved for F-tax",
	"Moms 0 % (nollskattesats)": "VAT 0 % (zero rated)", "Omvänd betalningsskyldighet": "Reverse charge",
	"Undantaget från moms": "Exempt from VAT", "Gemenskapsintern leverans": "Intra-community supply",
	"Export, momsfri": "Export, VAT exempt", "Utanför momsens tillämpningsområde": "Outside the scope of VAT",
	"Meddelande": "Message", "Se och betala fakturan på webben": "See and pay the invoice online",
}

// translator gives the wording in the letter's language.
type translator bool

// t is sv in the sheet's language: itself in Swedish, its English
// when the letter is in English and the label has one.
func (en translator) t(sv string) string {
	if en {
		if s, ok := english[sv]; ok {
			return s
		}
	}
	return sv
}
