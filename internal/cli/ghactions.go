package cli

import (
	"io"
	"strings"
)

// maskTokens tells the GitHub Actions runner to mask each non-empty token in
// the job log, when oat runs in a GitHub Actions step (GITHUB_ACTIONS=true).
//
// The `::add-mask::VALUE` line goes to stderr, never stdout, so that
// `TOKEN=$(oat token)` captures the token alone. The runner reads workflow
// commands from both streams of a step: actions/runner
// src/Runner.Worker/Handlers/ScriptHandler.cs hooks one OutputManager to the
// step's OutputDataReceived and another to its ErrorDataReceived, and
// OutputManager.OnDataReceived hands every line to the command manager
// (ActionCommand.TryParseV2: the line, leading spaces trimmed, starts with
// "::"). The value is escaped as the runner's UnescapeData expects (% → %25,
// CR → %0D, LF → %0A), so that the mask is exactly the token. Call it before
// the token is written anywhere.
func (f *Factory) maskTokens(tokens ...string) {
	if f.Getenv("GITHUB_ACTIONS") != "true" {
		return
	}
	writeMasks(f.IO.ErrOut, tokens...)
}

func writeMasks(w io.Writer, tokens ...string) {
	var b strings.Builder
	for _, t := range tokens {
		if t == "" {
			continue
		}
		b.WriteString("::add-mask::")
		b.WriteString(escapeCommandData(t))
		b.WriteByte('\n')
	}
	_, _ = io.WriteString(w, b.String())
}

// escapeCommandData is @actions/core's escapeData, the inverse of the
// runner's ActionCommand.UnescapeData.
func escapeCommandData(s string) string {
	s = strings.ReplaceAll(s, "%", "%25")
	s = strings.ReplaceAll(s, "\r", "%0D")
	return strings.ReplaceAll(s, "\n", "%0A")
}
