package web

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// rawExchange writes req on a fresh loopback connection and reads every
// response the server sends until it closes the connection (or 5 s of
// silence): a request smuggled behind the first would show as a second
// response.
func rawExchange(t *testing.T, addr, req string) []*http.Response {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	var out []*http.Response
	for {
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			return out
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		out = append(out, res)
		if res.Close {
			return out
		}
	}
}

// TestMalformedRequests: a request with both Transfer-Encoding and
// Content-Length, and a NUL in the path (raw or %00), are refused with
// 400, by the front and by the net/http handler alone, over real loopback
// connections with the bytes written as they are; the smuggled request
// behind the first is never answered.
func TestMalformedRequests(t *testing.T) {
	f := newFixture(t)
	front := strings.TrimPrefix(f.serveFront(), "http://")
	ts := httptest.NewServer(f.srv.Handler())
	defer ts.Close()
	handler := strings.TrimPrefix(ts.URL, "http://")
	p := "/" + slug
	smuggled := "GET " + p + "/schedule.ics HTTP/1.1\r\nHost: a\r\n\r\n"
	tests := []struct {
		name, req string
	}{
		{"TE then CL, smuggled GET", "GET " + p + "/schedule.ics HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n" + smuggled},
		{"CL then TE, smuggled GET", "GET /healthz HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggled},
		{"TE and CL on a page", "GET " + p + "/proposals HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
		{"TE and CL, POST", "POST /metrics HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 100\r\n\r\n0\r\n\r\n" + smuggled},
		{"%00 in a page path", "GET /a%00b HTTP/1.1\r\nHost: a\r\n\r\n" + smuggled},
		{"%00 in a session", "GET " + p + "/session/1%00 HTTP/1.1\r\nHost: a\r\n\r\n"},
		{"%00 in a room feed", "GET " + p + "/room/Room%20104%00.ics HTTP/1.1\r\nHost: a\r\n\r\n"},
		{"%00 in a personal feed", "GET " + p + "/feed/" + f.token + "%00.ics HTTP/1.1\r\nHost: a\r\n\r\n"},
		{"%00 in a fast route", "GET " + p + "/schedule%00.ics HTTP/1.1\r\nHost: a\r\n\r\n"},
		{"raw NUL in a page path", "GET /a\x00b HTTP/1.1\r\nHost: a\r\n\r\n"},
		{"raw NUL in a personal feed", "GET " + p + "/feed/" + f.token + "\x00.ics HTTP/1.1\r\nHost: a\r\n\r\n"},
		{"raw NUL in a room feed", "GET " + p + "/room/a\x00.ics HTTP/1.1\r\nHost: a\r\n\r\n"},
		{"raw NUL in a HEAD", "HEAD " + p + "/schedule.ics\x00 HTTP/1.1\r\nHost: a\r\n\r\n"},
	}
	for _, server := range []struct{ name, addr string }{{"front", front}, {"net/http", handler}} {
		for _, tc := range tests {
			res := rawExchange(t, server.addr, tc.req)
			if len(res) != 1 || res[0].StatusCode != http.StatusBadRequest {
				var codes []int
				for _, r := range res {
					codes = append(codes, r.StatusCode)
				}
				t.Errorf("%s: %s: statuses %v, want one 400 and the connection closed", server.name, tc.name, codes)
			}
		}
		// A well-formed request on the same server still works, and one
		// with a Content-Length alone is not refused.
		if res := rawExchange(t, server.addr, "GET "+p+"/schedule.ics HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"); len(res) != 1 || res[0].StatusCode != 200 {
			t.Errorf("%s: a plain GET: %v", server.name, res)
		}
	}
}
