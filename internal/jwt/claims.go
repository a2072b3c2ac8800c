package jwt

import (
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
	"time"
)

// TimeClaims are the claims holding a NumericDate that oat annotates.
var TimeClaims = []string{"exp", "iat", "nbf", "auth_time"}

// IsTimeClaim reports whether name is one of TimeClaims.
func IsTimeClaim(name string) bool {
	for _, c := range TimeClaims {
		if c == name {
			return true
		}
	}
	return false
}

// RFC 3339 can show years 0001 to 9999 only.
var (
	minDate = big.NewRat(time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC).Unix(), 1)
	maxDate = big.NewRat(time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC).Unix(), 1)
)

// NumericDate turns a claim value (seconds since the epoch, possibly
// fractional) into a time. ok is false when v is not a JSON number or lies
// outside the years 1 to 9999.
func NumericDate(v any) (t time.Time, ok bool) {
	r, ok := numberRat(v)
	if !ok || r.Cmp(minDate) < 0 || r.Cmp(maxDate) > 0 {
		return time.Time{}, false
	}
	// Split into whole seconds (floor) and nanoseconds.
	sec := new(big.Int).Quo(r.Num(), r.Denom())
	if r.Sign() < 0 && new(big.Int).Mul(sec, r.Denom()).Cmp(r.Num()) != 0 {
		sec.Sub(sec, big.NewInt(1))
	}
	frac := new(big.Rat).Sub(r, new(big.Rat).SetInt(sec))
	nanos := new(big.Rat).Mul(frac, big.NewRat(int64(time.Second), 1))
	n, _ := nanos.Float64()
	return time.Unix(sec.Int64(), int64(n)).UTC(), true
}

func numberRat(v any) (*big.Rat, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return nil, false
	}
	s := string(n)
	// Bound the exponent before big.Rat expands it: 1e999999999 would
	// allocate hundreds of megabytes.
	if i := strings.IndexAny(s, "eE"); i >= 0 && len(strings.TrimLeft(s[i+1:], "+-0")) > 4 {
		return nil, false
	}
	r, ok := new(big.Rat).SetString(s)
	return r, ok
}

// Time returns a time claim of the payload.
func (t *Token) Time(name string) (time.Time, bool) {
	v, ok := t.Claim(name)
	if !ok {
		return time.Time{}, false
	}
	return NumericDate(v)
}

// ExpiresIn is exp minus now in whole seconds (rounded down; negative once
// expired), exact however large exp is. ok is false when the token has no
// exp or exp is not a number.
func (t *Token) ExpiresIn(now time.Time) (json.Number, bool) {
	v, ok := t.Claim("exp")
	if !ok {
		return "", false
	}
	r, ok := numberRat(v)
	if !ok {
		return "", false
	}
	r.Sub(r, big.NewRat(now.Unix(), 1))
	q := new(big.Int)
	m := new(big.Int)
	q.DivMod(r.Num(), r.Denom(), m) // Euclidean: floor for a positive divisor
	return json.Number(q.String()), true
}

// Relative describes a time claim's time relative to now, in the words a
// person debugging a token wants: "expires in 4m10s", "expired 2h ago", "not
// valid for 30s yet", "valid since 5m ago", "issued 3m ago",
// "authenticated 1h2m ago".
func Relative(claim string, at, now time.Time) string {
	// Whole seconds, towards "later": a token valid for 0.3s more
	// "expires in 1s", one 0.3s past "expired 0s ago".
	future := at.After(now)
	d := at.Sub(now)
	if future {
		d = (d + time.Second - 1).Truncate(time.Second)
	} else {
		d = (-d).Truncate(time.Second)
	}
	ds := FormatDuration(d)
	switch claim {
	case "exp":
		if future {
			return "expires in " + ds
		}
		return "expired " + ds + " ago"
	case "nbf":
		if future {
			return "not valid for " + ds + " yet"
		}
		return "valid since " + ds + " ago"
	case "iat":
		if future {
			return "issued " + ds + " in the future"
		}
		return "issued " + ds + " ago"
	case "auth_time":
		if future {
			return "authenticated " + ds + " in the future"
		}
		return "authenticated " + ds + " ago"
	}
	if future {
		return "in " + ds
	}
	return ds + " ago"
}

// FormatDuration writes d with its two largest units of y (365 days), d, h,
// m and s, dropping a zero second unit: "4m10s", "2h", "3d4h", "73y", "0s".
func FormatDuration(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	secs := int64(d / time.Second)
	units := []struct {
		n    int64
		name string
	}{{365 * 86400, "y"}, {86400, "d"}, {3600, "h"}, {60, "m"}, {1, "s"}}
	var b strings.Builder
	shown := 0
	for _, u := range units {
		if shown == 2 {
			break
		}
		q := secs / u.n
		secs -= q * u.n
		if q > 0 {
			fmt.Fprintf(&b, "%d%s", q, u.name)
			shown++
		} else if shown > 0 {
			break // "2h" not "2h0m"; and never skip a unit between two shown
		}
	}
	if b.Len() == 0 {
		return "0s"
	}
	return b.String()
}
