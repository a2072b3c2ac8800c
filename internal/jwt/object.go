package jwt

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Object is a JSON object that keeps its members in the order they appear in
// the token, duplicates included. Values are nil, bool, string, json.Number
// (the number's text exactly as written), []any or *Object.
type Object struct {
	Members []Member
}

// Member is one name/value pair of an Object.
type Member struct {
	Key   string
	Value any
}

// Get returns the value of the last member named key (as encoding/json and
// most JWT libraries do with duplicate names).
func (o *Object) Get(key string) (any, bool) {
	if o == nil {
		return nil, false
	}
	for i := len(o.Members) - 1; i >= 0; i-- {
		if o.Members[i].Key == key {
			return o.Members[i].Value, true
		}
	}
	return nil, false
}

// Len is the number of members (0 for a nil Object).
func (o *Object) Len() int {
	if o == nil {
		return 0
	}
	return len(o.Members)
}

// At returns the i-th member's key and value.
func (o *Object) At(i int) (string, any) { return o.Members[i].Key, o.Members[i].Value }

// String returns the member named key when it is a JSON string.
func (o *Object) String(key string) (string, bool) {
	v, ok := o.Get(key)
	if !ok {
		return "", false
	}
	s, ok := v.(string)
	return s, ok
}

// MarshalJSON writes the object compactly with its members in order, numbers
// exactly as they were written, and no HTML escaping.
func (o *Object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	if err := writeValue(&b, o); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func writeValue(b *bytes.Buffer, v any) error {
	switch v := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		if v {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case json.Number:
		b.WriteString(string(v))
	case string:
		writeString(b, v)
	case []any:
		b.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeValue(b, e); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case *Object:
		if v == nil {
			b.WriteString("null")
			return nil
		}
		b.WriteByte('{')
		for i, m := range v.Members {
			if i > 0 {
				b.WriteByte(',')
			}
			writeString(b, m.Key)
			b.WriteByte(':')
			if err := writeValue(b, m.Value); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	default:
		return fmt.Errorf("jwt: cannot write %T as JSON", v)
	}
	return nil
}

func writeString(b *bytes.Buffer, s string) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	b.Truncate(b.Len() - 1)
}

// maxDepth bounds nesting in a header or payload. encoding/json's own limit
// (10000) is checked first; this keeps the ordered walk bounded too.
const maxDepth = 10000

// parseObject decodes data, which must be exactly one JSON object, keeping
// member order and exact numbers. The error says what is wrong and where.
// It allocates little beyond the values it returns (no per-token garbage, as
// json.Decoder.Token makes), so a 1 MiB token decodes in bounded memory.
func parseObject(data []byte) (*Object, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return nil, errors.New("empty")
	}
	// Validate first: encoding/json gives precise, bounded syntax errors.
	if !json.Valid(data) {
		err := json.Unmarshal(data, new(json.RawMessage))
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("invalid JSON at byte %d: %s", se.Offset, se.Error())
		}
		if err == nil {
			err = errors.New("not valid")
		}
		return nil, fmt.Errorf("invalid JSON: %s", err.Error())
	}
	if data[0] != '{' {
		return nil, errors.New("not a JSON object")
	}
	p := &parser{
		data: data,
		text: string(data),
		// Values and members of the open containers collect here and are
		// copied out, sized exactly, when their container closes: no
		// append growth per array. Every value takes at least two bytes
		// with its separator, every member five, so these never grow.
		vals:    make([]any, 0, len(data)/2+1),
		members: make([]Member, 0, len(data)/5+1),
	}
	v, err := p.value(0)
	if err == nil {
		if p.space(); p.pos != len(data) {
			err = p.unexpected()
		}
	}
	if err != nil {
		return nil, fmt.Errorf("invalid JSON: %s", err.Error())
	}
	obj, ok := v.(*Object)
	if !ok {
		return nil, errors.New("not a JSON object")
	}
	return obj, nil
}

// parser reads JSON that json.Valid has accepted; it still checks every
// byte it relies on, so it returns an error rather than panic whatever the
// input.
type parser struct {
	data    []byte
	text    string // data as a string: keys, strings and numbers are slices of it
	pos     int
	vals    []any
	members []Member
}

func (p *parser) space() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

// peek skips white space and returns the next byte, 0 at the end.
func (p *parser) peek() byte {
	p.space()
	if p.pos >= len(p.data) {
		return 0
	}
	return p.data[p.pos]
}

func (p *parser) unexpected() error {
	if p.pos >= len(p.data) {
		return io.ErrUnexpectedEOF
	}
	return fmt.Errorf("unexpected %q at byte %d", p.data[p.pos], p.pos)
}

// expect consumes c (after white space).
func (p *parser) expect(c byte) error {
	if p.peek() != c {
		return p.unexpected()
	}
	p.pos++
	return nil
}

func (p *parser) value(depth int) (any, error) {
	if depth > maxDepth {
		return nil, errors.New("nested too deeply")
	}
	switch c := p.peek(); {
	case c == '{':
		p.pos++
		obj := &Object{Members: []Member{}}
		if p.peek() == '}' {
			p.pos++
			return obj, nil
		}
		base := len(p.members)
		defer func() { p.members = p.members[:base] }()
		for {
			key, err := p.string()
			if err != nil {
				return nil, err
			}
			if err := p.expect(':'); err != nil {
				return nil, err
			}
			val, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			p.members = append(p.members, Member{Key: key, Value: val})
			switch p.peek() {
			case ',':
				p.pos++
			case '}':
				p.pos++
				obj.Members = append(make([]Member, 0, len(p.members)-base), p.members[base:]...)
				clear(p.members[base:])
				return obj, nil
			default:
				return nil, p.unexpected()
			}
		}
	case c == '[':
		p.pos++
		if p.peek() == ']' {
			p.pos++
			return []any{}, nil
		}
		base := len(p.vals)
		defer func() { p.vals = p.vals[:base] }()
		for {
			val, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			p.vals = append(p.vals, val)
			switch p.peek() {
			case ',':
				p.pos++
			case ']':
				p.pos++
				arr := append(make([]any, 0, len(p.vals)-base), p.vals[base:]...)
				clear(p.vals[base:])
				return arr, nil
			default:
				return nil, p.unexpected()
			}
		}
	case c == '"':
		return p.string()
	case c == '-' || c >= '0' && c <= '9':
		start := p.pos
		for p.pos < len(p.data) && strings.IndexByte("+-.0123456789eE", p.data[p.pos]) >= 0 {
			p.pos++
		}
		return json.Number(p.text[start:p.pos]), nil
	}
	for _, lit := range []struct {
		text string
		v    any
	}{{"true", true}, {"false", false}, {"null", nil}} {
		if bytes.HasPrefix(p.data[p.pos:], []byte(lit.text)) {
			p.pos += len(lit.text)
			return lit.v, nil
		}
	}
	return nil, p.unexpected()
}

// string reads a JSON string. Plain text (no escapes, valid UTF-8) is copied
// as is; anything else goes through encoding/json, so escapes, surrogates and
// invalid UTF-8 come out exactly as encoding/json makes them.
func (p *parser) string() (string, error) {
	if p.peek() != '"' {
		return "", p.unexpected()
	}
	start, plain := p.pos, true
	for p.pos++; p.pos < len(p.data); p.pos++ {
		switch c := p.data[p.pos]; {
		case c == '\\':
			plain = false
			p.pos++
		case c == '"':
			p.pos++
			raw := p.data[start:p.pos]
			if plain && utf8.Valid(raw) {
				return p.text[start+1 : p.pos-1], nil
			}
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return "", err
			}
			return s, nil
		case c < 0x20:
			return "", p.unexpected()
		}
	}
	return "", io.ErrUnexpectedEOF
}
