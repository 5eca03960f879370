package httpapi

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"html"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Pages serves the hosted invoice pages: the design part renders them.
// The HTTP side checks the link first; a page is asked for only with a
// link the gateway signed, before it expired.
type Pages interface {
	// ServePage answers the page of the delivery (or, with pdf, its
	// invoice PDF).
	ServePage(w http.ResponseWriter, r *http.Request, delivery string, pdf bool)
}

// A page link is {public.base_url}/i/<delivery>/<expiry>/<signature>: the
// delivery it shows, when it stops opening (Unix seconds, base 36) and an
// HMAC-SHA256 of both under the public listener's signing secret, cut to
// 128 bits so that a printed link stays short. The secret is the callback
// keys' one, with its own label, so a page link opens no callback and a
// callback key no page.
const pageLabel = "multikanal page v1\x00"

// pageSig is the signature of a page link.
func (c *callbackKeys) pageSig(delivery, exp string) string {
	mac := hmac.New(sha256.New, c.secret)
	mac.Write([]byte(pageLabel + delivery + "\x00" + exp))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil)[:16])
}

// PageURL is the link to the delivery's invoice page, opening until
// expires; "" while the public listener is off (no page is served).
func (s *Server) PageURL(delivery string, expires time.Time) string {
	if s.publicBase == "" || s.callbacks == nil || s.Pages == nil {
		return ""
	}
	exp := strconv.FormatInt(expires.Unix(), 36)
	return s.publicBase + "/i/" + url.PathEscape(delivery) + "/" + exp + "/" + s.callbacks.pageSig(delivery, exp)
}

// page checks a page link and hands a good one to Pages. A link the
// gateway did not sign is 404 (it shows nothing, not even that the
// delivery exists); a signed one past its expiry is 410 with a page that
// says whom to ask.
func (s *Server) page(pdf bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, exp, sig := r.PathValue("id"), r.PathValue("exp"), r.PathValue("sig")
		if s.callbacks == nil || id == "" || !hmac.Equal([]byte(sig), []byte(s.callbacks.pageSig(id, exp))) {
			s.Log.Warn("invoice page refused: the link was not given out by the gateway", "delivery", id, "remote", r.RemoteAddr)
			http.NotFound(w, r)
			return
		}
		secs, err := strconv.ParseInt(exp, 36, 64)
		if err != nil || !time.Now().Before(time.Unix(secs, 0)) {
			pageHeaders(w)
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(http.StatusGone)
			w.Write([]byte(`<!doctype html><html lang="sv"><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Länken har gått ut</title>` +
				`<main style="font-family:sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem"><h1>Länken har gått ut</h1><p>Länken till fakturan gäller inte längre. Kontakta den som skickade fakturan om du behöver en ny.</p>` +
				`<p lang="en">This link has expired. Please contact the sender of the invoice for a new one.</p><p><small>` + html.EscapeString(id) + `</small></p></main></html>`))
			return
		}
		pageHeaders(w)
		s.Pages.ServePage(w, r, id, pdf)
	})
}

// pageHeaders are what every invoice page answers with: no script, style
// and images of its own only, nothing that frames it, no referrer that
// would carry the signed link to another site, and no index.
func pageHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Robots-Tag", "noindex, nofollow")
}
