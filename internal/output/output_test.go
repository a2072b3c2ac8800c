package output

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestColorOnlyOnTTYAndNeverWithNoColor(t *testing.T) {
	var buf bytes.Buffer
	s := New(nil, &buf, &buf, env(nil))
	if s.IsStdoutTTY() || s.ColorEnabled() {
		t.Error("a buffer is not a TTY; colour must be off")
	}
	s.SetTTY(false, true, true)
	if !s.ColorEnabled() || !s.ColorEnabledErr() {
		t.Error("TTY without NO_COLOR: colour should be on")
	}
	for _, e := range []map[string]string{{"NO_COLOR": "1"}, {"CLICOLOR": "0"}, {"TERM": "dumb"}} {
		s := New(nil, &buf, &buf, env(e))
		s.SetTTY(true, true, true)
		if s.ColorEnabled() || s.ColorEnabledErr() {
			t.Errorf("%v: colour should be off", e)
		}
	}
	s = New(nil, &buf, &buf, env(nil))
	s.SetTTY(true, true, true)
	s.DisableColor()
	if s.ColorEnabled() {
		t.Error("--no-color: colour should be off")
	}
}

func TestFileTTYDetection(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "x")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := New(f, f, f, env(nil))
	if s.IsStdinTTY() || s.IsStdoutTTY() {
		t.Error("a regular file is not a TTY")
	}
	if tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0); err == nil {
		defer tty.Close()
		if !New(tty, tty, tty, env(nil)).IsStdoutTTY() {
			t.Error("/dev/tty should be a TTY")
		}
	}
}

func TestWriteJSONNoEscapingNoColour(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteJSON(&buf, map[string]string{"u": "https://x/?a=1&b=<2>"}); err != nil {
		t.Fatal(err)
	}
	if got := buf.String(); got != "{\n  \"u\": \"https://x/?a=1&b=<2>\"\n}\n" {
		t.Errorf("got %q", got)
	}
}

func TestTable(t *testing.T) {
	tb := NewTable("NAME", "ISSUER")
	tb.AddRow("work", "https://login.example.com")
	tb.AddRow("ci-längre", "https://a")
	var plain, color bytes.Buffer
	_ = tb.Render(&plain, false)
	want := "NAME       ISSUER\nwork       https://login.example.com\nci-längre  https://a\n"
	if plain.String() != want {
		t.Errorf("plain:\n%q\nwant\n%q", plain.String(), want)
	}
	_ = tb.Render(&color, true)
	if !strings.Contains(color.String(), "\x1b[1mNAME\x1b[0m") || strings.Contains(strings.SplitN(color.String(), "\n", 2)[1], "\x1b") {
		t.Errorf("colour: header bold, rows plain; got %q", color.String())
	}
}

func TestCheckFormat(t *testing.T) {
	if err := CheckFormat("json", "raw", "json"); err != nil {
		t.Error(err)
	}
	if err := CheckFormat("yaml", "raw", "json"); err == nil || err.Error() != `unknown output format "yaml" (want raw|json)` {
		t.Errorf("got %v", err)
	}
}
