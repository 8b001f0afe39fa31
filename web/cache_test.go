package web

import (
	"testing"
	"time"
)

func TestETagListMatches(t *testing.T) {
	const etag = `"abc"`
	for _, tc := range []struct {
		list string
		want bool
	}{
		{`"abc"`, true},
		{`W/"abc"`, true},
		{`*`, true},
		{`"x", "abc"`, true},
		{`"x",W/"abc"`, true},
		{`"a,b", "abc"`, true}, // a comma inside an entity tag
		{`"a,b"`, false},
		{`"abcd"`, false},
		{`abc`, false},
		{`"abc`, false},
		{``, false},
		{`, ,`, false},
		{`W/`, false},
		{`"x" junk "abc"`, false},
	} {
		if got := etagListMatches(tc.list, etag); got != tc.want {
			t.Errorf("%q: %v, want %v", tc.list, got, tc.want)
		}
	}
}

func TestAcceptsGzip(t *testing.T) {
	for _, tc := range []struct {
		values []string
		want   bool
	}{
		{nil, false},
		{[]string{"gzip"}, true},
		{[]string{"GZIP"}, true},
		{[]string{"x-gzip"}, true},
		{[]string{"deflate, gzip;q=0.5"}, true},
		{[]string{"deflate", "gzip"}, true},
		{[]string{"gzip;q=0"}, false},
		{[]string{"gzip; q=0.000"}, false},
		{[]string{"*"}, true},
		{[]string{"*;q=0"}, false},
		{[]string{"gzip;q=0, *"}, false},
		{[]string{"*, gzip;q=0"}, false},
		{[]string{"identity"}, false},
		{[]string{"br, deflate"}, false},
		{[]string{"gzip;q=nonsense"}, false},
	} {
		if got := acceptsGzip(tc.values); got != tc.want {
			t.Errorf("%q: %v, want %v", tc.values, got, tc.want)
		}
	}
}

func TestNotModifiedDates(t *testing.T) {
	e := newEntry(version{}, []byte("x"), typeText, cacheFeed, time.Date(2027, 3, 1, 17, 0, 0, 500e6, time.UTC))
	for ims, want := range map[string]bool{
		"Mon, 01 Mar 2027 17:00:00 GMT":  true, // the fraction is not part of Last-Modified
		"Monday, 01-Mar-27 17:00:00 GMT": true, // RFC 850, still accepted
		"Mon Mar  1 17:00:00 2027":       true, // asctime
		"Mon, 01 Mar 2027 16:59:59 GMT":  false,
		"not a date":                     false,
	} {
		if got := e.notModified(nil, ims); got != want {
			t.Errorf("%q: %v, want %v", ims, got, want)
		}
	}
}

func TestLRU(t *testing.T) {
	c := newLRU(2)
	a, b, d := &personalFeed{}, &personalFeed{}, &personalFeed{}
	c.put("a", a)
	c.put("b", b)
	c.get("a") // a is now the most recent
	c.put("d", d)
	if c.get("b") != nil || c.get("a") != a || c.get("d") != d {
		t.Error("evicted the wrong one")
	}
	c.remove("a")
	if c.get("a") != nil || len(c.items) != 1 || c.order.Len() != 1 {
		t.Error("remove")
	}
}

// FuzzConditionalHeaders: the header parsers take anything a client sends.
func FuzzConditionalHeaders(f *testing.F) {
	for _, s := range []string{`"abc"`, `W/"abc", "d"`, `*`, `gzip;q=0.5, *;q=0`, `"a,b"`, "W/", `"`, ";;q=", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		etagListMatches(s, `"abc"`)
		acceptsGzip([]string{s})
		qNonZero(s)
	})
}

// TestCachedMovesForward: a late render of an older release is served to
// the request that asked for it but does not replace the newer entry.
func TestCachedMovesForward(t *testing.T) {
	srv := New(nil, nil, nil)
	var s slot
	render := func(body string) func() (*entry, error) {
		return func() (*entry, error) {
			return newEntry(version{}, []byte(body), typeText, cacheFeed, time.Time{}), nil
		}
	}
	if _, err := srv.cached(&s, "r", version{release: 2}, render("two")); err != nil {
		t.Fatal(err)
	}
	old, err := srv.cached(&s, "r", version{release: 1}, render("one"))
	if err != nil || string(old.body) != "one" {
		t.Fatalf("late render: %v %q", err, old.body)
	}
	if got := s.e.Load(); string(got.body) != "two" {
		t.Errorf("slot holds %q, want two", got.body)
	}
}
