package httpx

import (
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/oatcli/oat/internal/termsafe"
)

// LogTransport logs one line per exchange (method, URL without query, status,
// duration). It never logs headers or bodies, so no token, code, verifier or
// secret can reach the log.
type LogTransport struct {
	Out  io.Writer
	Next http.RoundTripper
}

func (l *LogTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	start := time.Now()
	u := *r.URL
	if u.RawQuery != "" {
		u.RawQuery = "…"
	}
	u.User = nil
	resp, err := l.Next.RoundTrip(r)
	d := time.Since(start).Round(time.Millisecond)
	if err != nil {
		fmt.Fprintf(l.Out, "* %s %s: %s (%s)\n", r.Method, termsafe.Line(u.String()), termsafe.Line(err.Error()), d)
		return nil, err
	}
	// The reason phrase is the server's text: shown escaped (termsafe).
	fmt.Fprintf(l.Out, "* %s %s -> %s (%s)\n", r.Method, termsafe.Line(u.String()), termsafe.Line(resp.Status), d)
	return resp, nil
}
