package authtest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"time"
)

// Pushed authorization requests (RFC 9126) in front of the example OP,
// which has none: WithPAR advertises pushed_authorization_request_endpoint
// (and require_pushed_authorization_requests) in discovery, answers POST
// /par for the public client (client_id only) and the confidential one
// (its secret, Basic or in the form) with a request_uri that stands for the
// pushed parameters for 60 s and is used once, and hands the OP's own
// authorization endpoint the pushed parameters when the browser arrives with
// client_id and request_uri. With require set, an authorization request
// without request_uri is refused (RFC 9126 §5).

// PARPath is the pushed authorization request endpoint's path.
const PARPath = "/par"

// parLifetime is expires_in of a request_uri (RFC 9126 §2.2: short).
const parLifetime = 60 * time.Second

type pushed struct {
	params  url.Values
	expires time.Time
}

// WithPAR puts the PAR front in front of the OP; require also sets
// require_pushed_authorization_requests.
func WithPAR(require bool) Option {
	return func(o *options) { o.par, o.requirePAR = true, require }
}

// Pushed returns the parameters of every pushed authorization request the
// OP accepted, in order.
func (o *OP) Pushed() []url.Values {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]url.Values(nil), o.pushedLog...)
}

// servePAR answers what the PAR front handles; false hands r on to the OP.
func (o *OP) servePAR(w http.ResponseWriter, r *http.Request, next http.Handler) bool {
	switch {
	case r.URL.Path == "/.well-known/openid-configuration":
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		var m map[string]any
		if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &m) != nil {
			return false
		}
		m["pushed_authorization_request_endpoint"] = o.Issuer + PARPath
		m["require_pushed_authorization_requests"] = o.opts.requirePAR
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(m)
		return true
	case r.URL.Path == PARPath:
		o.push(w, r)
		return true
	case r.URL.Path == "/auth" && r.Method == http.MethodGet:
		q := r.URL.Query()
		ru := q.Get("request_uri")
		if ru == "" {
			if o.opts.requirePAR {
				http.Error(w, "invalid_request: this server takes authorization requests only through PAR", http.StatusBadRequest)
				return true
			}
			return false
		}
		o.mu.Lock()
		p, ok := o.pushedReqs[ru]
		delete(o.pushedReqs, ru) // single use
		o.mu.Unlock()
		if !ok || time.Now().After(p.expires) || p.params.Get("client_id") != q.Get("client_id") {
			http.Error(w, "invalid_request_uri: unknown, used or expired request_uri", http.StatusBadRequest)
			return true
		}
		r2 := r.Clone(r.Context())
		r2.URL.RawQuery = p.params.Encode()
		r2.RequestURI = r2.URL.RequestURI()
		next.ServeHTTP(w, r2)
		return true
	}
	return false
}

func (o *OP) push(w http.ResponseWriter, r *http.Request) {
	oauthErr := func(status int, code, desc string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
	}
	form := Form(r)
	if r.Method != http.MethodPost || form == nil {
		oauthErr(http.StatusMethodNotAllowed, "invalid_request", "POST a form")
		return
	}
	id, secret, basic := r.BasicAuth()
	if basic {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	} else {
		id, secret = form.Get("client_id"), form.Get("client_secret")
	}
	switch {
	case id == o.PublicClientID && secret == "":
	case id == o.ConfidentialClientID && secret == o.ClientSecret:
	default:
		oauthErr(http.StatusUnauthorized, "invalid_client", "client authentication failed")
		return
	}
	if form.Get("request_uri") != "" || form.Get("response_type") == "" || form.Get("redirect_uri") == "" {
		oauthErr(http.StatusBadRequest, "invalid_request", "a pushed request needs response_type and redirect_uri, and no request_uri")
		return
	}
	params := url.Values{}
	for k, v := range form {
		if k != "client_secret" {
			params[k] = v
		}
	}
	params.Set("client_id", id)
	ru := "urn:ietf:params:oauth:request_uri:" + randomHex(16)
	o.mu.Lock()
	if o.pushedReqs == nil {
		o.pushedReqs = map[string]pushed{}
	}
	o.pushedReqs[ru] = pushed{params: params, expires: time.Now().Add(parLifetime)}
	o.pushedLog = append(o.pushedLog, params)
	o.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	json.NewEncoder(w).Encode(map[string]any{"request_uri": ru, "expires_in": int(parLifetime.Seconds())})
}
