package dpop

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
	"sync"
	"time"
)

// maxBody bounds what is read of a request body to replay it, and of an
// error response to look for use_dpop_nonce.
const maxBody = 1 << 20

// Transport adds a fresh proof to each request it matches and honours the
// server's nonce (RFC 9449 §8, §9): it keeps the last DPoP-Nonce it was
// sent, puts it in later proofs, and when the server refuses a request for
// want of a nonce (a token endpoint's 400 use_dpop_nonce, a resource
// server's 401 with error="use_dpop_nonce") sends it once more with a new
// proof. A request body is buffered so that it can be sent again.
type Transport struct {
	Key  *Key
	Next http.RoundTripper
	// AccessToken, when set, is bound to each proof by ath (requests to a
	// resource server); empty for token requests.
	AccessToken string
	// Match selects the requests that get a proof; nil: every request.
	Match func(*http.Request) bool
	// Now is the clock of iat; time.Now when nil.
	Now func() time.Time

	mu    sync.Mutex
	nonce string
}

// Nonce returns the last nonce the server sent ("" when none).
func (t *Transport) Nonce() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.nonce
}

// SetNonce sets the nonce of the next proof (ignored when not a valid one).
func (t *Transport) SetNonce(n string) {
	if ValidNonce(n) {
		t.mu.Lock()
		t.nonce = n
		t.mu.Unlock()
	}
}

func (t *Transport) next() http.RoundTripper {
	if t.Next != nil {
		return t.Next
	}
	return http.DefaultTransport
}

func (t *Transport) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(r *http.Request) (*http.Response, error) {
	if t.Match != nil && !t.Match(r) {
		return t.next().RoundTrip(r)
	}
	body, err := replayable(r)
	if err != nil {
		return nil, err
	}
	sent := t.Nonce()
	resp, err := t.send(r, body, sent)
	if err != nil {
		return nil, err
	}
	n := resp.Header.Get(NonceHeader)
	t.SetNonce(n)
	if !ValidNonce(n) || n == sent || !nonceRefused(resp) {
		return resp, nil
	}
	resp.Body.Close()
	return t.send(r, body, n)
}

// send sends a copy of r with a new proof and body.
func (t *Transport) send(r *http.Request, body []byte, nonce string) (*http.Response, error) {
	proof, err := t.Key.Proof(r.Method, r.URL.String(), nonce, t.AccessToken, t.now())
	if err != nil {
		return nil, err
	}
	r2 := r.Clone(r.Context())
	r2.Header.Set(Header, proof)
	if body != nil {
		r2.Body = io.NopCloser(bytes.NewReader(body))
		r2.ContentLength = int64(len(body))
		r2.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	return t.next().RoundTrip(r2)
}

// replayable reads r's body (nil when there is none), so it can be sent twice.
func replayable(r *http.Request) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	defer r.Body.Close()
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxBody {
		return nil, errors.New("dpop: request body too large to send with a proof")
	}
	return b, nil
}

// nonceRefused reports a refusal for want of a (new) nonce: a 400 whose
// JSON error is use_dpop_nonce (token endpoint, RFC 9449 §8), or a 401 whose
// DPoP challenge says error="use_dpop_nonce" (resource server, §9). The
// body is read and put back.
func nonceRefused(resp *http.Response) bool {
	switch resp.StatusCode {
	case http.StatusUnauthorized:
		for _, v := range resp.Header.Values("WWW-Authenticate") {
			if challengeError(v) == "use_dpop_nonce" {
				return true
			}
		}
		return false
	case http.StatusBadRequest:
		ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
		if ct != "application/json" {
			return false
		}
		b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(b))
		if err != nil {
			return false
		}
		var e struct {
			Error string `json:"error"`
		}
		return json.Unmarshal(b, &e) == nil && e.Error == "use_dpop_nonce"
	}
	return false
}

// challengeError returns the error parameter of a DPoP challenge in one
// WWW-Authenticate value ("" when there is none). Other schemes' challenges
// in the same value are skipped.
func challengeError(v string) string {
	inDPoP := false
	for _, part := range splitChallenge(v) {
		part = strings.TrimSpace(part)
		name, val, isParam := strings.Cut(part, "=")
		if !isParam || strings.Contains(strings.TrimSpace(name), " ") {
			// A new challenge: "Scheme" or "Scheme param=value".
			scheme, rest, _ := strings.Cut(part, " ")
			inDPoP = strings.EqualFold(scheme, "DPoP")
			if rest == "" {
				continue
			}
			name, val, isParam = strings.Cut(rest, "=")
			if !isParam {
				continue
			}
		}
		if inDPoP && strings.EqualFold(strings.TrimSpace(name), "error") {
			return strings.Trim(strings.TrimSpace(val), `"`)
		}
	}
	return ""
}

// splitChallenge splits a WWW-Authenticate value at commas outside quotes.
func splitChallenge(v string) []string {
	var out []string
	quoted, start := false, 0
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '\\':
			i++
		case '"':
			quoted = !quoted
		case ',':
			if !quoted {
				out = append(out, v[start:i])
				start = i + 1
			}
		}
	}
	return append(out, v[start:])
}
