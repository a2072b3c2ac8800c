package cli

import (
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"
)

// tokenFormats are the -o values of `oat token` and `oat refresh`.
var tokenFormats = []string{"raw", "json", "header", "env", "exec-credential"}

// Shells -o env can write for.
const (
	shellBash       = "bash"
	shellZsh        = "zsh"
	shellFish       = "fish"
	shellPowerShell = "powershell"
)

// defaultEnvVar is the variable -o env and oat exec set.
const defaultEnvVar = "OAT_ACCESS_TOKEN"

func addTokenFormatFlags(cmd *cobra.Command, opts *TokenOptions) {
	fl := cmd.Flags()
	fl.StringVar(&opts.Shell, "shell", "", "-o env: bash|zsh|fish|powershell (default: from $SHELL, else bash)")
	fl.StringVar(&opts.EnvVar, "env-var", defaultEnvVar, "-o env: the variable to set (its expiry goes in NAME_EXPIRES_AT)")
	_ = cmd.RegisterFlagCompletionFunc("shell", cobra.FixedCompletions(
		[]string{shellBash, shellZsh, shellFish, shellPowerShell}, cobra.ShellCompDirectiveNoFileComp))
}

// checkTokenFormatFlags checks the flags of the env and exec-credential
// formats, and reads $KUBERNETES_EXEC_INFO, before any token is fetched.
func checkTokenFormatFlags(cmd *cobra.Command, o *TokenOptions) error {
	if o.Output != "env" {
		for _, name := range []string{"shell", "env-var"} {
			if cmd.Flags().Changed(name) {
				return usageErrorf("--%s goes with -o env", name)
			}
		}
	}
	switch o.Output {
	case "env":
		if err := checkEnvVarName(o.EnvVar); err != nil {
			return err
		}
		if o.Shell == "" {
			o.Shell = defaultShell(o.F.Getenv("SHELL"))
		}
		switch o.Shell {
		case shellBash, shellZsh, shellFish, shellPowerShell:
		default:
			return usageErrorf("--shell %q: want bash, zsh, fish or powershell", o.Shell)
		}
	case "exec-credential":
		info, err := parseExecInfo(o.F.Getenv("KUBERNETES_EXEC_INFO"))
		if err != nil {
			return err
		}
		o.k8sInfo = info
	}
	return nil
}

// checkEnvVarName accepts a shell identifier: a letter or _, then letters,
// digits or _.
func checkEnvVarName(name string) error {
	ok := name != ""
	for i := 0; i < len(name) && ok; i++ {
		c := name[i]
		ok = c == '_' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || (i > 0 && '0' <= c && c <= '9')
	}
	if !ok {
		return usageErrorf("--env-var %q: want a shell variable name (letters, digits and _, not starting with a digit)", name)
	}
	return nil
}

// defaultShell picks the -o env dialect from $SHELL's basename; bash (whose
// output every POSIX shell reads) when it names none oat knows, except on
// Windows without $SHELL, where PowerShell is the shell.
func defaultShell(shell string) string {
	if shell == "" && runtime.GOOS == "windows" {
		return shellPowerShell
	}
	base := strings.TrimSuffix(strings.ToLower(filepath.Base(strings.ReplaceAll(shell, `\`, "/"))), ".exe")
	switch base {
	case shellZsh, shellFish:
		return base
	case "pwsh", shellPowerShell:
		return shellPowerShell
	}
	return shellBash
}

// writeTokenEnv writes shell statements that set the token variable and
// NAME_EXPIRES_AT (RFC 3339), or unset the latter when the token has no
// expiry, so that a stale value from an earlier eval does not linger. Every
// byte of the token is quoted for the shell: a token from a hostile server
// cannot run anything when the output is evaluated.
func writeTokenEnv(o *TokenOptions, tok string, exp time.Time) error {
	s, err := envStatements(o.Shell, o.EnvVar, tok, exp)
	if err != nil {
		return err
	}
	_, err = o.F.IO.Out.Write([]byte(s))
	return err
}

func envStatements(shell, name, tok string, exp time.Time) (string, error) {
	if strings.IndexByte(tok, 0) >= 0 {
		return "", fmt.Errorf("the token holds a NUL byte, which no environment variable can: it cannot be written as -o env")
	}
	expName := name + "_EXPIRES_AT"
	expValue := ""
	if !exp.IsZero() {
		expValue = exp.UTC().Format(time.RFC3339)
	}
	switch shell {
	case shellFish:
		s := "set -gx " + name + " " + fishQuote(tok) + "; "
		if expValue != "" {
			s += "set -gx " + expName + " " + fishQuote(expValue)
		} else {
			s += "set -e " + expName
		}
		return s + "\n", nil
	case shellPowerShell:
		q, err := powershellQuote(tok)
		if err != nil {
			return "", err
		}
		s := "$env:" + name + " = " + q + "\n"
		if expValue != "" {
			s += "$env:" + expName + " = '" + expValue + "'\n"
		} else {
			s += "Remove-Item Env:" + expName + " -ErrorAction SilentlyContinue\n"
		}
		return s, nil
	default: // bash, zsh and every POSIX shell
		s := "export " + name + "=" + posixQuote(tok) + "\n"
		if expValue != "" {
			s += "export " + expName + "=" + posixQuote(expValue) + "\n"
		} else {
			s += "unset " + expName + "\n"
		}
		return s, nil
	}
}

// posixQuote single-quotes s for any POSIX shell: inside single quotes every
// byte but ' stands for itself (newlines included), and each ' ends the quotes, adds
// an escaped \' and opens them again.
func posixQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// fishQuote quotes s for fish on one line: printable text in single quotes
// (where only \ and ' need a backslash), control characters and bytes that
// are not UTF-8 as \xHH escapes outside the quotes.
func fishQuote(s string) string {
	var b strings.Builder
	open := false
	quote := func(on bool) {
		if on != open {
			b.WriteByte('\'')
			open = on
		}
	}
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1, r < 0x20, r == 0x7f:
			quote(false)
			fmt.Fprintf(&b, `\x%02x`, s[i])
			n = 1
		case r == '\\' || r == '\'':
			quote(true)
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			quote(true)
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	quote(false)
	if b.Len() == 0 {
		return "''"
	}
	return b.String()
}

// powershellQuote writes s as a PowerShell expression on one line: text in
// single quotes, where only quote characters are special (' and the
// typographic ‘ ’ ‚ ‛ all close a single-quoted string; each is doubled), and
// control characters as [char] values joined with +.
func powershellQuote(s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", fmt.Errorf("the token is not valid UTF-8, which PowerShell strings cannot hold: it cannot be written as -o env --shell powershell")
	}
	var parts []string
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 0 {
			parts = append(parts, "'"+cur.String()+"'")
			cur.Reset()
		}
	}
	for _, r := range s {
		switch {
		case r < 0x20 || r == 0x7f:
			flush()
			parts = append(parts, fmt.Sprintf("[char]0x%02X", r))
		case r == '\'' || r == '\u2018' || r == '\u2019' || r == '\u201A' || r == '\u201B':
			cur.WriteRune(r)
			cur.WriteRune(r)
		default:
			cur.WriteRune(r)
		}
	}
	flush()
	if len(parts) == 0 {
		return "''", nil
	}
	if len(parts) == 1 && strings.HasPrefix(parts[0], "'") {
		return parts[0], nil
	}
	// A leading [char] would make + add numbers: start from a string.
	return "(''+" + strings.Join(parts, "+") + ")", nil
}
