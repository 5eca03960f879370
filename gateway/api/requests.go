package api

// AckRequest is the body of POST /api/v1/docs/{id}/ack.
type AckRequest struct {
	By  string `json:"by"`
	Why string `json:"why"`
}

// ResendRequest is the body of POST /api/v1/docs/{id}/resend.
type ResendRequest struct {
	Reason string `json:"reason"`
	By     string `json:"by,omitempty"` // who asks; "api" when not given
}
