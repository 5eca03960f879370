package main

import (
	"bytes"
	"encoding/json"
)

// jsonBody is a request body the daemon must be told is JSON: its
// state-changing endpoints take JSON only, so that a web page cannot post
// to them across origins as text/plain.
type jsonBody struct{ *bytes.Reader }

// jsonRequest encodes v as a request body for call.
func jsonRequest(v any) (jsonBody, error) {
	b, err := json.Marshal(v)
	return jsonBody{bytes.NewReader(b)}, err
}
