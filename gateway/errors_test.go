package gateway

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// What an operator names and the gateway does not have is 404 on every
// route, with a message naming it; a well-formed request the state refuses
// is 409; a malformed one 400.
func TestErrorStatusCodes(t *testing.T) {
	d := startTestDaemon(t, nil, nil)
	srv := httptest.NewServer(d.httpapi.Routes())
	defer srv.Close()
	post := func(path, ctype, body string) (int, string) {
		resp, err := http.Post(srv.URL+path, ctype, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	get := func(path string) (int, string) {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, c := range []struct {
		name string
		call func() (int, string)
		code int
		want string
	}{
		{"a receipt of no file", func() (int, string) { return get("/api/v1/files/F0009999/receipt") }, 404, "file F0009999 not found"},
		{"no such document", func() (int, string) { return get("/api/v1/docs/F0009999-0000000") }, 404, "document F0009999-0000000 not found"},
		{"retry of no document", func() (int, string) { return post("/api/v1/docs/F0009999-0000000/retry", "application/json", "{}") }, 404, "not found"},
		{"recipients of no tenant", func() (int, string) {
			return post("/api/v1/tenants/nosuch/recipients", "text/csv", "key;channel\npnr:198112189876;efaktura\n")
		}, 404, "nosuch\\\" is not configured"},
		{"mandates of no tenant", func() (int, string) {
			return post("/api/v1/tenants/nosuch/autogiro/mandates", "application/json", `{"orders":[{"action":"cancel","payer":"5"}]}`)
		}, 404, "no tenant nosuch"},
		{"mandates listed of no tenant", func() (int, string) { return get("/api/v1/tenants/nosuch/autogiro/mandates") }, 404, "no tenant nosuch"},
		{"a malformed recipient key", func() (int, string) { return get("/api/v1/tenants/demo/recipients?key=nokey") }, 400, "TYPE:VALUE"},
		{"a page too large", func() (int, string) { return get("/api/v1/docs?limit=5000") }, 400, "1 to 1000"},
	} {
		code, body := c.call()
		if code != c.code || !strings.Contains(body, c.want) {
			t.Errorf("%s: %d %s; want %d with %q", c.name, code, body, c.code, c.want)
		}
	}
}
