package output

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"strings"

	"github.com/oatcli/oat/internal/termsafe"
)

// PrettyDepth is how deep decode indents a token's JSON: a container nested
// deeper is written compact, on one line. The output then grows linearly
// with the token (at most about 2*PrettyDepth bytes of indent per value), not
// with the square of its nesting, and a hostile 1 MiB token stays a few MiB
// of output.
const PrettyDepth = 16

// indentSpaces holds the deepest indent a printer writes.
var indentSpaces = strings.Repeat("  ", PrettyDepth+2)

// Object is a JSON object whose members keep their order and duplicates (a
// token's header or payload, as jwt.Object holds it). The printer reads it
// through these two methods, so output needs no token types.
type Object interface {
	Len() int
	At(i int) (key string, value any)
}

// JSONPrinter streams JSON values — nil, bool, string, json.Number, []any
// and Object — as two-space indented JSON, members in their order, down to
// PrettyDepth and compact below it, with the terminal-safe escaping of
// JSONString. It writes through a buffer and never holds the whole output;
// write errors stick and Flush returns them. Colour only when asked.
type JSONPrinter struct {
	*bufio.Writer
	color bool
	base  int // indent levels before depth 0
}

// NewJSONPrinter writes to w; base is the indent (in levels) of depth 0.
func NewJSONPrinter(w io.Writer, color bool, base int) *JSONPrinter {
	return &JSONPrinter{Writer: bufio.NewWriterSize(w, 32<<10), color: color, base: base}
}

// styled writes s in an SGR style, as Colorize does, without
// building the string.
func (p *JSONPrinter) styled(style, s string) {
	if !p.color || s == "" {
		p.WriteString(s)
		return
	}
	p.WriteString("\x1b[" + style + "m")
	p.WriteString(s)
	p.WriteString("\x1b[0m")
}

// newline starts a line indented for a member of a container at depth.
func (p *JSONPrinter) newline(depth int) {
	p.WriteByte('\n')
	p.WriteString(indentSpaces[:2*(p.base+depth)])
}

// String writes s quoted. Plain printable ASCII, the usual claim, is written
// as is; anything else goes through JSONString, the one escaping rule.
func (p *JSONPrinter) String(s string) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			p.WriteString(JSONString(s))
			return
		}
	}
	p.WriteByte('"')
	p.WriteString(s)
	p.WriteByte('"')
}

// Value writes v, a value at depth (0 for a top-level object). annotate
// (depth 0 only) returns a comment for a member's line.
func (p *JSONPrinter) Value(v any, depth int, annotate func(string, any) string) {
	compact := depth >= PrettyDepth
	switch v := v.(type) {
	case Object:
		n := v.Len()
		if n == 0 {
			p.WriteString("{}")
			return
		}
		p.WriteByte('{')
		for i := range n {
			key, val := v.At(i)
			if !compact {
				p.newline(depth + 1)
			}
			if p.color {
				p.WriteString("\x1b[" + Blue + "m")
			}
			p.String(key)
			if p.color {
				p.WriteString("\x1b[0m")
			}
			if compact {
				p.WriteByte(':')
			} else {
				p.WriteString(": ")
			}
			p.Value(val, depth+1, nil)
			if i < n-1 {
				p.WriteByte(',')
			}
			if annotate != nil {
				if note := annotate(key, val); note != "" {
					p.WriteString("  ")
					p.styled(Dim, "// "+note)
				}
			}
		}
		if !compact {
			p.newline(depth)
		}
		p.WriteByte('}')
	case []any:
		if len(v) == 0 {
			p.WriteString("[]")
			return
		}
		p.WriteByte('[')
		for i, e := range v {
			if !compact {
				p.newline(depth + 1)
			}
			p.Value(e, depth+1, nil)
			if i < len(v)-1 {
				p.WriteByte(',')
			}
		}
		if !compact {
			p.newline(depth)
		}
		p.WriteByte(']')
	case string:
		if p.color {
			p.WriteString("\x1b[" + Green + "m")
			p.String(v)
			p.WriteString("\x1b[0m")
		} else {
			p.String(v)
		}
	case json.Number:
		p.styled(Yellow, string(v))
	case bool:
		if v {
			p.styled(Yellow, "true")
		} else {
			p.styled(Yellow, "false")
		}
	case nil:
		p.styled(Dim, "null")
	}
}

// JSONString quotes s as JSON for the terminal: no HTML escaping, and every
// control or format character (C0, C1, bidi overrides) escaped as \uXXXX, so
// a hostile claim cannot drive the terminal or hide text.
func JSONString(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return string(termsafe.JSON(bytes.TrimSuffix(b.Bytes(), []byte("\n"))))
}
