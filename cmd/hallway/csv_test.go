package main

import (
	"bytes"
	"testing"
)

func TestNeutralise(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"alice", "alice"},
		{"250.00", "250.00"},
		{`=HYPERLINK("http://evil.example","x")`, `'=HYPERLINK("http://evil.example","x")`},
		{"+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"},
		{"-2+3", "'-2+3"},
		{"@SUM(1+1)", "'@SUM(1+1)"},
		{"\t=1+1", "'\t=1+1"},
		{"\r=1+1", "'\r=1+1"},
		{"a=1", "a=1"},
		{"'=1", "'=1"},
	} {
		if got := neutralise(tc.in); got != tc.want {
			t.Errorf("neutralise(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	var b bytes.Buffer
	w := newCSV(&b)
	w.Write([]string{"=1", `"quoted", =2`})
	if err := w.Flush(); err != nil || b.String() != "'=1,\"\"\"quoted\"\", =2\"\n" {
		t.Errorf("row: %q, %v", b.String(), err)
	}
}
