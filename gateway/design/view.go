package design

import (
	"encoding/base64"
	"html/template"
	"strings"

	"github.com/multikanal/multikanal/config"
	"github.com/multikanal/multikanal/formats"
	"github.com/multikanal/multikanal/formats/pdf"
	"github.com/multikanal/multikanal/gateway/store"
)

// pageView is what the page template shows: every text in the letter's
// language, every figure ready to print, and only what the payment
// decision says about how to pay.
type pageView struct {
	Lang, Other, OtherName string
	T                      map[string]string
	Seller                 string
	Logo                   template.URL // a data: URI, or "" for the seller's name
	Colour                 template.CSS
	Title                  string
	Message                string
	Amount                 string
	Due, Issued, Number    string
	Buyer                  string
	PDF                    string
	DirectDebit            string // the withdrawal sentence, when collected by direct debit
	Nothing                bool
	Accounts               [][2]string
	Swish                  string // the Swish number, spaced
	SwishQR                template.URL
	SwishApp               template.URL
	Offers                 []string
	Contact                []string
	Footer                 string
}

var words = map[string]map[string]string{
	"sv": {"invoice": "Faktura", "credit": "Kreditnota", "due": "Förfallodatum", "issued": "Fakturadatum", "number": "Fakturanummer",
		"amount": "Att betala", "to": "Till", "pay": "Så betalar du", "swish": "Betala med Swish", "swishScan": "Skanna koden med Swish-appen.",
		"swishApp": "Öppna Swish", "bank": "Betala via din bank", "pdf": "Ladda ner fakturan (PDF)", "nothing": "Du har inget att betala.",
		"next": "Nästa faktura", "contact": "Kontakt", "qrAlt": "QR-kod för Swish", "from": "från"},
	"en": {"invoice": "Invoice", "credit": "Credit note", "due": "Due date", "issued": "Invoice date", "number": "Invoice number",
		"amount": "Amount due", "to": "To", "pay": "How to pay", "swish": "Pay with Swish", "swishScan": "Scan the code with the Swish app.",
		"swishApp": "Open Swish", "bank": "Pay through your bank", "pdf": "Download the invoice (PDF)", "nothing": "You have nothing to pay.",
		"next": "Your next invoice", "contact": "Contact", "qrAlt": "Swish QR code", "from": "from"},
}

// view prepares the page of a document.
func (p *Pages) view(t config.Tenant, dl *store.Delivery, body *formats.Document, pdfHref string) pageView {
	l := body.Letter
	lang := l.Language
	w := words[lang]
	v := pageView{Lang: lang, T: w, Seller: body.Seller.DisplayName(), Colour: "#1a1a1a", Message: l.Message,
		Amount: strings.TrimSpace(body.Totals.Payable.Swedish() + " " + body.Currency), Due: body.DueDate.String(),
		Issued: body.IssueDate.String(), Number: body.Number, Buyer: body.Buyer.DisplayName(), PDF: pdfHref}
	v.Other, v.OtherName = "en", "English"
	if lang == "en" {
		v.Other, v.OtherName = "sv", "Svenska"
	}
	v.Title = w["invoice"] + " " + body.Number
	if body.Kind == formats.KindCreditNote {
		v.Title = w["credit"] + " " + body.Number
	}
	look := l.Look
	if look.Colour != "" {
		v.Colour = template.CSS(look.Colour)
	}
	switch {
	case len(look.LogoSVG) > 0:
		v.Logo = template.URL("data:image/svg+xml;base64," + base64.StdEncoding.EncodeToString(look.LogoSVG))
	case len(look.LogoPNG) > 0:
		v.Logo = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(look.LogoPNG))
	}
	pay := body.HowToPay()
	switch {
	case pay.DirectDebit():
		v.DirectDebit = pay.WithdrawalText() + ". Du behöver inte betala själv."
		if lang == "en" {
			when := "on the next bank day"
			if !pay.Date.IsZero() {
				when = "on " + pay.Date.String()
			}
			v.DirectDebit = "The amount is withdrawn by direct debit (" + string(pay.Method) + ") " + when + ". You need not pay yourself."
		}
	case pay.Method == formats.PayNothing:
		v.Nothing = true
	default:
		if pay.Bankgiro != "" {
			v.Accounts = append(v.Accounts, [2]string{"Bankgiro", groupBankgiro(pay.Bankgiro)})
		}
		if pay.Plusgiro != "" {
			v.Accounts = append(v.Accounts, [2]string{"Plusgiro", pay.Plusgiro})
		}
		if pay.IBAN != "" && pay.Bankgiro == "" && pay.Plusgiro == "" {
			v.Accounts = append(v.Accounts, [2]string{"IBAN", pay.IBAN})
			if pay.BIC != "" {
				v.Accounts = append(v.Accounts, [2]string{"BIC", pay.BIC})
			}
		}
		if pay.Reference != "" {
			label := "OCR"
			if !formats.Luhn(pay.Reference) {
				label = map[string]string{"sv": "Referens", "en": "Reference"}[lang]
			}
			v.Accounts = append(v.Accounts, [2]string{label, pay.Reference})
		}
		if payload := pdf.SwishPayload(body); payload != "" {
			if img, err := qrImage(payload); err == nil {
				v.SwishQR = template.URL(img)
				v.SwishApp = template.URL(swishAppLink(pay, body))
				n := formats.OnlyDigits(pay.Swish)
				v.Swish = n[:3] + " " + n[3:6] + " " + n[6:8] + " " + n[8:]
			}
		}
	}
	v.Offers = p.offers(t, dl.Channel, lang, pay)
	for _, c := range []string{look.Phone, look.Email, look.Web} {
		if c != "" {
			v.Contact = append(v.Contact, c)
		}
	}
	v.Footer = look.Footer
	return v
}

func groupBankgiro(s string) string {
	d := formats.OnlyDigits(s)
	if len(d) < 7 || len(d) > 8 {
		return s
	}
	return d[:len(d)-4] + "-" + d[len(d)-4:]
}

// pageTemplate is the page: mobile first (one column; two from 48em),
// no script, its style inline (the policy allows nothing else), text
// colours of 4.5:1 or more (the accent colour is checked for it), the
// language on <html>, headings in order, a visible focus.
var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="{{.Lang}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<title>{{.Title}} – {{.Seller}}</title>
<style>
:root { --accent: {{.Colour}}; }
* { box-sizing: border-box; }
body { margin: 0; font: 1rem/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1a1a1a; background: #f4f5f7; }
header { background: #fff; border-bottom: 4px solid var(--accent); padding: 1rem; display: flex; justify-content: space-between; align-items: center; gap: 1rem; }
header img { max-height: 3rem; max-width: 60%; }
.seller { font-weight: 700; font-size: 1.25rem; }
nav a { color: var(--accent); }
main { max-width: 60rem; margin: 0 auto; padding: 1rem; display: grid; gap: 1rem; }
section { background: #fff; border-radius: .5rem; padding: 1rem 1.25rem; }
h1 { font-size: 1.5rem; margin: 0 0 .5rem; color: var(--accent); }
h2 { font-size: 1.15rem; margin: 0 0 .5rem; }
.amount { font-size: 2rem; font-weight: 700; margin: 0; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; margin: .5rem 0 0; }
dt { color: #4a4a4a; }
dd { margin: 0; font-weight: 600; font-variant-numeric: tabular-nums; }
.message { border-left: 4px solid var(--accent); background: #fff; }
.button { display: inline-block; background: var(--accent); color: #fff; font-weight: 700; text-decoration: none; padding: .75rem 1.25rem; border-radius: .5rem; min-height: 44px; }
a:focus-visible, .button:focus-visible { outline: 3px solid #1a1a1a; outline-offset: 2px; }
.qr { display: none; }
.qr img { width: 12rem; height: 12rem; }
footer { max-width: 60rem; margin: 0 auto; padding: 1rem; color: #4a4a4a; font-size: .875rem; }
@media (min-width: 48em) {
  main { grid-template-columns: 1fr 1fr; }
  .wide { grid-column: 1 / -1; }
  .qr { display: block; }
  .app { display: none; }
}
</style>
</head>
<body>
<header>
{{if .Logo}}<img src="{{.Logo}}" alt="{{.Seller}}">{{else}}<span class="seller">{{.Seller}}</span>{{end}}
<nav><a href="?lang={{.Other}}" lang="{{.Other}}" hreflang="{{.Other}}">{{.OtherName}}</a></nav>
</header>
<main>
<section class="wide" aria-labelledby="title">
<h1 id="title">{{.Title}}</h1>
<p>{{.T.from}} {{.Seller}} · {{.T.to}} {{.Buyer}}</p>
<p class="amount" id="amount">{{.T.amount}}: {{.Amount}}</p>
<dl>
{{with .Due}}<dt>{{$.T.due}}</dt><dd>{{.}}</dd>{{end}}
<dt>{{.T.number}}</dt><dd>{{.Number}}</dd>
{{with .Issued}}<dt>{{$.T.issued}}</dt><dd>{{.}}</dd>{{end}}
</dl>
<p><a class="button" id="pdf" href="{{.PDF}}">{{.T.pdf}}</a></p>
</section>
{{with .Message}}<section class="wide message"><p>{{.}}</p></section>{{end}}
<section aria-labelledby="pay">
<h2 id="pay">{{.T.pay}}</h2>
{{if .DirectDebit}}<p id="directdebit">{{.DirectDebit}}</p>
{{else if .Nothing}}<p>{{.T.nothing}}</p>
{{else}}{{if .Accounts}}<h3>{{.T.bank}}</h3>
<dl>{{range .Accounts}}<dt>{{index . 0}}</dt><dd>{{index . 1}}</dd>{{end}}</dl>{{end}}
{{end}}
</section>
{{if .SwishQR}}<section aria-labelledby="swish" id="swish-section">
<h2 id="swish">{{.T.swish}}</h2>
<p>Swish {{.Swish}}</p>
<div class="qr" id="swish-qr"><p>{{.T.swishScan}}</p><img src="{{.SwishQR}}" alt="{{.T.qrAlt}}: {{.Amount}}, {{.Swish}}"></div>
<p class="app"><a class="button" id="swish-app" href="{{.SwishApp}}">{{.T.swishApp}}</a></p>
</section>{{end}}
{{if .Offers}}<section class="wide" aria-labelledby="next">
<h2 id="next">{{.T.next}}</h2>
<ul>{{range .Offers}}<li>{{.}}</li>{{end}}</ul>
</section>{{end}}
</main>
<footer>
{{if .Contact}}<p>{{.T.contact}}: {{range $i, $c := .Contact}}{{if $i}} · {{end}}{{$c}}{{end}}</p>{{end}}
{{with .Footer}}<p>{{.}}</p>{{end}}
</footer>
</body>
</html>
`))
