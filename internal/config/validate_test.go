package config

import (
	"regexp"
	"strings"
	"testing"
)

// The name checks are loops (no regexp compiled at init); they must accept
// exactly what the regexps they replaced accepted.
func TestNameChecksMatchRegexps(t *testing.T) {
	envRE := regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	profileRE := regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	inputs := []string{"", "a", "A", "_", "0", "9a", "a9", "_a", "a_b", "a-b", "a.b", ".a", "-a",
		"work", "ci", "my.profile-1_x", "DEPLOY_BOT_SECRET", "A B", "a\n", "a/b", "é", "aé",
		"a$", "x=y", strings.Repeat("a", 63), strings.Repeat("a", 64), strings.Repeat("a", 65),
		"0" + strings.Repeat(".", 63), "0" + strings.Repeat(".", 64), "adhoc-x"}
	for c := 0; c < 256; c++ {
		inputs = append(inputs, string(rune(c)), "a"+string([]byte{byte(c)}), string([]byte{byte(c)})+"a")
	}
	for _, s := range inputs {
		if got, want := isEnvName(s), envRE.MatchString(s); got != want {
			t.Errorf("isEnvName(%q) = %v, regexp says %v", s, got, want)
		}
		if got, want := isProfileName(s), profileRE.MatchString(s); got != want {
			t.Errorf("isProfileName(%q) = %v, regexp says %v", s, got, want)
		}
	}
}
