package output

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/oatcli/oat/internal/termsafe"
)

// ANSI styles used by oat. Colorize returns s unchanged when on is false.
const (
	Bold   = "1"
	Dim    = "2"
	Red    = "31"
	Green  = "32"
	Yellow = "33"
	Blue   = "34"
	Cyan   = "36"
)

// Colorize wraps s in the given SGR style when on.
func Colorize(on bool, style, s string) string {
	if !on || s == "" {
		return s
	}
	return "\x1b[" + style + "m" + s + "\x1b[0m"
}

// WriteJSON writes v as indented JSON followed by a newline, without HTML
// escaping and never coloured. Strings hold no raw control, bidi or other
// format character (termsafe.JSON): encoding/json escapes only C0 controls
// and U+2028/2029, and JSON output is read on terminals too.
func WriteJSON(w io.Writer, v any) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := w.Write(termsafe.JSON(b.Bytes()))
	return err
}

// Table collects rows and writes them with aligned columns. On a TTY the header
// is bold when colour is on; off a TTY the output is plain tab-free text that
// scripts can split on runs of spaces.
type Table struct {
	header []string
	rows   [][]string
}

// NewTable starts a table with the given column names.
func NewTable(header ...string) *Table { return &Table{header: header} }

// AddRow appends a row; missing cells are empty.
func (t *Table) AddRow(cells ...string) { t.rows = append(t.rows, cells) }

// Render writes the table.
func (t *Table) Render(w io.Writer, color bool) error {
	widths := make([]int, len(t.header))
	measure := func(cells []string) {
		for i := range widths {
			if i < len(cells) {
				if n := utf8.RuneCountInString(cells[i]); n > widths[i] {
					widths[i] = n
				}
			}
		}
	}
	measure(t.header)
	for _, r := range t.rows {
		measure(r)
	}
	line := func(cells []string, style string) string {
		var b strings.Builder
		for i := range widths {
			c := ""
			if i < len(cells) {
				c = cells[i]
			}
			if i == len(widths)-1 {
				b.WriteString(Colorize(color && style != "", style, c))
				break
			}
			pad := widths[i] - utf8.RuneCountInString(c) + 2
			b.WriteString(Colorize(color && style != "", style, c))
			b.WriteString(strings.Repeat(" ", pad))
		}
		return strings.TrimRight(b.String(), " ") + "\n"
	}
	if _, err := io.WriteString(w, line(t.header, Bold)); err != nil {
		return err
	}
	for _, r := range t.rows {
		if _, err := io.WriteString(w, line(r, "")); err != nil {
			return err
		}
	}
	return nil
}

// Formats names the -o values a command accepts, for error messages.
func Formats(names ...string) string { return strings.Join(names, "|") }

// CheckFormat returns an error when f is not one of allowed.
func CheckFormat(f string, allowed ...string) error {
	for _, a := range allowed {
		if f == a {
			return nil
		}
	}
	return fmt.Errorf("unknown output format %q (want %s)", f, Formats(allowed...))
}
