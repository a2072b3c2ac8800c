package cli

import (
	"bufio"
	"encoding/json"
	"io"
	"strings"

	"github.com/oatcli/oat/internal/jwt"
	"github.com/oatcli/oat/internal/output"
)

// prettyDepth is how deep decode indents a token's JSON: a container nested
// deeper is written compact, on one line. The output then grows linearly
// with the token (at most about 2*prettyDepth bytes of indent per value), not
// with the square of its nesting, and a hostile 1 MiB token stays a few MiB
// of output.
const prettyDepth = 16

// indentSpaces holds the deepest indent a printer writes.
var indentSpaces = strings.Repeat("  ", prettyDepth+2)

// jsonPrinter streams a decoded header or payload (values as jwt.Object
// holds them) as two-space indented JSON, in token order, down to
// prettyDepth and compact below it, with the terminal-safe escaping of
// jsonString. It writes through a buffer and never holds the whole output;
// write errors stick and Flush returns them.
type jsonPrinter struct {
	*bufio.Writer
	color bool
	base  int // indent levels before depth 0
}

func newJSONPrinter(w io.Writer, color bool, base int) *jsonPrinter {
	return &jsonPrinter{Writer: bufio.NewWriterSize(w, 32<<10), color: color, base: base}
}

// styled writes s in an SGR style, as output.Colorize does, without
// building the string.
func (p *jsonPrinter) styled(style, s string) {
	if !p.color || s == "" {
		p.WriteString(s)
		return
	}
	p.WriteString("\x1b[" + style + "m")
	p.WriteString(s)
	p.WriteString("\x1b[0m")
}

// newline starts a line indented for a member of a container at depth.
func (p *jsonPrinter) newline(depth int) {
	p.WriteByte('\n')
	p.WriteString(indentSpaces[:2*(p.base+depth)])
}

// string writes s quoted. Plain printable ASCII, the usual claim, is written
// as is; anything else goes through jsonString, the one escaping rule.
func (p *jsonPrinter) string(s string) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			p.WriteString(jsonString(s))
			return
		}
	}
	p.WriteByte('"')
	p.WriteString(s)
	p.WriteByte('"')
}

// value writes v, a value at depth (0 for the header or payload object).
// annotate (depth 0 only) returns a comment for a member's line.
func (p *jsonPrinter) value(v any, depth int, annotate func(string, any) string) {
	compact := depth >= prettyDepth
	switch v := v.(type) {
	case *jwt.Object:
		if v == nil {
			p.styled(output.Dim, "null")
			return
		}
		if len(v.Members) == 0 {
			p.WriteString("{}")
			return
		}
		p.WriteByte('{')
		for i, m := range v.Members {
			if !compact {
				p.newline(depth + 1)
			}
			if p.color {
				p.WriteString("\x1b[" + output.Blue + "m")
			}
			p.string(m.Key)
			if p.color {
				p.WriteString("\x1b[0m")
			}
			if compact {
				p.WriteByte(':')
			} else {
				p.WriteString(": ")
			}
			p.value(m.Value, depth+1, nil)
			if i < len(v.Members)-1 {
				p.WriteByte(',')
			}
			if annotate != nil {
				if note := annotate(m.Key, m.Value); note != "" {
					p.WriteString("  ")
					p.styled(output.Dim, "// "+note)
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
			p.value(e, depth+1, nil)
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
			p.WriteString("\x1b[" + output.Green + "m")
			p.string(v)
			p.WriteString("\x1b[0m")
		} else {
			p.string(v)
		}
	case json.Number:
		p.styled(output.Yellow, string(v))
	case bool:
		if v {
			p.styled(output.Yellow, "true")
		} else {
			p.styled(output.Yellow, "false")
		}
	case nil:
		p.styled(output.Dim, "null")
	}
}
