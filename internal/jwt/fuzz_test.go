package jwt

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
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
		// Whatever parsed must read exactly as json.Decoder reads it, and
		// print and re-parse to the same JSON.
		parts := strings.Split(tok.Raw, ".")
		for i, o := range []*Object{tok.Header, tok.Payload} {
			if o == nil {
				continue
			}
			b, err := o.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			in, err := base64.RawURLEncoding.DecodeString(parts[i])
			if err != nil {
				t.Fatal(err)
			}
			if ref := referenceMarshal(t, in); string(ref) != string(b) {
				t.Fatalf("differs from json.Decoder:\n%q\n%q", b, ref)
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

// referenceMarshal reads data with json.Decoder's tokens (the parser oat had
// before its own: slow, but encoding/json's reading of every string and
// number) and writes it back with writeValue.
func referenceMarshal(t *testing.T, data []byte) []byte {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := referenceValue(dec)
	if err != nil {
		t.Fatalf("reference parser: %v", err)
	}
	var b bytes.Buffer
	if err := writeValue(&b, v); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func referenceValue(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err == io.EOF {
		return nil, io.ErrUnexpectedEOF
	} else if err != nil {
		return nil, err
	}
	switch tok {
	case json.Delim('{'):
		obj := &Object{Members: []Member{}}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return nil, err
			}
			val, err := referenceValue(dec)
			if err != nil {
				return nil, err
			}
			obj.Members = append(obj.Members, Member{Key: kt.(string), Value: val})
		}
		_, err := dec.Token()
		return obj, err
	case json.Delim('['):
		arr := []any{}
		for dec.More() {
			val, err := referenceValue(dec)
			if err != nil {
				return nil, err
			}
			arr = append(arr, val)
		}
		_, err := dec.Token()
		return arr, err
	}
	if _, ok := tok.(json.Delim); ok {
		return nil, fmt.Errorf("unexpected %v", tok)
	}
	return tok, nil
}
