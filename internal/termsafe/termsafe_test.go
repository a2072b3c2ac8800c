package termsafe

import (
	"encoding/json"
	"testing"
)

func TestEscape(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain text, ünïcode and a \\ backslash", "plain text, ünïcode and a \\ backslash"},
		{"", ""},
		{"\x1b[31mred\x1b[0m", `\u001b[31mred\u001b[0m`},
		{"osc 8: \x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\", `osc 8: \u001b]8;;https://evil.example/\u001b\click\u001b]8;;\u001b\`},
		{"bell\a del\x7f", `bell\u0007 del\u007f`},
		{"c1 csi \u009b2J nel \u0085", `c1 csi \u009b2J nel \u0085`},
		{"raw 8-bit csi \x9b2J", `raw 8-bit csi \x9b2J`},
		{"bidi \u202eevil\u202c \u2066x\u2069 \u200e\u200f \u200b \ufeff", `bidi \u202eevil\u202c \u2066x\u2069 \u200e\u200f \u200b \ufeff`},
		{"line\nbreak\r\ttab \u2028", `line\u000abreak\u000d\u0009tab \u2028`},
		{"tag \U000E0041", `tag \U000e0041`},
	} {
		if got := Escape(tc.in); got != tc.want {
			t.Errorf("Escape(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestLine(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"  two\r\nlines\tand  spaces ", "two lines and spaces"},
		{"esc \x1b]0;title\a", `esc \u001b]0;title\u0007`},
		{"nel\u0085sep\u2028", "nel sep"},
	} {
		if got := Line(tc.in); got != tc.want {
			t.Errorf("Line(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestJSON(t *testing.T) {
	v := map[string]string{"s": "a\x1b[2J \u009b \u202e\u2066 \U000E0041 \x7f ok ü", "t": "\n"}
	enc, _ := json.MarshalIndent(v, "", "  ")
	got := JSON(append(enc, '\n'))
	want := "{\n  \"s\": \"a\\u001b[2J \\u009b \\u202e\\u2066 \\udb40\\udc41 \\u007f ok ü\",\n  \"t\": \"\\n\"\n}\n"
	if string(got) != want {
		t.Errorf("JSON = %q\nwant   %q", got, want)
	}
	var back map[string]string
	if err := json.Unmarshal(got, &back); err != nil || back["s"] != v["s"] || back["t"] != "\n" {
		t.Errorf("escaped JSON does not decode to the same value: %v %q", err, back)
	}
	if got := JSON([]byte("\"\xff\"")); string(got) != `"\ufffd"` {
		t.Errorf("invalid UTF-8: %q", got)
	}
}
