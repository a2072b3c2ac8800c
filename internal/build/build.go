// Package build holds the version information stamped by the release build:
//
//	go build -ldflags "-X github.com/oatcli/oat/internal/build.Version=v1.2.3 ..."
package build

import "runtime/debug"

var (
	Version = "dev"
	Commit  = ""
	Date    = ""
)

// Info returns version, commit and date, falling back to what the Go toolchain
// recorded (go install module@version) when the release build did not stamp them.
func Info() (version, commit, date string) {
	version, commit, date = Version, Commit, Date
	if version == "dev" || commit == "" {
		if bi, ok := debug.ReadBuildInfo(); ok {
			if version == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
				version = bi.Main.Version
			}
			for _, s := range bi.Settings {
				switch s.Key {
				case "vcs.revision":
					if commit == "" {
						commit = s.Value
					}
				case "vcs.time":
					if date == "" {
						date = s.Value
					}
				}
			}
		}
	}
	return version, commit, date
}
