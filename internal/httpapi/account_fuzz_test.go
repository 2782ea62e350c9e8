package httpapi

import (
	"encoding/json"
	"strings"
	"testing"

	"aimg/internal/config"
)

func FuzzStringList(f *testing.F) {
	for _, s := range []string{`["a","b"]`, `"a, b,,c"`, `""`, `[]`, `null`, `5`, `[1]`, `{"a":1}`, `" , "`, `"\u002c"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var l StringList
		if err := json.Unmarshal(data, &l); err != nil {
			return
		}
		for _, v := range l {
			if v == "" || v != strings.TrimSpace(v) {
				t.Fatalf("entry %q from %s", v, data)
			}
		}
		// The string form never keeps a comma inside an entry.
		var s string
		if json.Unmarshal(data, &s) == nil {
			for _, v := range l {
				if strings.Contains(v, ",") {
					t.Fatalf("entry %q from the string %q", v, s)
				}
			}
			if strings.Join(l, ",") != strings.Join(SplitCommaList(strings.Join(l, ",")), ",") {
				t.Fatalf("not stable: %q", l)
			}
		}
	})
}

func TestStringListForms(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
		ok   bool
	}{
		{`["a", " b ", ""]`, []string{"a", "b"}, true},
		{`"a, b,,c "`, []string{"a", "b", "c"}, true},
		{`""`, []string{}, true},
		{`7`, nil, false},
		{`[1]`, nil, false},
	} {
		var l StringList
		err := json.Unmarshal([]byte(c.in), &l)
		if (err == nil) != c.ok || (c.ok && strings.Join(l, "|") != strings.Join(c.want, "|")) {
			t.Errorf("%s: %q, %v", c.in, l, err)
		}
	}
}

func FuzzValidateLogEntries(f *testing.F) {
	for _, s := range []string{
		`[{"message":"m"}]`,
		`[{"message":"m","level":"warn","httpMethod":"GET","timestamp":1.5}]`,
		`[{"message":"","level":"x"}]`,
		`[{"message":"m","timestamp":-1}]`,
		`[]`,
		`[{"message":"\u0000","errorStack":"\ud800"}]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var entries []LogEntry
		if json.Unmarshal(data, &entries) != nil {
			return
		}
		budget := config.IngestLogs{MaxEntryBytes: 2048, MaxRequestBytes: 8192}
		err := validateLogEntries(entries, budget)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "logs") {
				t.Fatalf("error %q does not name the field", err)
			}
			return
		}
		if len(entries) == 0 || len(entries) > maxLogEntries {
			t.Fatalf("%d entries accepted", len(entries))
		}
		total := 0
		for _, e := range entries {
			size := len(e.Message) + len(e.APISubscope) + len(e.HTTPMethod) + len(e.HTTPPath) + len(e.HTTPURL) +
				len(e.ErrorName) + len(e.ErrorMessage) + len(e.ErrorStack)
			if total += size; size > budget.MaxEntryBytes || total > budget.MaxRequestBytes {
				t.Fatalf("%d bytes in an entry, %d in the request accepted", size, total)
			}
			if _, ok := logLevels[e.Level]; !ok {
				t.Fatalf("level %q accepted", e.Level)
			}
			if strings.TrimSpace(e.Message) == "" || len(e.Message) > maxLogFieldBytes {
				t.Fatalf("message %q accepted", e.Message)
			}
			if e.HTTPMethod != "" && !logHTTPMethods[e.HTTPMethod] {
				t.Fatalf("method %q accepted", e.HTTPMethod)
			}
			if e.Timestamp != nil && (*e.Timestamp < 0 || *e.Timestamp != *e.Timestamp) {
				t.Fatalf("timestamp %v accepted", *e.Timestamp)
			}
		}
	})
}

func FuzzCheckServiceName(f *testing.F) {
	for _, s := range []string{"FrontEnd/Client/AIMG/a2prod", "a/b", "a", "a//b", "a/ b", "x/\n", "A B/c:d-e_f.g"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if checkServiceName(name) != nil {
			return
		}
		parts := strings.Split(name, "/")
		if len(parts) < 2 || len(parts) > maxServiceParts || strings.ContainsAny(name, "\r\n\t\"<>\\") {
			t.Fatalf("%q accepted", name)
		}
	})
}
