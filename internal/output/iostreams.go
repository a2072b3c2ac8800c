// Package output is the one place that knows about terminals: which streams are
// TTYs, whether colour is allowed, and how results are written as JSON or
// tables. Results go to Out; everything else (progress, prompts, errors) to ErrOut.
package output

import (
	"io"
	"os"
)

// IOStreams are the three standard streams plus what oat knows about them.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	inTTY, outTTY, errTTY bool
	noColor               bool
}

// New wraps the given streams, detecting TTYs for *os.File values and reading
// NO_COLOR and CLICOLOR=0 through getenv.
func New(in io.Reader, out, errOut io.Writer, getenv func(string) string) *IOStreams {
	s := &IOStreams{In: in, Out: out, ErrOut: errOut}
	s.inTTY = isTerminal(in)
	s.outTTY = isTerminal(out)
	s.errTTY = isTerminal(errOut)
	if getenv != nil && (getenv("NO_COLOR") != "" || getenv("CLICOLOR") == "0" || getenv("TERM") == "dumb") {
		s.noColor = true
	}
	return s
}

func (s *IOStreams) IsStdinTTY() bool  { return s.inTTY }
func (s *IOStreams) IsStdoutTTY() bool { return s.outTTY }
func (s *IOStreams) IsStderrTTY() bool { return s.errTTY }

// SetTTY overrides TTY detection (tests, and callers that know better).
func (s *IOStreams) SetTTY(in, out, errOut bool) { s.inTTY, s.outTTY, s.errTTY = in, out, errOut }

// DisableColor turns colour off everywhere (--no-color).
func (s *IOStreams) DisableColor() { s.noColor = true }

// ColorEnabled reports whether coloured text may be written to Out.
func (s *IOStreams) ColorEnabled() bool { return s.outTTY && !s.noColor }

// ColorEnabledErr reports whether coloured text may be written to ErrOut.
func (s *IOStreams) ColorEnabledErr() bool { return s.errTTY && !s.noColor }

func isTerminal(v any) bool {
	f, ok := v.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	if err != nil {
		return false
	}
	return fi.Mode()&os.ModeCharDevice != 0
}
