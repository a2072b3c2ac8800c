// Package httpx builds the HTTP client every oat request uses (CA file, proxies
// from the environment, bounded timeouts, User-Agent, redacting verbose log)
// and classifies transport failures as temporary.
package httpx

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"syscall"
	"time"

	"github.com/oatcli/oat/internal/urlpolicy"
)

// MaxBody is the most oat reads of any server response.
const MaxBody = 1 << 20

// DefaultTimeout bounds one HTTP exchange when the caller sets none.
const DefaultTimeout = 30 * time.Second

// TemporaryError is a failure that may go away by itself: the network is
// unreachable, the request timed out, or the server answered 5xx or 429.
// Retrying later may help (exit code 4).
type TemporaryError struct {
	Op         string        // what was being done, e.g. "refresh token"
	StatusCode int           // HTTP status, 0 for transport failures
	RetryAfter time.Duration // from a Retry-After header, if any
	Err        error
}

func (e *TemporaryError) Error() string {
	switch {
	case e.StatusCode != 0 && e.Err != nil:
		return fmt.Sprintf("%s: server answered %d: %v", e.Op, e.StatusCode, e.Err)
	case e.StatusCode != 0:
		return fmt.Sprintf("%s: server answered %d %s", e.Op, e.StatusCode, http.StatusText(e.StatusCode))
	default:
		return fmt.Sprintf("%s: %v", e.Op, e.Err)
	}
}

func (e *TemporaryError) Unwrap() error { return e.Err }

// Options configure NewClient.
type Options struct {
	CAFile    string        // extra PEM roots, added to the system pool
	Timeout   time.Duration // per exchange; DefaultTimeout when 0
	UserAgent string
	Verbose   io.Writer         // when set, each exchange is logged here, secrets redacted
	Base      http.RoundTripper // replaces the default transport (tests); CAFile is then ignored
}

// NewClient returns an *http.Client honouring HTTPS_PROXY/NO_PROXY.
func NewClient(o Options) (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if o.CAFile != "" {
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, fmt.Errorf("reading ca_file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ca_file %s holds no PEM certificate", o.CAFile)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	var rt http.RoundTripper = tr
	if o.Base != nil {
		rt = o.Base
	}
	if o.UserAgent != "" {
		rt = userAgent{ua: o.UserAgent, next: rt}
	}
	if o.Verbose != nil {
		rt = &LogTransport{Out: o.Verbose, Next: rt}
	}
	timeout := o.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	return &http.Client{Transport: rt, Timeout: timeout, CheckRedirect: checkRedirect}, nil
}

// MaxRedirects is how many redirects of one GET oat follows.
const MaxRedirects = 5

// RedirectError is a redirect oat refused to follow. It names hosts and
// URLs only, never a request body.
type RedirectError struct{ msg string }

func (e *RedirectError) Error() string { return e.msg }

// checkRedirect is the client's CheckRedirect. A request that is not a GET
// or HEAD (a token, device or revocation request, whose body holds a code,
// verifier, refresh token or secret) is never redirected: Go would re-send
// the body on 307/308. A GET (discovery, JWKS) follows at most MaxRedirects
// redirects, each to a URL that passes urlpolicy.Check (https, or http on a
// loopback host), so a redirect cannot downgrade to plain http.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) == 0 {
		return nil
	}
	first, last := via[0], via[len(via)-1]
	if first.Method != http.MethodGet && first.Method != http.MethodHead {
		return &RedirectError{msg: fmt.Sprintf("%s answered with a redirect; oat does not follow redirects of token requests: check the endpoint URL", last.URL.Host)}
	}
	if len(via) > MaxRedirects {
		return &RedirectError{msg: fmt.Sprintf("%s: stopped after more than %d redirects", first.URL.Host, MaxRedirects)}
	}
	if err := urlpolicy.Check("the redirect target", req.URL.String()); err != nil {
		return &RedirectError{msg: fmt.Sprintf("%s redirected: %v", last.URL.Host, err)}
	}
	return nil
}

type userAgent struct {
	ua   string
	next http.RoundTripper
}

func (u userAgent) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("User-Agent", u.ua)
	return u.next.RoundTrip(r)
}

// IsTemporaryTransport reports whether err (from http.Client.Do) is a failure
// that may go away by itself: a timeout, a refused or reset connection, a
// temporary DNS failure, or another failure to dial, read or write. A TLS
// problem (see AsTLSError), a DNS name that does not exist, a refused
// redirect or a malformed URL is not: retrying will not help.
func IsTemporaryTransport(err error) bool {
	if err == nil {
		return false
	}
	var re *RedirectError
	if errors.As(err, &re) || AsTLSError(err) != nil {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return dns.IsTemporary || dns.IsTimeout
	}
	if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, syscall.EPIPE) {
		return true
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		switch oe.Op {
		case "dial", "read", "write":
			return true
		}
	}
	// The server closed the connection before it answered in full.
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// TLSError is a TLS failure that retrying will not fix: a certificate that
// is not trusted or does not fit, or a server that does not speak TLS on the
// port. Its message says what to do.
type TLSError struct {
	Host string // host:port of the URL, where known
	msg  string
	Err  error // the failure as Go reported it
}

func (e *TLSError) Error() string { return e.msg }
func (e *TLSError) Unwrap() error { return e.Err }

// AsTLSError returns err as a *TLSError when it is a TLS failure (an x509
// error, *tls.CertificateVerificationError, tls.RecordHeaderError,
// http.ErrSchemeMismatch), else nil.
func AsTLSError(err error) *TLSError {
	if err == nil {
		return nil
	}
	var te *TLSError
	if errors.As(err, &te) {
		return te
	}
	var msg string
	var (
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
		roots    x509.SystemRootsError
		verify   *tls.CertificateVerificationError
		record   tls.RecordHeaderError
	)
	switch {
	case errors.As(err, &unknown), errors.As(err, &roots):
		msg = "TLS certificate not trusted: pass --ca-file (or set ca_file) with the issuing CA"
	case errors.As(err, &hostname):
		msg = fmt.Sprintf("TLS certificate not valid for this host (%v): check the URL's host name", hostname)
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		msg = fmt.Sprintf("TLS certificate not valid now (%v): check the system clock", invalid)
	case errors.As(err, &invalid):
		msg = fmt.Sprintf("TLS certificate not valid (%v)", invalid)
	case errors.As(err, &verify):
		msg = fmt.Sprintf("TLS certificate not trusted (%v): pass --ca-file (or set ca_file) with the issuing CA", verify.Err)
	case errors.As(err, &record), errors.Is(err, http.ErrSchemeMismatch):
		msg = "the server does not speak TLS on that port: check the URL's scheme"
	default:
		return nil
	}
	te = &TLSError{msg: msg, Err: err}
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil {
			te.Host = u.Host
		}
	}
	return te
}

// TemporaryStatus reports whether an HTTP status means "try again later".
func TemporaryStatus(code int) bool {
	return code >= 500 || code == http.StatusTooManyRequests || code == http.StatusRequestTimeout
}

// StatusError returns a *TemporaryError for an answer whose status means
// "try again later" (see TemporaryStatus), with the wait its Retry-After
// header asks for (h may be nil); nil for any other status. It is the one
// place a response status becomes a temporary error (exit 4).
func StatusError(op string, status int, h http.Header) *TemporaryError {
	if !TemporaryStatus(status) {
		return nil
	}
	return &TemporaryError{Op: op, StatusCode: status, RetryAfter: RetryAfter(h, time.Now())}
}

// RetryAfter parses a Retry-After header (seconds or HTTP date); 0 if absent.
func RetryAfter(h http.Header, now time.Time) time.Duration {
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// ReadBody reads at most MaxBody bytes; a larger body is an error.
func ReadBody(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxBody+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxBody {
		return nil, fmt.Errorf("response larger than %d bytes", MaxBody)
	}
	return b, nil
}
