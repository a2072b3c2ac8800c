package issuer

import (
	"crypto/rand"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// login is the sign-in page for the authorization code flow:
// GET ?authRequestID=… shows it, POST (id, username, action=allow|deny)
// answers it. With AutoApprove, GET signs in the first user at once.
func (s *server) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		id := r.Form.Get("authRequestID")
		a, ok := s.st.pendingAuthRequest(id)
		if !ok {
			s.render(w, http.StatusBadRequest, page{Title: "Sign in", Error: "Unknown or finished sign-in request: start again from the application."})
			return
		}
		if s.autoApprove {
			s.finishLogin(w, r, id, s.st.cfg.Users[0])
			return
		}
		user := a.loginHint
		if !s.st.isUser(user) {
			user = s.st.cfg.Users[0]
		}
		s.render(w, http.StatusOK, page{Title: "Sign in", Login: true, ID: id, ClientID: a.clientID,
			Scopes: a.scopes, Users: s.st.cfg.Users, User: user})
	case http.MethodPost:
		id := r.PostForm.Get("id")
		a, ok := s.st.pendingAuthRequest(id)
		if !ok {
			s.render(w, http.StatusBadRequest, page{Title: "Sign in", Error: "Unknown or finished sign-in request: start again from the application."})
			return
		}
		if r.PostForm.Get("action") == "deny" {
			if a, ok := s.st.denyAuthRequest(id); ok {
				redirectTo(w, r, a.redirectURI, url.Values{"error": {"access_denied"}, "error_description": {"the user denied the request"}, "state": {a.state}})
				return
			}
			s.render(w, http.StatusBadRequest, page{Title: "Sign in", Error: "Unknown or finished sign-in request: start again from the application."})
			return
		}
		user := strings.TrimSpace(r.PostForm.Get("username"))
		if !s.st.isUser(user) {
			s.render(w, http.StatusBadRequest, page{Title: "Sign in", Login: true, ID: id, ClientID: a.clientID,
				Scopes: a.scopes, Users: s.st.cfg.Users, User: s.st.cfg.Users[0],
				Error: fmt.Sprintf("There is no user %q here; pick one of the list.", user)})
			return
		}
		s.finishLogin(w, r, id, user)
	}
}

func (s *server) finishLogin(w http.ResponseWriter, r *http.Request, id, user string) {
	a, err := s.st.completeAuthRequest(id, user)
	if err != nil {
		s.render(w, http.StatusBadRequest, page{Title: "Sign in", Error: err.Error()})
		return
	}
	redirectTo(w, r, a.redirectURI, url.Values{"code": {a.code}, "state": {a.state}})
}

// device is the verification page of the device flow: GET [?user_code=…]
// shows the form, POST (user_code, username, action=allow|deny) answers it.
// With AutoApprove, GET with a valid user_code approves it as the first user.
func (s *server) device(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	code := normalizeUserCode(r.Form.Get("user_code"))
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		if code != "" {
			if d, ok := s.st.deviceByUserCode(code); ok {
				if s.autoApprove {
					s.decideDevice(w, code, s.st.cfg.Users[0], true)
					return
				}
				s.render(w, http.StatusOK, page{Title: "Connect a device", Device: true, UserCode: code,
					ClientID: d.clientID, Scopes: d.scopes, Users: s.st.cfg.Users, User: s.st.cfg.Users[0]})
				return
			}
			s.render(w, http.StatusOK, page{Title: "Connect a device", Device: true, UserCode: code,
				Users: s.st.cfg.Users, User: s.st.cfg.Users[0], Error: "Unknown, expired or already used code."})
			return
		}
		s.render(w, http.StatusOK, page{Title: "Connect a device", Device: true, Users: s.st.cfg.Users, User: s.st.cfg.Users[0]})
	case http.MethodPost:
		user := strings.TrimSpace(r.PostForm.Get("username"))
		approve := r.PostForm.Get("action") != "deny"
		if approve && !s.st.isUser(user) {
			s.render(w, http.StatusBadRequest, page{Title: "Connect a device", Device: true, UserCode: code,
				Users: s.st.cfg.Users, User: s.st.cfg.Users[0],
				Error: fmt.Sprintf("There is no user %q here; pick one of the list.", user)})
			return
		}
		s.decideDevice(w, code, user, approve)
	}
}

func (s *server) decideDevice(w http.ResponseWriter, code, user string, approve bool) {
	if err := s.st.decideDevice(code, user, approve); err != nil {
		s.render(w, http.StatusBadRequest, page{Title: "Connect a device", Device: true, UserCode: code,
			Users: s.st.cfg.Users, User: s.st.cfg.Users[0], Error: "Unknown, expired or already used code."})
		return
	}
	msg := "Device approved: signed in as " + user + ". You can close this page and return to the device."
	if !approve {
		msg = "Device denied. You can close this page."
	}
	s.render(w, http.StatusOK, page{Title: "Connect a device", Done: msg})
}

// userCodeAlphabet: 20 consonants, no vowels (no words), no digits (no
// 0/O or 1/I mix-ups); 8 of them are about 34 bits.
const userCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ"

// newUserCode returns a user code XXXX-XXXX (RFC 8628 §6.1).
func newUserCode() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	for i := range b {
		// 256 is not a multiple of 20: the first 240 values are uniform.
		for b[i] >= 240 {
			var r [1]byte
			_, _ = rand.Read(r[:])
			b[i] = r[0]
		}
		b[i] = userCodeAlphabet[b[i]%20]
	}
	return string(b[:4]) + "-" + string(b[4:])
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

func (s *server) render(w http.ResponseWriter, status int, data page) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, data.html())
}

// html composes the page. Every value is escaped with html.EscapeString
// (names, scopes, client IDs and codes come from requests); the markup
// around them is constant.
func (d page) html() string {
	var b strings.Builder
	e := html.EscapeString
	title := e(d.Title)
	b.WriteString(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>oat issuer: ` + title + `</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}
.err{color:#b00020}code{background:#eee;padding:0 .2em}label{display:block;margin:.6rem 0}</style></head>
<body><h1>` + title + `</h1>
<p><small>oat's local test issuer: no passwords, state in memory.</small></p>
`)
	if d.Error != "" {
		b.WriteString(`<p class="err" id="error">` + e(d.Error) + "</p>\n")
	}
	if d.Done != "" {
		b.WriteString(`<p id="done">` + e(d.Done) + "</p>\n")
	}
	asks := func(what string) {
		b.WriteString("<p><code>" + e(d.ClientID) + "</code> " + what)
		if len(d.Scopes) > 0 {
			b.WriteString(" with scopes ")
			for _, s := range d.Scopes {
				b.WriteString("<code>" + e(s) + "</code> ")
			}
		}
		b.WriteString(".</p>\n")
	}
	users := func() {
		b.WriteString(`<label>User <select name="username">`)
		for _, u := range d.Users {
			if u == d.User {
				b.WriteString("<option selected>" + e(u) + "</option>")
			} else {
				b.WriteString("<option>" + e(u) + "</option>")
			}
		}
		b.WriteString("</select></label>\n")
	}
	if d.Login {
		b.WriteString(`<form method="post" action="/login">` + "\n")
		asks("asks to sign you in")
		b.WriteString(`<input type="hidden" name="id" value="` + e(d.ID) + `">` + "\n")
		users()
		b.WriteString(`<button type="submit" name="action" value="allow">Sign in</button>
<button type="submit" name="action" value="deny">Deny</button>
</form>
`)
	}
	if d.Device {
		b.WriteString(`<form method="post" action="/device">` + "\n")
		if d.ClientID != "" {
			asks("asks for access")
		}
		b.WriteString(`<label>Code shown on the device <input name="user_code" value="` + e(d.UserCode) + `" autocomplete="off" autofocus></label>` + "\n")
		users()
		b.WriteString(`<button type="submit" name="action" value="allow">Approve</button>
<button type="submit" name="action" value="deny">Deny</button>
</form>
`)
	}
	b.WriteString("</body></html>\n")
	return b.String()
}

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
