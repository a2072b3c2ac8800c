package cli

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
)

// A DPoP proof names the request's method and URL (htm, htu), so for a
// DPoP-bound token oat must know both before curl runs: curlRequest reads
// them from curl's arguments. It takes what it can be sure of and refuses
// the rest, rather than send a proof for a request curl does not make:
// exactly one http(s) URL (positional or --url), no --next, no -K/--config
// (a config oat cannot read could name other URLs), no URL globbing without
// -g, no --request-target, no --expand-url/--variable.

// curlArgOptions are curl's options that take a value (curl 7.88's
// `curl --help all`, plus later ones): their value is never a URL to fetch.
// Built on first use, not at init: every oat command would pay for it.
var curlArgOptions = sync.OnceValue(func() map[string]bool {
	m := map[string]bool{}
	for _, o := range strings.Fields(curlArgOptionNames) {
		m[o] = true
	}
	return m
})

// curlShortArgOptions are the one-letter options that take a value.
const curlShortArgOptions = "EKCbcdDFPHhmoQreXYytzTuAwUx"

const curlArgOptionNames = `abstract-unix-socket alt-svc aws-sigv4 cacert capath cert cert-type
		ciphers config connect-timeout connect-to continue-at cookie cookie-jar create-file-mode crlfile
		curves data data-ascii data-binary data-raw data-urlencode delegation dns-interface dns-ipv4-addr
		dns-ipv6-addr dns-servers doh-url dump-header egd-file engine etag-compare etag-save
		expect100-timeout form form-string ftp-account ftp-alternative-to-user ftp-method ftp-port
		ftp-ssl-ccc-mode happy-eyeballs-timeout-ms header help hostpubmd5 hostpubsha256 hsts interface
		json keepalive-time key key-type krb libcurl limit-rate local-port login-options mail-auth
		mail-from mail-rcpt max-filesize max-redirs max-time netrc-file noproxy oauth2-bearer output
		output-dir parallel-max pass pinnedpubkey proto proto-default proto-redir proxy-cacert
		proxy-capath proxy-cert proxy-cert-type proxy-ciphers proxy-crlfile proxy-header proxy-key
		proxy-key-type proxy-pass proxy-pinnedpubkey proxy-service-name proxy-tls13-ciphers
		proxy-tlsauthtype proxy-tlspassword proxy-tlsuser proxy-user pubkey quote random-file range rate
		referer request request-target resolve retry retry-delay retry-max-time sasl-authzid
		service-name socks4 socks4a socks5 socks5-gssapi-service socks5-hostname speed-limit speed-time
		stderr telnet-option tftp-blksize time-cond tls-max tls13-ciphers tlsauthtype tlspassword
		tlsuser trace trace-ascii unix-socket upload-file url url-query user user-agent write-out
		preproxy proxy variable ech ip-tos haproxy-clientip vlan-priority upload-flags knownhosts
		sigalgs trace-config ssl-sessions proxy-ca-native-file`

// curlShortLong maps the one-letter options oat looks at to their long names.
var curlShortLong = map[byte]string{
	'X': "request", 'd': "data", 'F': "form", 'T': "upload-file", 'K': "config",
	'I': "head", 'G': "get", 'g': "globoff", ':': "next",
}

// curlRequest returns the method and the one URL of the request curl will
// make with args, or an error saying why that cannot be known.
func curlRequest(args []string) (method, rawURL string, err error) {
	var urls []string
	seen := map[string]bool{}
	opt := func(name, val string) {
		seen[name] = true
		switch name {
		case "request":
			method = val
		case "url":
			urls = append(urls, val)
		}
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case strings.HasPrefix(a, "--") && len(a) > 2:
			name := strings.TrimPrefix(a, "--")
			if curlArgOptions()[name] {
				if i+1 >= len(args) {
					return "", "", fmt.Errorf("curl option %s needs a value", a)
				}
				i++
				opt(name, args[i])
			} else {
				opt(name, "")
			}
		case strings.HasPrefix(a, "-") && len(a) > 1:
			for j := 1; j < len(a); j++ {
				c := a[j]
				name := curlShortLong[c]
				if name == "" {
					name = "-" + string(c)
				}
				if strings.IndexByte(curlShortArgOptions, c) < 0 {
					opt(name, "")
					continue
				}
				val := a[j+1:]
				if val == "" {
					if i+1 >= len(args) {
						return "", "", fmt.Errorf("curl option -%c needs a value", c)
					}
					i++
					val = args[i]
				}
				opt(name, val)
				break
			}
		default:
			urls = append(urls, a)
		}
	}
	for _, refused := range []struct{ opt, why string }{
		{"next", "--next (several requests)"},
		{"config", "-K/--config (a config oat cannot read may name other URLs or methods)"},
		{"request-target", "--request-target (the URL sent is not the one given)"},
		{"expand-url", "--expand-url (the URL sent is not the one given)"},
		{"variable", "--variable"},
	} {
		if seen[refused.opt] {
			return "", "", fmt.Errorf("with a DPoP-bound token oat curl cannot take %s: the proof names one method and URL", refused.why)
		}
	}
	if len(urls) != 1 {
		return "", "", fmt.Errorf("with a DPoP-bound token oat curl takes exactly one URL (got %d): the proof names one method and URL", len(urls))
	}
	rawURL = urls[0]
	u, perr := url.Parse(rawURL)
	if perr != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", "", errors.New("with a DPoP-bound token oat curl needs the URL with its scheme (https://…): the proof names it")
	}
	if !seen["globoff"] && strings.ContainsAny(rawURL, "{}[]") {
		return "", "", errors.New("with a DPoP-bound token oat curl cannot take a URL with curl's {…} or […] globbing (several requests); pass -g if the characters are literal")
	}
	if method == "" {
		switch {
		case seen["head"]:
			method = "HEAD"
		case seen["get"]:
			method = "GET"
		case seen["upload-file"]:
			method = "PUT"
		case seen["data"] || seen["data-ascii"] || seen["data-binary"] || seen["data-raw"] ||
			seen["data-urlencode"] || seen["json"] || seen["form"] || seen["form-string"]:
			method = "POST"
		default:
			method = "GET"
		}
	}
	return method, rawURL, nil
}
