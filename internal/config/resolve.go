package config

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
)

// Overrides are settings given as flags; empty values are "not given".
type Overrides struct {
	Profile
	RedirectPortSet bool // --redirect-port given (0 is a valid value)
}

// Resolved is the profile a command works with after applying precedence.
type Resolved struct {
	Name        string  // profile name as the user knows it
	Profile     Profile // merged settings
	Key         string  // storage key: keychain user and cache file name
	Fingerprint string  // settings that shape a token
}

// AdHoc reports a profile made from flags and environment alone, or a
// configured one pointed at another server or client: its tokens are not the
// configured profile's.
func (r *Resolved) AdHoc() bool { return r.Key != r.Name }

// Binding names the server and client a stored token was issued to: the
// issuer and token URL as the profile sets them (either may be empty) and the
// client ID. A stored token is only ever sent with settings of the same
// Binding (see docs/architecture.md, "Storage keys").
type Binding struct {
	Issuer   string `json:"issuer,omitempty"`
	TokenURL string `json:"token_url,omitempty"`
	ClientID string `json:"client_id"`
}

// Binding returns the server and client p's tokens are bound to.
func (p Profile) Binding() Binding {
	return Binding{Issuer: p.Issuer, TokenURL: p.TokenURL, ClientID: p.ClientID}
}

// Server names the server for messages: the issuer, else the token URL.
func (b Binding) Server() string {
	if b.Issuer != "" {
		return b.Issuer
	}
	return b.TokenURL
}

// BindingOf returns the Binding that a Fingerprint names; ok is false when fp
// is not a fingerprint (or one whose values hold line breaks).
func BindingOf(fp string) (b Binding, ok bool) {
	lines := strings.Split(fp, "\n")
	if len(lines) != 6 && !(len(lines) == 9 && strings.HasPrefix(lines[6], "subject_token_from=")) {
		return Binding{}, false
	}
	var ok1, ok2, ok3 bool
	b.Issuer, ok1 = strings.CutPrefix(lines[0], "issuer=")
	b.TokenURL, ok2 = strings.CutPrefix(lines[1], "token_url=")
	b.ClientID, ok3 = strings.CutPrefix(lines[2], "client_id=")
	return b, ok1 && ok2 && ok3
}

// sameServerAndClient reports whether a and b name the same token endpoint
// (or issuer) and client: the settings a refresh token is bound to.
func sameServerAndClient(a, b *Profile) bool {
	return a.Issuer == b.Issuer && a.TokenURL == b.TokenURL && a.ClientID == b.ClientID
}

// namesOtherServer reports whether the environment or flags name a server
// (OAT_ISSUER, --issuer, --token-url) other than p's.
func namesOtherServer(p *Profile, o *Overrides, getenv func(string) string) bool {
	issuer := o.Issuer
	if issuer == "" {
		issuer = getenv("OAT_ISSUER")
	}
	return (issuer != "" && issuer != p.Issuer) || (o.TokenURL != "" && o.TokenURL != p.TokenURL)
}

// serverFree keeps of p only what is not bound to its server: storage,
// ca_file and the redirect settings. Everything else (endpoints, jwks_url,
// client, secret, client_auth, scopes, audience, resource, auth_params, flow,
// and any key added later) is left out, so that nothing of p's is sent to a
// server p does not name.
func serverFree(p *Profile) {
	*p = Profile{
		Storage:      p.Storage,
		CAFile:       p.CAFile,
		RedirectHost: p.RedirectHost,
		RedirectPort: p.RedirectPort,
		RedirectPath: p.RedirectPath,
	}
}

// ProfileName picks the profile: flag, else $OAT_PROFILE, else default_profile,
// else "default". explicit reports whether the user named it.
func (f *File) ProfileName(flag string, getenv func(string) string) (name string, explicit bool) {
	switch {
	case flag != "":
		return flag, true
	case getenv("OAT_PROFILE") != "":
		return getenv("OAT_PROFILE"), true
	case f.DefaultProfile != "":
		return f.DefaultProfile, false
	default:
		return "default", false
	}
}

// CheckProfileName reports a default_profile that names no profile in the
// file, when it is the profile ProfileName picks (no -p, no $OAT_PROFILE), as
// a *Error that says how to fix it; nil otherwise.
func (f *File) CheckProfileName(flag string, getenv func(string) string) error {
	name, explicit := f.ProfileName(flag, getenv)
	if explicit || name != f.DefaultProfile || f.DefaultProfile == "" {
		return nil
	}
	if _, ok := f.Profiles[name]; ok {
		return nil
	}
	// The message names the file itself: no Path, so it is not named twice.
	return &Error{Msg: fmt.Sprintf("default_profile %q names no profile in %s: run `oat profile use NAME`%s", name, f.Path, f.known())}
}

// Resolve merges flags > OAT_* environment > file for the chosen profile.
// A profile missing from the file is used ad hoc when the merged settings name
// a server (issuer or token_url) and a client; otherwise it is an error. A
// default_profile that names no profile is an error when it is the one chosen
// (see CheckProfileName), even with flags that name a server and a client.
func (f *File) Resolve(flagProfile string, o Overrides, getenv func(string) string) (*Resolved, error) {
	if err := f.CheckProfileName(flagProfile, getenv); err != nil {
		return nil, err
	}
	name, explicit := f.ProfileName(flagProfile, getenv)
	p, inFile := f.Profiles[name]
	cloneRefs(&p)
	// A secret, a client or an endpoint is never sent to a server the
	// invocation did not name: flags or environment that name another server
	// than the profile's start from an empty profile (spec, Profiles).
	otherServer := namesOtherServer(&p, &o, getenv)
	if otherServer {
		serverFree(&p)
	}
	// Environment over the file.
	if v := getenv("OAT_ISSUER"); v != "" {
		p.Issuer = v
	}
	if v := getenv("OAT_CLIENT_ID"); v != "" {
		p.ClientID = v
	}
	if v := getenv("OAT_STORAGE"); v != "" {
		p.Storage = v
	}
	// Flags over everything.
	merge(&p, &o)
	// The provider's defaults, under everything set explicitly.
	p.ApplyProvider()
	if o.RedirectPortSet {
		p.RedirectPort = o.RedirectPort // --redirect-port 0 means any free port, even for a provider with a fixed one
	}
	if err := p.Validate(); err != nil {
		return nil, &Error{Msg: err.Error()}
	}
	if !inFile || otherServer {
		if (p.Issuer == "" && p.TokenURL == "") || p.ClientID == "" {
			if inFile {
				return nil, &Error{Msg: fmt.Sprintf("the server given (--issuer, --token-url or OAT_ISSUER) is not profile %q's, so none of its client settings apply: pass --client-id too (and --client-secret-env, --scope… as that server needs)", name)}
			}
			if explicit {
				return nil, &Error{Msg: fmt.Sprintf("unknown profile %q: add it with `oat profile add %s --issuer URL --client-id ID`, or pass --issuer (or --token-url) and --client-id%s", name, name, f.known())}
			}
			return nil, &Error{Msg: "no profile configured: add one with `oat profile add NAME --issuer URL --client-id ID`, or pass --issuer (or --token-url) and --client-id"}
		}
	}
	filed := f.Profiles[name]
	cloneRefs(&filed)
	filed.ApplyProvider()
	r := &Resolved{Name: name, Profile: p, Fingerprint: fingerprint(&p)}
	if inFile && sameServerAndClient(&p, &filed) {
		r.Key = name
	} else {
		// Flags or environment that point a configured profile at another
		// server or client make another session: its own storage key, so the
		// profile's refresh token is never sent there (nor marked dead by it).
		sum := sha256.Sum256([]byte(r.Fingerprint))
		r.Key = "adhoc-" + hex.EncodeToString(sum[:8])
	}
	return r, nil
}

func (f *File) known() string {
	if len(f.Profiles) == 0 {
		return ""
	}
	return " (profiles: " + strings.Join(f.Names(), ", ") + ")"
}

// Fingerprint names the settings that shape a token: issuer or token URL,
// client, scopes (sorted), audience and resource; for token exchange also
// where the subject token comes from and the token types.
func Fingerprint(p Profile) string { return fingerprint(&p) }

// fingerprint is Fingerprint without a copy of the profile on the stack
// (see TestCachedTokenStackDepth).
func fingerprint(p *Profile) string {
	scopes := slices.Clone(p.Scopes)
	slices.Sort(scopes)
	lines := []string{
		"issuer=" + p.Issuer,
		"token_url=" + p.TokenURL,
		"client_id=" + p.ClientID,
		"scopes=" + strings.Join(scopes, " "),
		"audience=" + p.Audience,
		"resource=" + p.Resource,
	}
	if p.Flow == FlowTokenExchange {
		lines = append(lines,
			"subject_token_from="+p.SubjectTokenFrom,
			"subject_token_type="+p.SubjectTokenType,
			"requested_token_type="+p.RequestedTokenType)
	}
	return strings.Join(lines, "\n")
}

// cloneRefs gives p its own copies of the slice and map it shares with the
// profile it was copied from.
func cloneRefs(p *Profile) {
	p.Scopes = slices.Clone(p.Scopes)
	if p.AuthParams != nil {
		m := make(map[string]string, len(p.AuthParams))
		for k, v := range p.AuthParams {
			m[k] = v
		}
		p.AuthParams = m
	}
}

// merge copies every value given in o over p.
func merge(p *Profile, o *Overrides) {
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&p.Issuer, o.Issuer)
	set(&p.AuthorizationURL, o.AuthorizationURL)
	set(&p.TokenURL, o.TokenURL)
	set(&p.DeviceAuthorizationURL, o.DeviceAuthorizationURL)
	set(&p.RevocationURL, o.RevocationURL)
	set(&p.JWKSURL, o.JWKSURL)
	set(&p.ClientID, o.ClientID)
	set(&p.ClientSecretEnv, o.ClientSecretEnv)
	set(&p.ClientAuth, o.ClientAuth)
	set(&p.Audience, o.Audience)
	set(&p.Resource, o.Resource)
	set(&p.Flow, o.Flow)
	set(&p.SubjectTokenFrom, o.SubjectTokenFrom)
	set(&p.SubjectTokenType, o.SubjectTokenType)
	set(&p.RequestedTokenType, o.RequestedTokenType)
	set(&p.RedirectHost, o.RedirectHost)
	set(&p.RedirectPath, o.RedirectPath)
	set(&p.Storage, o.Storage)
	set(&p.CAFile, o.CAFile)
	set(&p.Provider, o.Provider)
	if o.DPoP {
		p.DPoP = true
	}
	if len(o.Scopes) > 0 {
		p.Scopes = SplitScopes(o.Scopes)
	}
	if o.RedirectPortSet {
		p.RedirectPort = o.RedirectPort
	}
	for k, v := range o.AuthParams {
		if p.AuthParams == nil {
			p.AuthParams = map[string]string{}
		}
		p.AuthParams[k] = v
	}
}
