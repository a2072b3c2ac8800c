package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"

	"github.com/oatcli/oat/internal/fsutil"

	"github.com/pelletier/go-toml/v2"
)

// Error is a malformed or invalid configuration (exit code 2).
type Error struct {
	Path string // config file, "" when the problem is in flags or environment
	Msg  string
}

func (e *Error) Error() string {
	if e.Path == "" {
		return e.Msg
	}
	return "config " + e.Path + ": " + e.Msg
}

func errorf(path, format string, a ...any) *Error {
	return &Error{Path: path, Msg: fmt.Sprintf(format, a...)}
}

// File is the whole config file.
type File struct {
	Path string `toml:"-"`
	// Raw is the bytes Load read, nil when there was no file: what the
	// resolution of a cached `oat token` is remembered under (fastpath).
	Raw            []byte             `toml:"-"`
	DefaultProfile string             `toml:"default_profile,omitempty"`
	Profiles       map[string]Profile `toml:"profiles,omitempty"`
}

// Path returns the config file location: $OAT_CONFIG, else
// $XDG_CONFIG_HOME/oat/config.toml, else ~/.config/oat/config.toml (on every OS).
func Path(getenv func(string) string) (string, error) {
	if p := getenv("OAT_CONFIG"); p != "" {
		return p, nil
	}
	dir, err := fsutil.XDGDir(getenv, "XDG_CONFIG_HOME", "config file (set OAT_CONFIG)", ".config")
	if err != nil {
		return "", &Error{Msg: err.Error()}
	}
	return filepath.Join(dir, "config.toml"), nil
}

// Load reads and validates the file at path. A missing file is an empty config.
func Load(path string) (*File, error) {
	f := &File{Path: path}
	// A link is followed (dotfile managers), but not to a pipe, a device,
	// another user's file or a huge one.
	data, err := fsutil.ReadUserFile(path, fsutil.MaxFileSize)
	if errors.Is(err, fs.ErrNotExist) {
		return f, nil
	}
	var ue *fsutil.UnsafeError
	if errors.As(err, &ue) {
		return nil, errorf(path, "the file %s; oat reads its config only from a regular file of yours of at most 1 MiB", ue.Problem)
	}
	if err != nil {
		return nil, errorf(path, "%v", err)
	}
	if err := Parse(path, data, f); err != nil {
		return nil, err
	}
	if data == nil {
		data = []byte{} // an empty file is a file
	}
	f.Raw = data
	return f, nil
}

// Parse decodes TOML data into f (as Load makes it: nothing but Path set),
// rejecting unknown keys and invalid values.
func Parse(path string, data []byte, f *File) error {
	var simple File
	if parseSimple(data, &simple) {
		f.DefaultProfile, f.Profiles = simple.DefaultProfile, simple.Profiles
	} else {
		dec := toml.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(f); err != nil {
			return decodeError(path, err)
		}
	}
	for _, name := range f.Names() {
		if err := ValidateName(name); err != nil {
			return errorf(path, "%v", err)
		}
		p := f.Profiles[name]
		if err := p.Validate(); err != nil {
			return errorf(path, "profile %q: %v", name, err)
		}
	}
	// A default_profile that names no profile is not an error here: every
	// command would fail, `oat profile use` that fixes it included. It is
	// reported where the default is used (CheckProfileName, Resolve).
	return nil
}

func decodeError(path string, err error) error {
	var sm *toml.StrictMissingError
	if errors.As(err, &sm) && len(sm.Errors) > 0 {
		key := strings.Join(sm.Errors[0].Key(), ".")
		row, _ := sm.Errors[0].Position()
		if last := sm.Errors[0].Key(); len(last) > 0 && isSecretKey(last[len(last)-1]) {
			return errorf(path, "line %d: %s: secrets are not kept in the config file; put it in an environment variable and name that with client_secret_env", row, key)
		}
		return errorf(path, "line %d: unknown key %q (known profile keys: %s)", row, key, strings.Join(Keys(), ", "))
	}
	var de *toml.DecodeError
	if errors.As(err, &de) {
		row, _ := de.Position()
		return errorf(path, "line %d: %s", row, typeMismatch(de.Error()))
	}
	return errorf(path, "%v", err)
}

// typeMismatch rewrites go-toml's "cannot decode TOML string into struct
// field config.Profile.Scopes of type []string" in the file's own terms.
func typeMismatch(msg string) string {
	const marker = "struct field config.Profile."
	i := strings.Index(msg, marker)
	if i < 0 {
		return msg
	}
	field, _, _ := strings.Cut(msg[i+len(marker):], " ")
	f, ok := reflect.TypeOf(Profile{}).FieldByName(field)
	if !ok {
		return msg
	}
	key, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
	switch f.Type.Kind() {
	case reflect.Slice:
		return key + " must be an array of strings, e.g. " + key + ` = ["openid", "offline_access"]`
	case reflect.Int:
		return key + " must be a number"
	case reflect.Map:
		return key + ` must be a table, e.g. ` + key + ` = { prompt = "login" }`
	default:
		return key + ` must be a string in quotes`
	}
}

// Names returns the profile names, sorted.
func (f *File) Names() []string {
	names := make([]string, 0, len(f.Profiles))
	for n := range f.Profiles {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Save writes the file atomically (temp file + rename), 0600 in a 0700 folder.
// Comments in a hand-edited file are not kept; every profile and key is.
// When the config file is a symbolic link (a dotfile manager's), the file it
// points to is rewritten, atomically in that file's folder and keeping its
// mode, and the link stays.
func (f *File) Save() error {
	var buf bytes.Buffer
	buf.WriteString("# oat configuration — see `oat profile --help`. Written by oat; comments are not kept.\n")
	enc := toml.NewEncoder(&buf)
	enc.SetIndentTables(false)
	if err := enc.Encode(f); err != nil {
		return fmt.Errorf("encoding config: %w", err)
	}
	path, err := fsutil.LinkTarget(f.Path)
	if err != nil {
		return err
	}
	perm := fs.FileMode(0o600)
	if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() {
		perm = fi.Mode().Perm()
	}
	// The folder may be the user's own (OAT_CONFIG): create it 0700 if
	// missing, but never change an existing folder's mode.
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return fsutil.WriteFileAtomicMode(path, buf.Bytes(), perm)
}
