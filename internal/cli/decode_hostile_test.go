package cli

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/oatcli/oat/internal/output"
)

// unsignedToken is a JWT with alg none around payload (any bytes).
func unsignedToken(payload string) string {
	b64 := base64.RawURLEncoding.EncodeToString
	return b64([]byte(`{"alg":"none"}`)) + "." + b64([]byte(payload)) + "."
}

// hostileDecodePayloads are JSON payloads that make a naive indenting
// printer quadratic or a token-by-token decoder allocation-bound; every
// token made of them is under decode's 1 MiB input cap.
func hostileDecodePayloads() map[string]string {
	const n = 700 << 10 // payload bytes: base64 makes it about 930 KiB
	nest := func(open, close string, depth int) string {
		return strings.Repeat(open, depth) + strings.Repeat(close, depth)
	}
	return map[string]string{
		// 9999 levels inside the payload object: encoding/json's limit.
		"deep arrays":      `{"a":` + nest("[", "]", 9998) + `}`,
		"deep objects":     `{"a":` + strings.Repeat(`{"a":`, 9997) + `{}` + strings.Repeat("}", 9997) + `}`,
		"deep and wide":    `{"a":` + strings.Repeat(`[0,"x",`, 9990) + `0` + strings.Repeat("]", 9990) + `}`,
		"wide array":       `{"a":[` + strings.Repeat("0,", n/2) + `0]}`,
		"wide object":      `{` + strings.Repeat(`"":0,`, n/5) + `"":0}`,
		"empty containers": `{"a":[` + strings.Repeat("[],{},", n/6) + `[]]}`,
		"escaped strings":  `{"a":[` + strings.Repeat(`"\u001b\u0085",`, n/15) + `""]}`,
		// Many values just above the depth cap: the widest indented output.
		"wide at the cap": `{"a":` + strings.Repeat("[", output.PrettyDepth-1) + strings.Repeat("0,", n/2) + "0" + strings.Repeat("]", output.PrettyDepth-1) + `}`,
	}
}

// countWriter counts what is written and keeps none of it.
type countWriter struct{ n int64 }

func (w *countWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

// TestDecodeHostileNestingBoundedMemory: any token under the 1 MiB input
// cap decodes with at most 64 MiB allocated in all (text, colour, JSON),
// and the output grows linearly with the token. Not parallel: it reads the
// process's allocation counter.
func TestDecodeHostileNestingBoundedMemory(t *testing.T) {
	const budget = 64 << 20
	for name, payload := range hostileDecodePayloads() {
		tok := unsignedToken(payload)
		if len(tok) > maxTokenInput {
			t.Fatalf("%s: token of %d bytes is over the input cap", name, len(tok))
		}
		for _, mode := range []string{"text", "colour", "json"} {
			e := newDecodeEnv(t)
			var out countWriter
			var errOut bytes.Buffer
			e.configure = func(f *Factory) {
				f.IO = output.New(strings.NewReader(tok), &out, &errOut, f.Getenv)
				f.IO.SetTTY(false, mode == "colour", false)
			}
			args := []string{"decode", "-"}
			if mode == "json" {
				args = append(args, "-o", "json")
			}
			f := e.factory()
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			code := Run(t.Context(), f, args)
			runtime.ReadMemStats(&after)
			if code != 0 {
				t.Fatalf("%s, %s: exit %d: %s", name, mode, code, errOut.String())
			}
			alloc := after.TotalAlloc - before.TotalAlloc
			t.Logf("%s, %s: %d KiB token, %d KiB out, %d KiB allocated", name, mode, len(tok)>>10, out.n>>10, alloc>>10)
			if alloc > budget {
				t.Errorf("%s, %s: %d MiB allocated for a %d KiB token; want at most %d MiB", name, mode, alloc>>20, len(tok)>>10, budget>>20)
			}
			// Colour adds about 10 bytes per value; indent at most 2*(output.PrettyDepth+1).
			if limit := int64(len(payload)) * (2*output.PrettyDepth + 16); out.n > limit {
				t.Errorf("%s, %s: %d bytes out for a %d-byte payload", name, mode, out.n, len(payload))
			}
		}
	}
}

// TestDecodeDeepNestingOutput: beyond output.PrettyDepth levels the JSON is
// compact on one line, and the output (both formats) is still exactly the
// token's JSON.
func TestDecodeDeepNestingOutput(t *testing.T) {
	t.Parallel()
	for name, payload := range hostileDecodePayloads() {
		if !strings.HasPrefix(name, "deep") {
			continue
		}
		tok := unsignedToken(payload)
		e := newDecodeEnv(t)
		if code := e.runStdin(tok, "decode", "-o", "json"); code != 0 {
			t.Fatalf("%s: exit %d: %s", name, code, e.errOut)
		}
		var got struct{ Payload json.RawMessage }
		if err := json.Unmarshal(e.out.Bytes(), &got); err != nil {
			t.Fatalf("%s: output is not JSON: %v", name, err)
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, got.Payload); err != nil {
			t.Fatal(err)
		}
		if compact.String() != payload {
			t.Errorf("%s: -o json payload differs from the token's", name)
		}
		// The payload is at indent 1 in -o json: its members at 2, the
		// deepest indented line at 1+output.PrettyDepth.
		for line := range strings.Lines(e.out.String()) {
			if indent := len(line) - len(strings.TrimLeft(line, " ")); indent > 2*(output.PrettyDepth+1) {
				t.Fatalf("%s: a line indented by %d spaces", name, indent)
			}
		}

		e = newDecodeEnv(t)
		if code := e.runStdin(tok, "decode"); code != 0 {
			t.Fatalf("%s: exit %d: %s", name, code, e.errOut)
		}
		text := e.out.String()
		start, end := strings.Index(text, "Payload\n")+len("Payload\n"), strings.Index(text, "\n\nSignature")
		compact.Reset()
		if err := json.Compact(&compact, []byte(text[start:end])); err != nil || compact.String() != payload {
			t.Errorf("%s: text payload is not the token's JSON (%v)", name, err)
		}
	}

	// Exactly where it turns compact: the object at depth output.PrettyDepth.
	payload := strings.Repeat(`{"k":`, output.PrettyDepth+2) + "[1]" + strings.Repeat("}", output.PrettyDepth+2)
	e := newDecodeEnv(t)
	if code := e.runStdin(unsignedToken(payload), "decode"); code != 0 {
		t.Fatalf("exit %d: %s", code, e.errOut)
	}
	var want strings.Builder
	want.WriteString("Payload\n{")
	for d := 1; d <= output.PrettyDepth; d++ {
		want.WriteString("\n" + strings.Repeat("  ", d) + `"k": {`)
	}
	want.WriteString(`"k":{"k":[1]}}`)
	for d := output.PrettyDepth - 1; d >= 0; d-- {
		want.WriteString("\n" + strings.Repeat("  ", d) + "}")
	}
	if !strings.Contains(e.out.String(), want.String()) {
		t.Errorf("got\n%s\nwant it to contain\n%s", e.out, want.String())
	}
}

// TestDecodeTooDeep: 100 000 levels (200 KB, under the input cap) is not a
// JWT oat shows: exit 2, one line, nothing on stdout, little memory.
func TestDecodeTooDeep(t *testing.T) {
	for name, payload := range map[string]string{
		"arrays":  `{"a":` + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + `}`,
		"objects": strings.Repeat(`{"a":`, 100000) + "1" + strings.Repeat("}", 100000),
		"10001":   `{"a":` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `}`,
	} {
		e := newDecodeEnv(t)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		code := e.runStdin(unsignedToken(payload), "decode")
		runtime.ReadMemStats(&after)
		if code != 2 || e.out.Len() != 0 || !strings.HasPrefix(e.errOut.String(), "oat: not a JWT: payload: invalid JSON") ||
			strings.Count(e.errOut.String(), "\n") != 1 || !strings.Contains(e.errOut.String(), "depth") {
			t.Errorf("%s: exit %d\nstdout %.200q\nstderr %q", name, code, e.out, e.errOut)
		}
		alloc := after.TotalAlloc - before.TotalAlloc
		t.Logf("%s: %d KiB allocated", name, alloc>>10)
		if alloc > 16<<20 {
			t.Errorf("%s: %d MiB allocated", name, alloc>>20)
		}
	}
}

// BenchmarkDecodeHostile times the whole in-process `oat decode` of each
// hostile token (the tests above bound its memory, not its time).
func BenchmarkDecodeHostile(b *testing.B) {
	for name, payload := range hostileDecodePayloads() {
		tok := unsignedToken(payload)
		for _, format := range []string{"text", "json"} {
			b.Run(fmt.Sprintf("%s/%s", strings.ReplaceAll(name, " ", "-"), format), func(b *testing.B) {
				getenv := func(string) string { return "" }
				b.SetBytes(int64(len(tok)))
				b.ReportAllocs()
				for b.Loop() {
					f := NewFactory(strings.NewReader(tok), io.Discard, io.Discard, getenv)
					if code := Run(b.Context(), f, []string{"decode", "-o", format, "-"}); code != 0 {
						b.Fatalf("exit %d", code)
					}
				}
			})
		}
	}
}
