//go:build (dragonfly && cgo) || (freebsd && cgo) || linux || netbsd || openbsd

package keychain

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/godbus/dbus/v5"
)

// userRunDir is where godbus looks for a systemd user session's bus when
// DBUS_SESSION_BUS_ADDRESS is not set. A variable so tests can point it at
// an empty folder on a machine that has such a bus.
var userRunDir = func() string { return fmt.Sprintf("/run/user/%d", os.Getuid()) }

// preflight finds, before go-keyring tries, that there is no session bus at
// all. go-keyring would otherwise run dbus-launch to start one.
func preflight() string {
	if a := os.Getenv("DBUS_SESSION_BUS_ADDRESS"); a != "" && a != "autolaunch:" {
		return ""
	}
	// godbus also finds the bus of a systemd user session here.
	for _, f := range []string{"bus", "dbus-session"} {
		if _, err := os.Stat(filepath.Join(userRunDir(), f)); err == nil {
			return ""
		}
	}
	return "no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set), so the Secret Service cannot be reached"
}

// describe says in words why a Secret Service call failed.
func describe(err error) string {
	var de dbus.Error
	var dep *dbus.Error
	name := ""
	if errors.As(err, &de) {
		name = de.Name
	} else if errors.As(err, &dep) {
		name = dep.Name
	}
	switch name {
	case "org.freedesktop.DBus.Error.ServiceUnknown", "org.freedesktop.DBus.Error.NameHasNoOwner":
		return "no Secret Service on the D-Bus session bus (start gnome-keyring-daemon or KeePassXC with its Secret Service enabled)"
	case "org.freedesktop.Secret.Error.IsLocked":
		return "the keyring is locked (unlock it, e.g. by logging in to the desktop)"
	case "org.freedesktop.Secret.Error.NoSuchObject", "org.freedesktop.DBus.Error.UnknownObject", "org.freedesktop.DBus.Error.UnknownMethod":
		return "the Secret Service has no default keyring (create or unlock a \"login\" keyring)"
	case "org.freedesktop.DBus.Error.AccessDenied":
		return "the D-Bus session bus denied access to the Secret Service"
	case "":
	default:
		return "the Secret Service failed: " + err.Error()
	}
	msg := err.Error()
	var ne net.Error
	switch {
	case strings.Contains(msg, "failed to unlock"):
		return "the keyring is locked (unlock it, e.g. by logging in to the desktop)"
	case errors.As(err, &ne), errors.Is(err, fs.ErrNotExist), strings.Contains(msg, "connection refused"),
		strings.Contains(msg, "no such file"), strings.HasPrefix(msg, "dbus:"):
		return "cannot connect to the D-Bus session bus at " + os.Getenv("DBUS_SESSION_BUS_ADDRESS") + ": " + msg
	}
	return "the Secret Service failed: " + msg
}
