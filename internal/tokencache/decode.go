package tokencache

import (
	"encoding/json"
	"unicode/utf16"
	"unicode/utf8"
)

// decodeEntry decodes a cache file into e. A file as Save writes it
// (json.Marshal of an Entry: compact, known keys, simple strings) is read
// by readCompact, without encoding/json: on a cached `oat token` the JSON
// decoder and its reflection over Entry were ~9 of the ~40 page faults after
// main starts and ~0.2 ms. Anything else — whitespace, an unknown or
// differently cased key, null, a number, a non-ASCII byte, a surrogate
// escape — goes to json.Unmarshal, which stays the definition:
// FuzzDecodeEntry checks that readCompact never accepts what json.Unmarshal
// would read differently.
func decodeEntry(b []byte, e *Entry) error {
	if readCompact(b, e) {
		return nil
	}
	*e = Entry{}
	return json.Unmarshal(b, e)
}

// readCompact reads b when it is a compact JSON object of Entry's keys;
// false means "not that simple", and e may then hold part of b.
func readCompact(b []byte, e *Entry) bool {
	if len(b) < 2 || b[0] != '{' || b[len(b)-1] != '}' {
		return false
	}
	i := 1
	if b[i] == '}' {
		return i == len(b)-1
	}
	for {
		key, next, ok := readString(b, i)
		if !ok || next >= len(b) || b[next] != ':' {
			return false
		}
		i = next + 1
		if i >= len(b) {
			return false
		}
		switch string(key) {
		case "needs_login":
			switch {
			case hasPrefixAt(b, i, "true"):
				e.NeedsLogin, i = true, i+4
			case hasPrefixAt(b, i, "false"):
				e.NeedsLogin, i = false, i+5
			default:
				return false
			}
		case "expiry", "updated_at":
			// As encoding/json does for a json.Unmarshaler: the raw value,
			// quotes included.
			start := i
			if _, next, ok = readString(b, i); !ok {
				return false
			}
			t := &e.Expiry
			if string(key) == "updated_at" {
				t = &e.UpdatedAt
			}
			if t.UnmarshalJSON(b[start:next]) != nil {
				return false
			}
			i = next
		default:
			dst := stringField(e, string(key))
			if dst == nil {
				return false
			}
			v, next, ok := readString(b, i)
			if !ok {
				return false
			}
			*dst, i = string(v), next
		}
		if i >= len(b) {
			return false
		}
		switch b[i] {
		case ',':
			i++
		case '}':
			return i == len(b)-1
		default:
			return false
		}
	}
}

func stringField(e *Entry, key string) *string {
	switch key {
	case "access_token":
		return &e.AccessToken
	case "token_type":
		return &e.TokenType
	case "id_token":
		return &e.IDToken
	case "scope":
		return &e.Scope
	case "subject":
		return &e.Subject
	case "fingerprint":
		return &e.Fingerprint
	case "storage":
		return &e.Storage
	case "dpop_jkt":
		return &e.DPoPJKT
	}
	return nil
}

func hasPrefixAt(b []byte, i int, s string) bool {
	return len(b)-i >= len(s) && string(b[i:i+len(s)]) == s
}

// readString reads the JSON string at b[i] of printable ASCII and the
// escapes json.Marshal writes (\" \\ \/ \b \f \n \r \t and \u of a
// non-surrogate); it returns its value and the index after its closing
// quote.
func readString(b []byte, i int) (val []byte, next int, ok bool) {
	if i >= len(b) || b[i] != '"' {
		return nil, 0, false
	}
	i++
	start := i
	for i < len(b) && b[i] != '"' && b[i] != '\\' {
		if b[i] < 0x20 || b[i] >= utf8.RuneSelf {
			return nil, 0, false
		}
		i++
	}
	if i < len(b) && b[i] == '"' {
		return b[start:i], i + 1, true // no escapes: the bytes themselves
	}
	val = append([]byte(nil), b[start:i]...)
	for i < len(b) {
		switch c := b[i]; {
		case c == '"':
			return val, i + 1, true
		case c < 0x20 || c >= utf8.RuneSelf:
			return nil, 0, false
		case c != '\\':
			val = append(val, c)
			i++
			continue
		}
		if i+1 >= len(b) {
			return nil, 0, false
		}
		switch b[i+1] {
		case '"', '\\', '/':
			val = append(val, b[i+1])
		case 'b':
			val = append(val, '\b')
		case 'f':
			val = append(val, '\f')
		case 'n':
			val = append(val, '\n')
		case 'r':
			val = append(val, '\r')
		case 't':
			val = append(val, '\t')
		case 'u':
			r, ok := hex4(b, i+2)
			if !ok || utf16.IsSurrogate(r) {
				return nil, 0, false
			}
			val = utf8.AppendRune(val, r)
			i += 6
			continue
		default:
			return nil, 0, false
		}
		i += 2
	}
	return nil, 0, false
}

func hex4(b []byte, i int) (rune, bool) {
	if len(b)-i < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}
