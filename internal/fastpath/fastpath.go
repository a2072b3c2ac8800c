// Package fastpath answers a cached `oat token` (no flag but --profile)
// before Go initialises the rest of oat: net/http, crypto/tls and some
// eighty other packages cost a cached `oat token` more than everything else
// it does.
//
// It does not resolve the profile: that is config.Resolve's, which needs
// packages that must not initialise first. It repeats a resolution the full
// path made. After serving such an `oat token` (raw output), cli calls
// Remember with the command line and the profile it resolved; the memo, a
// file in the cache folder named after the command line, holds the storage
// key, the fingerprint and the dpop setting under a digest of everything the
// resolution depended on: the command line, the config file's bytes and
// path, every OAT_* variable, HOME and XDG_*, and the executable itself (its
// path, size and modification time). Answer prints the token only when the
// digest matches and the cached entry is usable (tokencache.Entry.Usable,
// the full path's own test) and printable (tokentext, the full path's own
// check). Anything else — a command line no full run remembered, a changed
// file or variable, a missing or expiring token, GitHub Actions (which
// wants the token masked) — goes the full way, which then remembers its new
// resolution.
//
// Package early calls Answer from its init. Go initialises packages in
// import-path order among those whose imports are initialised, so what this
// package imports decides how early it can run; TestEarlyRunsBeforeNetHTTP
// (cmd/oat) keeps net/http and crypto/tls after it.
package fastpath

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/oatcli/oat/internal/fsutil"
	"github.com/oatcli/oat/internal/tokencache"
	"github.com/oatcli/oat/internal/tokentext"
)

// MinTTL is `oat token`'s default --min-ttl: a token expiring sooner is
// renewed first.
const MinTTL = time.Minute

// memoName is the memo's file in the cache folder for the command line
// args: one per command line, so that `oat token -p a` and `oat token -p b`
// in turn do not rewrite one memo.
func memoName(args []string) string {
	h := sha256.New()
	for _, a := range args {
		h.Write([]byte(strconv.Itoa(len(a)) + ":" + a))
	}
	return "fast-token-" + hex.EncodeToString(h.Sum(nil)[:8])
}

const memoHeader = "oat fast-token 1"

// Memo is a resolution the full path made: the profile's storage key,
// fingerprint and dpop setting, and the config file it read.
type Memo struct {
	Config      string // the config file's path
	Key         string
	Fingerprint string
	DPoP        bool
}

// inputs is what a resolution depended on besides the config file's bytes.
type inputs struct {
	args    []string // the command line after the program's name
	environ []string
	exe     func() (string, error) // the executable's identity
}

// Digested reports the variables a resolution may read: OAT_*, HOME (and
// USERPROFILE, where Windows finds the home folder without it) and the XDG
// folders (TestResolutionReadsOnlyDigestedVariables in cli checks that a
// cached `oat token` reads no other), and GITHUB_ACTIONS.
func Digested(name string) bool {
	switch name = envName(name); name {
	case "HOME", "USERPROFILE", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME", "GITHUB_ACTIONS":
		return true
	}
	return strings.HasPrefix(name, "OAT_")
}

// digest names a resolution's inputs: the executable, the command line,
// the relevant variables (sorted), the config file's path and its bytes
// (nil: no file).
func (in inputs) digest(configPath string, config []byte) (string, error) {
	exe, err := in.exe()
	if err != nil {
		return "", err
	}
	var env []string
	for _, kv := range in.environ {
		if name, _, ok := strings.Cut(kv, "="); ok && Digested(name) {
			env = append(env, kv)
		}
	}
	slices.Sort(env)
	h := sha256.New()
	parts := append([]string{memoHeader, exe, strconv.Itoa(len(in.args))}, in.args...)
	parts = append(append(parts, configPath, strconv.FormatBool(config != nil)), env...)
	for _, part := range parts {
		h.Write([]byte(strconv.Itoa(len(part))))
		h.Write([]byte{':'})
		h.Write([]byte(part))
	}
	h.Write(config)
	return hex.EncodeToString(h.Sum(nil)), nil
}

// executable is the running program's identity: its path, size and
// modification time, so that a new build or version is a new digest.
func executable() (string, error) {
	p, err := os.Executable()
	if err != nil {
		return "", err
	}
	fi, err := os.Stat(p)
	if err != nil {
		return "", err
	}
	return p + "\x00" + strconv.FormatInt(fi.Size(), 10) + "\x00" + strconv.FormatInt(fi.ModTime().UnixNano(), 10), nil
}

// envName is a variable's name as the OS compares names: Windows ignores
// their case (os.Getenv("oat_profile") finds OAT_PROFILE), so the digest and
// getenvOf do too there.
func envName(name string) string {
	if runtime.GOOS == "windows" {
		return strings.ToUpper(name)
	}
	return name
}

// getenvOf is os.Getenv over environ: the first mention of a name wins
// (os.Environ has no second one: the syscall package drops it).
func getenvOf(environ []string) func(string) string {
	return func(name string) string {
		for _, kv := range environ {
			if k, val, ok := strings.Cut(kv, "="); ok && envName(k) == envName(name) {
				return val
			}
		}
		return ""
	}
}

// Remember records m as the resolution of the command line args (after the
// program's name: an `oat token` with no flag but --profile) in environ,
// with config the bytes of m.Config the resolution read (nil: none). It
// writes only when the memo changes. A failure only costs the next run its
// shortcut, so callers may ignore it.
func Remember(args, environ []string, config []byte, m Memo) error {
	return remember(inputs{args: args, environ: environ, exe: executable}, config, m)
}

func remember(in inputs, config []byte, m Memo) error {
	if strings.ContainsAny(m.Config+m.Key, "\r\n") || m.Config == "" || m.Key == "" {
		return errors.New("fastpath: not remembered: a line break or nothing in the config path or key")
	}
	if getenvOf(in.environ)("GITHUB_ACTIONS") == "true" {
		return nil // Answer never answers there (the token is masked first): nothing to remember
	}
	d, err := in.digest(m.Config, config)
	if err != nil {
		return err
	}
	dir, err := tokencache.Dir(getenvOf(in.environ))
	if err != nil {
		return err
	}
	text := memoText(d, m)
	p := filepath.Join(dir, memoName(in.args))
	if old, err := fsutil.ReadFile(p, fsutil.MaxFileSize); err == nil && string(old) == text {
		return nil
	}
	return fsutil.WriteCacheFile(p, []byte(text))
}

func memoText(digest string, m Memo) string {
	dpop := "0"
	if m.DPoP {
		dpop = "1"
	}
	return memoHeader + "\ndigest " + digest + "\nconfig " + m.Config + "\nkey " + m.Key +
		"\nfingerprint " + hex.EncodeToString([]byte(m.Fingerprint)) + "\ndpop " + dpop + "\n"
}

// parseMemo reads memoText's format; ok is false for anything else.
func parseMemo(b []byte) (digest string, m Memo, ok bool) {
	lines := strings.Split(string(b), "\n")
	if len(lines) != 7 || lines[0] != memoHeader || lines[6] != "" {
		return "", Memo{}, false
	}
	field := func(i int, name string) string {
		v, found := strings.CutPrefix(lines[i], name+" ")
		if !found {
			ok = false
		}
		return v
	}
	ok = true
	digest = field(1, "digest")
	m.Config = field(2, "config")
	m.Key = field(3, "key")
	fp, err := hex.DecodeString(field(4, "fingerprint"))
	m.Fingerprint = string(fp)
	switch field(5, "dpop") {
	case "0":
	case "1":
		m.DPoP = true
	default:
		ok = false
	}
	return digest, m, ok && err == nil && digest != "" && m.Config != "" && m.Key != ""
}

// Answer prints the cached access token for the command line args (after
// the program's name) when a full run remembered the resolution of that
// command line with the same inputs and its token is usable at now. It
// reports whether it answered; err is a failure to write the token, which
// the full path would have reported as well (then exit 1).
func Answer(args, environ []string, stdout io.Writer, now time.Time) (answered bool, err error) {
	return answer(inputs{args: args, environ: environ, exe: executable}, stdout, now)
}

// profileOnly reports whether args may be an `oat token` with no flag but
// -p/--profile, the only command lines cli remembers (`oat token -o
// exec-credential`, run by kubectl on every call, pays no failed look-up).
// It may let through a line cobra would read otherwise: the memo, named by
// the literal line, still decides.
func profileOnly(args []string) bool {
	if len(args) == 0 || len(args) > 3 || !slices.Contains(args, "token") {
		return false
	}
	for _, a := range args {
		if strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "-p") && a != "--profile" && !strings.HasPrefix(a, "--profile=") {
			return false
		}
	}
	return true
}

func answer(in inputs, stdout io.Writer, now time.Time) (bool, error) {
	if !profileOnly(in.args) {
		return false, nil // not even a look: cli remembers no other command line
	}
	getenv := getenvOf(in.environ)
	if getenv("GITHUB_ACTIONS") == "true" {
		return false, nil // the full path masks the token first
	}
	dir, err := tokencache.Dir(getenv)
	if err != nil {
		return false, nil
	}
	b, err := fsutil.ReadFile(filepath.Join(dir, memoName(in.args)), fsutil.MaxFileSize)
	if err != nil {
		return false, nil
	}
	want, m, ok := parseMemo(b)
	if !ok {
		return false, nil
	}
	// The config file as config.Load reads it: a missing file is no file,
	// anything else wrong with it is the full path's to report.
	config, err := fsutil.ReadUserFile(m.Config, fsutil.MaxFileSize)
	if errors.Is(err, fs.ErrNotExist) {
		config, err = nil, nil
	} else if config == nil {
		config = []byte{}
	}
	if err != nil {
		return false, nil
	}
	if got, err := in.digest(m.Config, config); err != nil || got != want {
		return false, nil
	}
	e, err := tokencache.New(dir).Load(m.Key)
	if err != nil || !e.Usable(m.Fingerprint, m.DPoP, MinTTL, now) {
		return false, nil
	}
	// What writeToken (cli) checks before printing a raw token.
	if !tokentext.IsTokenText(e.AccessToken) || !tokentext.IsTokenText(tokentext.NormalizeTokenType(e.TokenType)) {
		return false, nil
	}
	_, err = io.WriteString(stdout, e.AccessToken+"\n")
	return true, err
}
