package tokencache

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

func sampleEntries() []Entry {
	at := time.Date(2026, 12, 1, 2, 3, 4, 0, time.UTC)
	return []Entry{
		{},
		{AccessToken: "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2ln", TokenType: "Bearer", Expiry: at, UpdatedAt: at.Add(-time.Hour)},
		{
			AccessToken: "a", TokenType: "DPoP", IDToken: "i.d.t", Scope: "openid profile offline_access",
			Expiry: at.In(time.FixedZone("", 5*3600+1800)), Subject: `ali"ce\` + "\t<&>\u2028\x01\b\f/",
			Fingerprint: "issuer=https://login.example.com/?a=1&b=<2>\ntoken_url=\nscopes=openid",
			Storage:     "keychain", DPoPJKT: "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I", NeedsLogin: true, UpdatedAt: at.Add(123456789 * time.Nanosecond),
		},
		{NeedsLogin: true, Fingerprint: "x"},
		{Subject: "José", Scope: "a\x7fb"}, // non-ASCII: json.Unmarshal reads it
	}
}

// What Save writes takes the fast path and reads back as json.Unmarshal
// reads it, escapes, non-ASCII and time zones included.
func TestDecodeEntryReadsWhatSaveWrites(t *testing.T) {
	for _, want := range sampleEntries() {
		b, err := json.Marshal(&want)
		if err != nil {
			t.Fatal(err)
		}
		var viaJSON Entry
		if err := json.Unmarshal(b, &viaJSON); err != nil {
			t.Fatal(err)
		}
		var fast Entry
		ascii := true
		for _, c := range b {
			ascii = ascii && c < 0x80
		}
		if ok := readCompact(b, &fast); ok != ascii {
			t.Errorf("readCompact(%s) = %v, want %v", b, ok, ascii)
		}
		var got Entry
		if err := decodeEntry(b, &got); err != nil || !reflect.DeepEqual(got, viaJSON) {
			t.Errorf("decodeEntry(%s) = %+v, %v; want %+v", b, got, err, viaJSON)
		}
	}
}

// Every field of Entry takes the fast path: a key readCompact does not know
// still works (json.Unmarshal reads the file), but costs every cached
// oat token the JSON decoder.
func TestReadCompactKnowsEveryKey(t *testing.T) {
	typ := reflect.TypeOf(Entry{})
	for i := range typ.NumField() {
		fld := typ.Field(i)
		key, _, _ := strings.Cut(fld.Tag.Get("json"), ",")
		val := `"x"`
		switch {
		case fld.Type.Kind() == reflect.Bool:
			val = "true"
		case fld.Type == reflect.TypeOf(time.Time{}):
			val = `"2026-12-01T02:03:04Z"`
		}
		var got Entry
		if !readCompact([]byte(`{"`+key+`":`+val+`}`), &got) {
			t.Errorf("readCompact does not know the key %q of Entry.%s: add it to readCompact/stringField in decode.go", key, fld.Name)
		}
	}
}

// readCompact never accepts a file that json.Unmarshal reads differently
// or refuses: json.Unmarshal stays the definition of a cache file.
func FuzzDecodeEntry(f *testing.F) {
	for _, e := range sampleEntries() {
		b, _ := json.Marshal(&e)
		f.Add(b)
	}
	for _, s := range []string{
		`{}`, `{"needs_login":false}`, `{"access_token":"a","access_token":"b"}`, `{"Access_Token":"a"}`,
		`{"expiry":"2026-12-01T02:03:04Z"}`, `{"expiry":"2026-12-01T24:03:04Z"}`, `{"expiry":null}`,
		`{"scope":"\ud800"}`, `{"scope":"\u00e9\/"}`, `{"scope":"a"} `, `{"scope":"a",}`, `{"scope" :"a"}`,
		`{"needs_login":true,"x":1}`, `{"id_token":"\x"}`, `{"subject":"a\u0000b"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var fast Entry
		if !readCompact(b, &fast) {
			return
		}
		var viaJSON Entry
		if err := json.Unmarshal(b, &viaJSON); err != nil {
			t.Fatalf("readCompact accepted %q, which json.Unmarshal refuses: %v", b, err)
		}
		if !reflect.DeepEqual(fast, viaJSON) {
			t.Fatalf("%q: readCompact read %+v, json.Unmarshal %+v", b, fast, viaJSON)
		}
	})
}
