// Command op is bench/run's helper: it runs oat's own OpenID Provider
// (internal/issuer) on 127.0.0.1 and does the scripted steps around it.
//
//	op serve [RTT]      start the provider (logins approved automatically);
//	                    print its issuer URL and token endpoint, one per line,
//	                    then serve until stdin closes (at most 10 minutes).
//	                    With RTT (e.g. 20ms), clients reach it through a
//	                    proxy that delays each request by RTT: a network
//	                    round trip, to show what each request costs
//	op browse URL       the "browser" for oat login (OAT_BROWSER): follow
//	                    the redirects from the authorization URL to oat's
//	                    loopback callback
//	op expire KEY       mark the cached access token of KEY expired
//	                    ($XDG_CACHE_HOME/oat), so the next oat token renews
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"time"

	"github.com/oatcli/oat/internal/issuer"
	"github.com/oatcli/oat/internal/tokencache"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "op:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: op serve | op browse URL | op expire KEY")
	}
	switch {
	case args[0] == "serve" && len(args) <= 2:
		var rtt time.Duration
		if len(args) == 2 {
			var err error
			if rtt, err = time.ParseDuration(args[1]); err != nil {
				return err
			}
		}
		return serve(rtt)
	case args[0] == "browse" && len(args) == 2:
		return browse(args[1])
	case args[0] == "expire" && len(args) == 2:
		return expire(args[1])
	}
	return fmt.Errorf("bad arguments: %q", args)
}

func serve(rtt time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cfg := issuer.Config{Addr: "127.0.0.1:0", AutoApprove: true}
	if rtt > 0 {
		// The issuer advertises the proxy's URL; the proxy forwards to it.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		cfg.IssuerURL = "http://" + ln.Addr().String()
		// The issuer's own port: a free one, picked here since it is not
		// the advertised one.
		free, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		cfg.Addr = free.Addr().String()
		free.Close()
		backend := &url.URL{Scheme: "http", Host: cfg.Addr}
		proxy := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(backend)
			r.Out.Host = r.In.Host
		}}
		srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			time.Sleep(rtt)
			proxy.ServeHTTP(w, r)
		})}
		defer srv.Close()
		iss, err := issuer.Start(ctx, cfg)
		if err != nil {
			return err
		}
		defer iss.Close()
		go func() { _ = srv.Serve(ln) }()
		return announce(ctx, cancel, iss.URL)
	}
	iss, err := issuer.Start(ctx, cfg)
	if err != nil {
		return err
	}
	defer iss.Close()
	return announce(ctx, cancel, iss.URL)
}

func announce(ctx context.Context, cancel context.CancelFunc, issuerURL string) error {
	tokenURL, err := discover(ctx, issuerURL)
	if err != nil {
		return err
	}
	fmt.Println(issuerURL)
	fmt.Println(tokenURL)
	// Serve until stdin closes (bench/run exits) or the time limit.
	go func() {
		_, _ = io.Copy(io.Discard, bufio.NewReader(os.Stdin))
		cancel()
	}()
	<-ctx.Done()
	return nil
}

func discover(ctx context.Context, issuerURL string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, issuerURL+"/.well-known/openid-configuration", nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var d struct {
		TokenEndpoint string `json:"token_endpoint"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&d); err != nil {
		return "", err
	}
	if d.TokenEndpoint == "" {
		return "", fmt.Errorf("discovery has no token_endpoint")
	}
	return d.TokenEndpoint, nil
}

func browse(u string) error {
	hc := &http.Client{Timeout: 10 * time.Second}
	resp, err := hc.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s ended with %s", resp.Request.URL.Host+resp.Request.URL.Path, resp.Status)
	}
	return nil
}

func expire(key string) error {
	dir, err := tokencache.Dir(os.Getenv)
	if err != nil {
		return err
	}
	c := tokencache.New(dir)
	e, err := c.Load(key)
	if err != nil {
		return err
	}
	e.Expiry = time.Now().Add(-time.Minute)
	return c.Save(key, e)
}
