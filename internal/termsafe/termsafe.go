// Package termsafe is oat's one output rule for text it did not write itself
// (a server's error description, a user code, a subject, a reason phrase, a
// claim): nothing in it may drive the terminal or hide text. C0 and C1
// controls (ESC, CSI, OSC, BEL, DEL…), Unicode format characters (bidi
// embeddings, overrides and isolates, LRM/RLM, zero-width characters, BOM),
// the line and paragraph separators and bytes that are not UTF-8 are shown
// as visible escapes instead of being written raw.
//
// It imports nothing of oat's, so every package may use it; internal/output
// applies it to all JSON it writes.
package termsafe

import (
	"bytes"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// Unsafe reports whether r must not reach a terminal as is.
func Unsafe(r rune) bool {
	return unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029'
}

// Safe reports whether s can be shown as is: valid UTF-8 without unsafe runes.
func Safe(s string) bool {
	return utf8.ValidString(s) && strings.IndexFunc(s, Unsafe) < 0
}

// Escape returns s with each unsafe rune written as \uXXXX (\UXXXXXXXX above
// U+FFFF) and each byte that is not UTF-8 as \xNN. Other text, backslashes
// included, is left as it is.
func Escape(s string) string {
	if Safe(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case Unsafe(r) && r > 0xffff:
			fmt.Fprintf(&b, `\U%08x`, r)
		case Unsafe(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// Line makes s one safe line: line breaks, tabs and runs of white space
// become one space, the ends are trimmed, and the rest is Escape'd.
func Line(s string) string {
	return Escape(strings.Join(strings.Fields(s), " "))
}

// JSON takes encoded JSON and escapes, as \uXXXX (a surrogate pair above
// U+FFFF), every unsafe rune encoding/json leaves raw: C1 controls, DEL and
// format characters such as the bidi controls. A byte that is not UTF-8
// becomes \ufffd. Outside strings JSON is ASCII, and encoding/json escapes
// C0 controls inside strings, so a raw tab, CR or LF is white space between
// tokens and stays. The result is the same JSON value.
func JSON(b []byte) []byte {
	if utf8.Valid(b) && bytes.IndexFunc(b, jsonUnsafe) < 0 {
		return b
	}
	out := make([]byte, 0, len(b)+16)
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			out = append(out, `\ufffd`...)
		case jsonUnsafe(r) && r > 0xffff:
			r1, r2 := utf16.EncodeRune(r)
			out = fmt.Appendf(out, `\u%04x\u%04x`, r1, r2)
		case jsonUnsafe(r):
			out = fmt.Appendf(out, `\u%04x`, r)
		default:
			out = append(out, b[i:i+n]...)
		}
		i += n
	}
	return out
}

func jsonUnsafe(r rune) bool { return r != '\n' && r != '\r' && r != '\t' && Unsafe(r) }
