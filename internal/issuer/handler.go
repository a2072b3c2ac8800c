package issuer

import (
	"context"
	"crypto/rand"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// Paths of the pages this package adds to the provider's endpoints.
const (
	loginPath  = "/login"
	devicePath = "/device"
)

// newHandler builds the provider and puts the login and device pages next to
// its endpoints.
func newHandler(issuerURL string, st *storage, c Config) (http.Handler, error) {
	var cryptoKey [32]byte
	if _, err := rand.Read(cryptoKey[:]); err != nil {
		return nil, err
	}
	provider, err := op.NewProvider(&op.Config{
		CryptoKey:             cryptoKey,
		CodeMethodS256:        true,
		AuthMethodPost:        true,
		GrantTypeRefreshToken: true,
		SupportedScopes:       []string{oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeEmail, oidc.ScopeOfflineAccess},
		DeviceAuthorization: op.DeviceAuthorizationConfig{
			Lifetime:     10 * time.Minute,
			PollInterval: c.DeviceInterval,
			UserFormPath: devicePath,
			UserCode:     op.UserCodeBase20,
		},
	}, st, op.StaticIssuer(issuerURL), op.WithAllowInsecure())
	if err != nil {
		return nil, fmt.Errorf("issuer: %w", err)
	}
	p := &pages{st: st, provider: provider, callback: op.AuthCallbackURL(provider), autoApprove: c.AutoApprove}
	intercept := op.NewIssuerInterceptor(provider.IssuerFromRequest)

	mux := http.NewServeMux()
	mux.Handle(loginPath, intercept.HandlerFunc(p.login))
	mux.Handle(devicePath, intercept.HandlerFunc(p.device))
	mux.Handle("/", provider)
	var h http.Handler = mux
	if c.Log != nil {
		h = logRequests(c.Log, h)
	}
	return h, nil
}

type pages struct {
	st          *storage
	provider    *op.Provider
	callback    func(ctx context.Context, id string) string
	autoApprove bool
}

// login is the sign-in page for the authorization code flow:
// GET ?authRequestID=… shows it, POST (id, username, action=allow|deny)
// answers it. With AutoApprove, GET signs in the first user at once.
func (p *pages) login(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		id := r.Form.Get("authRequestID")
		a, ok := p.st.pendingAuthRequest(id)
		if !ok {
			p.render(w, http.StatusBadRequest, page{Title: "Sign in", Error: "Unknown or finished sign-in request: start again from the application."})
			return
		}
		if p.autoApprove {
			p.finishLogin(w, r, id, p.st.cfg.Users[0])
			return
		}
		user := a.loginHint
		if !p.st.isUser(user) {
			user = p.st.cfg.Users[0]
		}
		p.render(w, http.StatusOK, page{Title: "Sign in", Login: true, ID: id, ClientID: a.clientID,
			Scopes: a.scopes, Users: p.st.cfg.Users, User: user})
	case http.MethodPost:
		id := r.PostForm.Get("id")
		a, ok := p.st.pendingAuthRequest(id)
		if !ok {
			p.render(w, http.StatusBadRequest, page{Title: "Sign in", Error: "Unknown or finished sign-in request: start again from the application."})
			return
		}
		if r.PostForm.Get("action") == "deny" {
			_ = p.st.DeleteAuthRequest(r.Context(), id)
			op.AuthRequestError(w, r, &a, oidc.ErrAccessDenied().WithDescription("the user denied the request"), p.provider)
			return
		}
		user := strings.TrimSpace(r.PostForm.Get("username"))
		if !p.st.isUser(user) {
			p.render(w, http.StatusBadRequest, page{Title: "Sign in", Login: true, ID: id, ClientID: a.clientID,
				Scopes: a.scopes, Users: p.st.cfg.Users, User: p.st.cfg.Users[0],
				Error: fmt.Sprintf("There is no user %q here; pick one of the list.", user)})
			return
		}
		p.finishLogin(w, r, id, user)
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

func (p *pages) finishLogin(w http.ResponseWriter, r *http.Request, id, user string) {
	if err := p.st.completeAuthRequest(id, user); err != nil {
		p.render(w, http.StatusBadRequest, page{Title: "Sign in", Error: err.Error()})
		return
	}
	http.Redirect(w, r, p.callback(r.Context(), id), http.StatusFound)
}

// device is the verification page of the device flow: GET [?user_code=…]
// shows the form, POST (user_code, username, action=allow|deny) answers it.
// With AutoApprove, GET with a valid user_code approves it as the first user.
func (p *pages) device(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	code := normalizeUserCode(r.Form.Get("user_code"))
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		if code != "" {
			if d, ok := p.st.deviceByUserCode(code); ok {
				if p.autoApprove {
					p.decideDevice(w, code, p.st.cfg.Users[0], true)
					return
				}
				p.render(w, http.StatusOK, page{Title: "Connect a device", Device: true, UserCode: code,
					ClientID: d.ClientID, Scopes: d.Scopes, Users: p.st.cfg.Users, User: p.st.cfg.Users[0]})
				return
			}
			p.render(w, http.StatusOK, page{Title: "Connect a device", Device: true, UserCode: code,
				Users: p.st.cfg.Users, User: p.st.cfg.Users[0], Error: "Unknown, expired or already used code."})
			return
		}
		p.render(w, http.StatusOK, page{Title: "Connect a device", Device: true, Users: p.st.cfg.Users, User: p.st.cfg.Users[0]})
	case http.MethodPost:
		user := strings.TrimSpace(r.PostForm.Get("username"))
		approve := r.PostForm.Get("action") != "deny"
		if approve && !p.st.isUser(user) {
			p.render(w, http.StatusBadRequest, page{Title: "Connect a device", Device: true, UserCode: code,
				Users: p.st.cfg.Users, User: p.st.cfg.Users[0],
				Error: fmt.Sprintf("There is no user %q here; pick one of the list.", user)})
			return
		}
		p.decideDevice(w, code, user, approve)
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

func (p *pages) decideDevice(w http.ResponseWriter, code, user string, approve bool) {
	if err := p.st.decideDevice(code, user, approve); err != nil {
		p.render(w, http.StatusBadRequest, page{Title: "Connect a device", Device: true, UserCode: code,
			Users: p.st.cfg.Users, User: p.st.cfg.Users[0], Error: "Unknown, expired or already used code."})
		return
	}
	msg := "Device approved: signed in as " + user + ". You can close this page and return to the device."
	if !approve {
		msg = "Device denied. You can close this page."
	}
	p.render(w, http.StatusOK, page{Title: "Connect a device", Done: msg})
}

// normalizeUserCode accepts a user code typed in any case, with or without
// the dash or spaces (codes are 8 letters shown as XXXX-XXXX).
func normalizeUserCode(s string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		if r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	c := b.String()
	if len(c) == 8 {
		return c[:4] + "-" + c[4:]
	}
	return c
}

type page struct {
	Title    string
	Error    string
	Done     string
	Login    bool
	Device   bool
	ID       string
	ClientID string
	Scopes   []string
	Users    []string
	User     string
	UserCode string
}

func (p *pages) render(w http.ResponseWriter, status int, data page) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Frame-Options", "DENY")
	w.WriteHeader(status)
	_ = pageTemplate().Execute(w, data)
}

// pageTemplate is parsed on first use, not at package init: oat links this
// package into every command.
var pageTemplate = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("page").Parse(pageHTML))
})

const pageHTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>oat issuer: {{.Title}}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}
.err{color:#b00020}code{background:#eee;padding:0 .2em}label{display:block;margin:.6rem 0}</style></head>
<body><h1>{{.Title}}</h1>
<p><small>oat's local test issuer: no passwords, state in memory.</small></p>
{{if .Error}}<p class="err" id="error">{{.Error}}</p>{{end}}
{{if .Done}}<p id="done">{{.Done}}</p>{{end}}
{{if .Login}}<form method="post" action="/login">
<p><code>{{.ClientID}}</code> asks to sign you in{{if .Scopes}} with scopes {{range .Scopes}}<code>{{.}}</code> {{end}}{{end}}.</p>
<input type="hidden" name="id" value="{{.ID}}">
<label>User <select name="username">{{$u := .User}}{{range .Users}}<option{{if eq . $u}} selected{{end}}>{{.}}</option>{{end}}</select></label>
<button type="submit" name="action" value="allow">Sign in</button>
<button type="submit" name="action" value="deny">Deny</button>
</form>{{end}}
{{if .Device}}<form method="post" action="/device">
{{if .ClientID}}<p><code>{{.ClientID}}</code> asks for access{{if .Scopes}} with scopes {{range .Scopes}}<code>{{.}}</code> {{end}}{{end}}.</p>{{end}}
<label>Code shown on the device <input name="user_code" value="{{.UserCode}}" autocomplete="off" autofocus></label>
<label>User <select name="username">{{$u := .User}}{{range .Users}}<option{{if eq . $u}} selected{{end}}>{{.}}</option>{{end}}</select></label>
<button type="submit" name="action" value="allow">Approve</button>
<button type="submit" name="action" value="deny">Deny</button>
</form>{{end}}
</body></html>
`

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// logRequests writes one line per request: no query, no body, no headers,
// so no code, token or secret.
func logRequests(out interface{ Write([]byte) (int, error) }, next http.Handler) http.Handler {
	var mu sync.Mutex
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(out, "%s %s %s %d %s\n", start.Format("15:04:05"), r.Method, r.URL.Path, rec.status, time.Since(start).Round(time.Millisecond))
	})
}
