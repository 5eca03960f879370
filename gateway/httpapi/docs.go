package httpapi

import (
	"encoding/json"
	"mime"
	"net/http"

	"github.com/multikanal/multikanal/gateway/api"
	"github.com/multikanal/multikanal/gateway/errkind"
	"github.com/multikanal/multikanal/gateway/receipts"
)

// handleAckDoc serves POST /api/v1/docs/{id}/ack. It takes JSON only: a
// form or text/plain post, which any web page can send across origins,
// is refused.
func (s *Server) handleAckDoc(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		writeJSON(w, http.StatusUnsupportedMediaType, map[string]string{"error": `the body must be JSON: {"by": "...", "why": "..."}`})
		return
	}
	var req api.AckRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 16<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeError(w, errkind.New(errkind.Invalid, `the body must be {"by": "...", "why": "..."}: %w`, err))
		return
	}
	doc, err := s.Delivery.Ack(id, recordedBy(r, req.By), req.Why)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, receipts.DocOf(doc))
}

// handleResend serves POST /api/v1/docs/{id}/resend. Like the other
// state-changing endpoints it takes JSON only, which a web page cannot post
// across origins.
func (s *Server) handleResend(w http.ResponseWriter, r *http.Request) {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		writeJSON(w, http.StatusUnsupportedMediaType, map[string]string{"error": `the body must be JSON: {"reason": "...", "by": "..."}`})
		return
	}
	var req api.ResendRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 16<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeError(w, errkind.New(errkind.Invalid, `the body must be {"reason": "...", "by": "..."}: %w`, err))
		return
	}
	doc, err := s.Delivery.Resend(r.PathValue("id"), recordedBy(r, req.By), req.Reason)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, receipts.DocOf(doc))
}
