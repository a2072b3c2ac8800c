package config

import (
	"bytes"
	"strconv"
	"unicode/utf8"
)

// parseSimple decodes data into f when the file is in the plain form Save
// writes and most hand-written configs take: comment and blank lines,
// default_profile at the top, [profiles], [profiles.NAME] and
// [profiles.NAME.auth_params] headers in that order, each once, and
// one-line `key = value` pairs of known keys, each once per table, whose
// values are strings without escapes, one-line arrays of them, decimal
// integers or booleans. Anything else (escapes, inline tables, dotted or
// quoted keys, multi-line values, non-ASCII outside comments, ...) returns
// false and go-toml decodes the file; FuzzParseSimple checks that
// parseSimple never accepts what go-toml would read differently. On a
// cached `oat token` go-toml's decoder and its reflection were ~12 of the
// ~40 page faults after main starts, ~0.2 ms and ~0.28 MiB of peak RSS.
func parseSimple(data []byte, f *File) bool {
	// go-toml reads a table header at the very end of a file without a
	// newline a little differently (no empty table): leave such files to it.
	if !utf8.Valid(data) || (len(data) > 0 && data[len(data)-1] != '\n') {
		return false
	}
	const (
		top = iota
		profilesTable
		profileTable
		paramsTable
	)
	table := top
	var name string // the profile of profileTable and paramsTable
	var p *Profile
	seen := map[string]bool{} // keys of the current table
	done := map[string]bool{} // profile names whose table was opened
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		line = bytes.Trim(line, " \t")
		if len(line) == 0 || line[0] == '#' {
			if !commentOK(line) {
				return false
			}
			continue
		}
		if line[0] == '[' {
			end := bytes.IndexByte(line, ']')
			if end < 0 || !restOK(line[end+1:]) || (len(line) > 1 && line[1] == '[') {
				return false
			}
			parts := bytes.Split(line[1:end], []byte{'.'})
			for _, k := range parts {
				if !bareKey(k) {
					return false
				}
			}
			flush := func() {
				if p != nil {
					f.Profiles[name] = *p
				}
			}
			switch {
			case len(parts) == 1 && string(parts[0]) == "profiles" && table == top:
				table = profilesTable // the map is made by its first profile, as go-toml does
			case len(parts) == 2 && string(parts[0]) == "profiles" && !done[string(parts[1])]:
				flush()
				if f.Profiles == nil {
					f.Profiles = map[string]Profile{}
				}
				table, name, p = profileTable, string(parts[1]), &Profile{}
				done[name] = true
			case len(parts) == 3 && string(parts[0]) == "profiles" && table == profileTable &&
				string(parts[1]) == name && string(parts[2]) == "auth_params" && !seen["auth_params"]:
				table = paramsTable // the map is made by its first key, as go-toml does
			default:
				return false
			}
			seen = map[string]bool{}
			continue
		}
		eq := bytes.IndexByte(line, '=')
		if eq < 0 {
			return false
		}
		key := bytes.TrimRight(line[:eq], " \t")
		if !bareKey(key) || seen[string(key)] {
			return false
		}
		seen[string(key)] = true
		v, ok := parseValue(bytes.TrimLeft(line[eq+1:], " \t"))
		if !ok {
			return false
		}
		switch table {
		case top:
			s, isStr := v.(string)
			if string(key) != "default_profile" || !isStr {
				return false
			}
			f.DefaultProfile = s
		case profileTable:
			if !setField(p, string(key), v) {
				return false
			}
		case paramsTable:
			s, isStr := v.(string)
			if !isStr {
				return false
			}
			if p.AuthParams == nil {
				p.AuthParams = map[string]string{}
			}
			p.AuthParams[string(key)] = s
		default:
			return false
		}
	}
	if p != nil {
		f.Profiles[name] = *p
	}
	return true
}

// setField sets the profile field whose TOML key is key, when v is of its
// type.
func setField(p *Profile, key string, v any) bool {
	switch v := v.(type) {
	case string:
		if dst := stringField(p, key); dst != nil {
			*dst = v
			return true
		}
	case []string:
		if key == "scopes" {
			p.Scopes = v
			return true
		}
	case int:
		if key == "redirect_port" {
			p.RedirectPort = v
			return true
		}
	case bool:
		switch key {
		case "dpop":
			p.DPoP = v
			return true
		case "par":
			p.PAR = v
			return true
		}
	}
	return false
}

func stringField(p *Profile, key string) *string {
	switch key {
	case "issuer":
		return &p.Issuer
	case "authorization_url":
		return &p.AuthorizationURL
	case "token_url":
		return &p.TokenURL
	case "device_authorization_url":
		return &p.DeviceAuthorizationURL
	case "revocation_url":
		return &p.RevocationURL
	case "jwks_url":
		return &p.JWKSURL
	case "client_id":
		return &p.ClientID
	case "client_secret_env":
		return &p.ClientSecretEnv
	case "client_auth":
		return &p.ClientAuth
	case "client_assertion":
		return &p.ClientAssertion
	case "client_assertion_audience":
		return &p.ClientAssertionAudience
	case "client_key_file":
		return &p.ClientKeyFile
	case "audience":
		return &p.Audience
	case "resource":
		return &p.Resource
	case "flow":
		return &p.Flow
	case "redirect_host":
		return &p.RedirectHost
	case "redirect_path":
		return &p.RedirectPath
	case "storage":
		return &p.Storage
	case "ca_file":
		return &p.CAFile
	case "assume_ttl":
		return &p.AssumeTTL
	case "provider":
		return &p.Provider
	case "subject_token_from":
		return &p.SubjectTokenFrom
	case "subject_token_type":
		return &p.SubjectTokenType
	case "requested_token_type":
		return &p.RequestedTokenType
	}
	return nil
}

// parseValue reads a string without escapes, a one-line array of them, a
// decimal integer or a boolean, followed by nothing but a comment.
func parseValue(b []byte) (any, bool) {
	switch {
	case len(b) == 0:
		return nil, false
	case b[0] == '\'' || b[0] == '"':
		s, n, ok := simpleString(b)
		if !ok || !restOK(b[n:]) {
			return nil, false
		}
		return s, true
	case b[0] == '[':
		list := []string{}
		i := 1
		for {
			i += spaces(b[i:])
			if i < len(b) && b[i] == ']' {
				return list, restOK(b[i+1:])
			}
			s, n, ok := simpleString(b[i:])
			if !ok {
				return nil, false
			}
			list = append(list, s)
			i += n
			i += spaces(b[i:])
			if i < len(b) && b[i] == ',' {
				i++
				continue
			}
			if i < len(b) && b[i] == ']' {
				return list, restOK(b[i+1:])
			}
			return nil, false
		}
	case bytes.HasPrefix(b, []byte("true")) && restOK(b[4:]):
		return true, true
	case bytes.HasPrefix(b, []byte("false")) && restOK(b[5:]):
		return false, true
	}
	n := 0
	for n < len(b) && '0' <= b[n] && b[n] <= '9' {
		n++
	}
	if n == 0 || n > 9 || (n > 1 && b[0] == '0') || !restOK(b[n:]) {
		return nil, false
	}
	v, err := strconv.Atoi(string(b[:n]))
	return v, err == nil
}

// simpleString reads a '…' or "…" string of printable ASCII (no
// backslash in "…") and says how many bytes it took.
func simpleString(b []byte) (string, int, bool) {
	if len(b) == 0 || (b[0] != '\'' && b[0] != '"') {
		return "", 0, false
	}
	q := b[0]
	for i := 1; i < len(b); i++ {
		switch c := b[i]; {
		case c == q:
			return string(b[1:i]), i + 1, true
		case c < 0x20 || c >= 0x7f || (q == '"' && c == '\\'):
			return "", 0, false
		}
	}
	return "", 0, false
}

func spaces(b []byte) int {
	n := 0
	for n < len(b) && (b[n] == ' ' || b[n] == '\t') {
		n++
	}
	return n
}

// restOK: what follows a value or header is blanks and maybe a comment.
func restOK(b []byte) bool {
	b = b[spaces(b):]
	return len(b) == 0 || (b[0] == '#' && commentOK(b))
}

// commentOK: a comment holds no control character but tab (TOML).
func commentOK(b []byte) bool {
	for _, c := range b {
		if (c < 0x20 && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// bareKey: A-Z a-z 0-9 _ -, at least one.
func bareKey(k []byte) bool {
	if len(k) == 0 {
		return false
	}
	for _, c := range k {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
