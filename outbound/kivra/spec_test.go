package kivra

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// specPath is Kivra's published sender API, kept outside the module.
const specPath = "../../../shared/reference/kivra-sender-api.swagger.yml"

// The published document splits some parts into files under _partials/
// that the copy in shared/reference does not carry. When they are absent the
// loader is given these stand-ins, restated from developer.kivra.com's
// _partials: the content endpoint (path-v2-tenantkey-content.yml) and its
// response schema as far as validation goes; the salary slip schema only as a
// placeholder, since nothing here sends one.
var partials = map[string]string{
	"path-v2-tenantkey-content.yml": `
post:
  operationId: Send content
  security:
    - oAuth2Client:
        - "post:kivra.v2.tenant.{tenantKey}.content"
  parameters:
    - name: tenantKey
      in: path
      required: true
      schema:
        type: string
        format: hexadecimal
  requestBody:
    content:
      application/json:
        schema:
          oneOf:
            - $ref: "#/components/schemas/Content_user_v2"
            - $ref: "#/components/schemas/Content_company"
  responses:
    201:
      description: Content Created succesfully
      content:
        application/json:
          schema:
            $ref: "#/components/schemas/Content_user"
      headers:
        kivra-objkey:
          schema:
            type: string
        location:
          schema:
            type: string
`,
	"schema-v2-tenantkey-content-response.yml": `
type: object
properties:
  subject:
    type: string
  generated_at:
    type: string
  type:
    type: string
`,
	"schema-salary-slip.json": `{"type": "object"}`,
}

const introRef = "  description:\n    $ref: \"./_partials/api-introduction.yml#/introText\""

// loadSpec loads the swagger, or skips the test when it is not there.
func loadSpec(t testing.TB) *openapi3.T {
	t.Helper()
	data, err := os.ReadFile(specPath)
	if errors.Is(err, os.ErrNotExist) {
		t.Skipf("Kivra's API description %s is not there; these tests validate against it", specPath)
	}
	if err != nil {
		t.Fatal(err)
	}
	// info.description is a $ref to the introduction text, which OpenAPI
	// does not allow there and the loader refuses: it becomes plain text.
	data = bytes.Replace(data, []byte(introRef), []byte(`  description: "Kivra sender API"`), 1)
	loader := openapi3.NewLoader()
	loader.IsExternalRefsAllowed = true
	loader.ReadFromURIFunc = func(l *openapi3.Loader, u *url.URL) ([]byte, error) {
		if b, err := os.ReadFile(u.Path); err == nil {
			return b, nil
		}
		if strings.Contains(u.Path, "_partials/") {
			if s, ok := partials[filepath.Base(u.Path)]; ok {
				return []byte(s), nil
			}
		}
		return nil, os.ErrNotExist
	}
	abs, _ := filepath.Abs(specPath)
	doc, err := loader.LoadFromDataWithPath(data, &url.URL{Path: abs})
	if err != nil {
		t.Fatalf("loading %s: %v", specPath, err)
	}
	// No doc.Validate: the published document fails it in parts this
	// package does not use (examples of the wrong type, a schema with type
	// "enum"); what matters is that requests and answers validate.
	return doc
}

// reply is a scripted answer of the fake Kivra.
type reply struct {
	status int
	header http.Header
	body   string
}

// fakeKivra is Kivra's sender API as far as this package uses it. Every
// request it gets is checked against the published API description (path,
// method, parameters, security, body) and so is every answer it gives, so
// a field sent or expected wrongly fails the test.
type fakeKivra struct {
	t         *testing.T
	spec      *openapi3.T
	router    routers.Router
	srv       *httptest.Server
	tokenPath string

	mu        sync.Mutex
	tokens    int             // token requests served
	valid     string          // the token the API accepts now
	replies   []reply         // answers for the next content posts, then 201
	contents  []content       // content bodies received
	matchable map[string]bool // personnummer usermatch answers with
}

func newFake(t *testing.T) *fakeKivra {
	t.Helper()
	spec := loadSpec(t)
	f := &fakeKivra{t: t, spec: spec, matchable: map[string]bool{"191212121212": true, "198112172385": true}}
	f.srv = httptest.NewServer(f)
	t.Cleanup(f.srv.Close)
	// The router matches requests against the servers listed; the test
	// server stands in for Kivra's.
	spec.Servers = openapi3.Servers{{URL: f.srv.URL}}
	var err error
	if f.router, err = gorillamux.NewRouter(spec); err != nil {
		t.Fatalf("routing the API description: %v", err)
	}
	flow := spec.Components.SecuritySchemes["oAuth2Client"].Value.Flows.ClientCredentials
	u, err := url.Parse(flow.TokenURL)
	if err != nil {
		t.Fatal(err)
	}
	f.tokenPath = u.Path
	return f
}

func (f *fakeKivra) options() Options {
	return Options{BaseURL: f.srv.URL, ClientID: "multikanal", ClientSecret: "s3cret", TenantKey: "16d2c3a9f1e0", PDF: fakePDF}
}

// script queues answers for the next content posts.
func (f *fakeKivra) script(r ...reply) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.replies = append(f.replies, r...)
}

// revoke makes the API refuse the token it issued last, as Kivra does when
// a token ends early.
func (f *fakeKivra) revoke() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.valid = "revoked"
}

func (f *fakeKivra) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == f.tokenPath {
		f.token(w, r)
		return
	}
	route, params, err := f.router.FindRoute(r)
	if err != nil {
		f.t.Errorf("%s %s is not in Kivra's API description: %v", r.Method, r.URL.Path, err)
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	in := &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route, Options: &openapi3filter.Options{
		MultiError: true,
		AuthenticationFunc: func(_ context.Context, ai *openapi3filter.AuthenticationInput) error {
			if !strings.HasPrefix(ai.RequestValidationInput.Request.Header.Get("Authorization"), "Bearer ") {
				return errors.New("no bearer token")
			}
			return nil
		},
	}}
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.Header.Get("Authorization") != "Bearer "+f.valid {
		f.answer(w, in, reply{http.StatusUnauthorized, nil, `{"code": 40015, "short_message": "Invalid Token", "long_message": "Invalid access_token provided"}`})
		return
	}
	if err := openapi3filter.ValidateRequest(r.Context(), in); err != nil {
		f.t.Errorf("%s %s does not match Kivra's API description:\n%v\n%s", r.Method, r.URL.Path, err, body)
		f.answer(w, in, reply{http.StatusBadRequest, nil, `{"code": 40000, "short_message": "Request validation failed", "long_message": "The request payload does not pass required validation"}`})
		return
	}
	switch route.Operation.OperationID {
	case "Match Users ssn v2":
		var req struct{ List []string }
		json.Unmarshal(body, &req)
		out := []string{}
		for _, ssn := range req.List {
			if f.matchable[ssn] {
				out = append(out, ssn)
			}
		}
		b, _ := json.Marshal(map[string][]string{"list": out})
		f.answer(w, in, reply{http.StatusOK, nil, string(b)})
	case "Send content":
		if len(f.replies) > 0 {
			rep := f.replies[0]
			f.replies = f.replies[1:]
			f.answer(w, in, rep)
			return
		}
		var c content
		if err := json.Unmarshal(body, &c); err != nil {
			f.t.Error(err)
		}
		f.contents = append(f.contents, c)
		b, _ := json.Marshal(map[string]string{"subject": c.Subject, "generated_at": c.GeneratedAt, "type": c.Type})
		key := fmt.Sprintf("15f3b2c9a1%04d", len(f.contents))
		f.answer(w, in, reply{http.StatusCreated, http.Header{"Kivra-Objkey": {key}, "Location": {f.srv.URL + "/v2/tenant/16d2c3a9f1e0/content/" + key}}, string(b)})
	default:
		f.t.Errorf("unexpected operation %q", route.Operation.OperationID)
	}
}

// answer checks the fake's own answer against the API description before
// writing it: a status the operation documents against its schema, an error
// against Kivra's documented error body.
func (f *fakeKivra) answer(w http.ResponseWriter, in *openapi3filter.RequestValidationInput, rep reply) {
	header := http.Header{"Content-Type": {"application/json"}, "X-Correlation-Id": {"c0ffee"}}
	for k, v := range rep.header {
		header[k] = v
	}
	if in.Route.Operation.Responses.Status(rep.status) != nil {
		out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: rep.status, Header: header, Body: io.NopCloser(strings.NewReader(rep.body)), Options: &openapi3filter.Options{IncludeResponseStatus: true}}
		if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
			f.t.Errorf("the fake's answer does not match the API description: %v", err)
		}
	} else {
		var v any
		if err := json.Unmarshal([]byte(rep.body), &v); err != nil {
			f.t.Errorf("error body %q: %v", rep.body, err)
		} else if err := f.spec.Components.Schemas["BasicErrorResponse"].Value.VisitJSON(v, openapi3.EnableJSONSchema2020()); err != nil {
			f.t.Errorf("the fake's error body does not match BasicErrorResponse: %v", err)
		}
	}
	for k, v := range header {
		w.Header()[k] = v
	}
	w.WriteHeader(rep.status)
	io.WriteString(w, rep.body)
}

// token is the client credentials grant as Kivra documents it.
func (f *fakeKivra) token(w http.ResponseWriter, r *http.Request) {
	id, secret, ok := r.BasicAuth()
	r.ParseForm()
	switch {
	case r.Method != http.MethodPost:
		f.t.Errorf("token request %s, want POST", r.Method)
	case r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" || r.PostForm.Get("grant_type") != "client_credentials":
		f.t.Errorf("token request %q with form %v, want grant_type=client_credentials", r.Header.Get("Content-Type"), r.PostForm)
	case !ok || id != "multikanal" || secret != "s3cret":
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"code": 40104, "short_message": "Invalid Client", "long_message": "Client authentication failed"}`)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tokens++
	f.valid = fmt.Sprintf("token-%d", f.tokens)
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"state": "", "access_token": %q, "expires_in": 28800, "scope": "kivra.v1.tenant.16d2c3a9f1e0.*", "token_type": "bearer"}`, f.valid)
}

func (f *fakeKivra) tokenCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tokens
}

// checkContent validates a rendered body against the API description's
// Content_user_v2, the schema of a content request for a person.
func checkContent(t *testing.T, spec *openapi3.T, body []byte) {
	t.Helper()
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatal(err)
	}
	if err := spec.Components.Schemas["Content_user_v2"].Value.VisitJSON(v, openapi3.EnableJSONSchema2020(), openapi3.VisitAsRequest()); err != nil {
		t.Errorf("content does not match Content_user_v2: %v\n%s", err, body)
	}
}
