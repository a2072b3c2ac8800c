package output

import (
	"encoding/json"
	"strings"
	"testing"
)

type members [][2]any

func (m members) Len() int               { return len(m) }
func (m members) At(i int) (string, any) { return m[i][0].(string), m[i][1] }

func TestJSONPrinter(t *testing.T) {
	var b strings.Builder
	p := NewJSONPrinter(&b, false, 0)
	obj := members{
		{"z", json.Number("1.50")},
		{"a", []any{"x\x1b[31m", true, nil, members{}}},
		{"z", "dup kept, in order"},
	}
	p.Value(obj, 0, func(k string, _ any) string {
		if k == "a" {
			return "note"
		}
		return ""
	})
	if err := p.Flush(); err != nil {
		t.Fatal(err)
	}
	want := `{
  "z": 1.50,
  "a": [
    "x\u001b[31m",
    true,
    null,
    {}
  ],  // note
  "z": "dup kept, in order"
}`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}

	// Below PrettyDepth: compact, on one line.
	var deep any = []any{json.Number("1")}
	for range PrettyDepth + 1 {
		deep = members{{"k", deep}}
	}
	b.Reset()
	p = NewJSONPrinter(&b, false, 0)
	p.Value(deep, 0, nil)
	p.Flush()
	if !strings.Contains(b.String(), `"k": {"k":[1]}`) || strings.Count(b.String(), "\n") != 2*PrettyDepth {
		t.Errorf("deep value:\n%s", b.String())
	}
}
