package jwt

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// seeds are the committed sample token and every file under testdata/seeds.
func seeds(tb testing.TB) []string {
	tb.Helper()
	var out []string
	files, _ := filepath.Glob(filepath.Join("testdata", "seeds", "*"))
	files = append(files, filepath.Join("..", "..", "testdata", "sample.jwt"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, string(b))
	}
	return out
}

func FuzzParse(f *testing.F) {
	for _, s := range seeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		tok, err := Parse(raw)
		if err != nil {
			if tok != nil {
				t.Fatal("token and error")
			}
			if _, ok := err.(*MalformedError); !ok {
				t.Fatalf("error %T, want *MalformedError", err)
			}
			if strings.ContainsAny(err.Error(), "\n\r") {
				t.Fatalf("multi-line error %q", err)
			}
			return
		}
		// Whatever parsed must print and re-parse to the same JSON.
		for _, o := range []*Object{tok.Header, tok.Payload} {
			if o == nil {
				continue
			}
			b, err := o.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			if !json.Valid(b) {
				t.Fatalf("invalid JSON out: %q", b)
			}
			again, err := parseObject(b)
			if err != nil {
				t.Fatalf("re-parse: %v", err)
			}
			b2, _ := again.MarshalJSON()
			if string(b) != string(b2) {
				t.Fatalf("not stable: %q vs %q", b, b2)
			}
		}
		now := time.Unix(1767225600, 0)
		for _, c := range TimeClaims {
			if at, ok := tok.Time(c); ok {
				_ = Relative(c, at, now)
			}
		}
		tok.ExpiresIn(now)
		tok.Audience()
	})
}

func BenchmarkParse(b *testing.B) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "testdata", "sample.jwt"))
	if err != nil {
		b.Fatal(err)
	}
	s := string(raw)
	b.SetBytes(int64(len(s)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(s); err != nil {
			b.Fatal(err)
		}
	}
}
