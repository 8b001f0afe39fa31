package irc

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"net"
	"sync"
	"time"
)

// wireConn is the bot's socket under girc. girc answers CTCP queries
// itself (and with an error for any query it has no handler for), outside
// hallway's pacing, and offers no way to turn that off: a CTCP flood made
// the bot flood the server and get killed. So CTCP replies girc writes are
// dropped here; hallway answers CTCPs through its send queue instead, with
// writeRaw.
type wireConn struct {
	net.Conn
	mu      sync.Mutex
	partial []byte
}

func (w *wireConn) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.partial = append(w.partial, p...)
	var out []byte
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		if line := w.partial[:i+1]; !isCTCPReply(line) {
			out = append(out, line...)
		}
		w.partial = w.partial[i+1:]
	}
	if len(w.partial) == 0 {
		w.partial = nil
	}
	if len(out) > 0 {
		if _, err := w.Conn.Write(out); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// writeRaw writes one line as is.
func (w *wireConn) writeRaw(line string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	_ = w.Conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	_, err := w.Conn.Write([]byte(line + "\r\n"))
	_ = w.Conn.SetWriteDeadline(time.Time{})
	return err
}

// isCTCPReply tells a CTCP reply: [@tags] [:prefix] NOTICE target :\x01...
func isCTCPReply(line []byte) bool {
	rest := line
	for len(rest) > 0 && (rest[0] == '@' || rest[0] == ':') {
		sp := bytes.IndexByte(rest, ' ')
		if sp < 0 {
			return false
		}
		rest = bytes.TrimLeft(rest[sp:], " ")
	}
	cmd, rest, _ := bytes.Cut(rest, []byte(" "))
	if !bytes.EqualFold(cmd, []byte("NOTICE")) {
		return false
	}
	_, text, ok := bytes.Cut(rest, []byte(" :"))
	return ok && len(text) > 0 && text[0] == 1
}

// wireDialer connects girc through a wireConn, doing TLS itself so the
// filter sees plain lines.
type wireDialer struct{ c *Client }

func (d *wireDialer) Dial(network, addr string) (net.Conn, error) {
	nd := net.Dialer{Timeout: 10 * time.Second}
	conn, err := nd.Dial(network, addr)
	if err != nil {
		return nil, err
	}
	if d.c.opts.TLS {
		cfg := &tls.Config{ServerName: d.c.opts.Server}
		if d.c.opts.TLSConfig != nil {
			cfg = d.c.opts.TLSConfig.Clone()
			if cfg.ServerName == "" {
				cfg.ServerName = d.c.opts.Server
			}
		}
		tc := tls.Client(conn, cfg)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return nil, err
		}
		conn = tc
	}
	w := &wireConn{Conn: conn}
	d.c.mu.Lock()
	d.c.wire = w
	d.c.mu.Unlock()
	return w, nil
}

// writeRaw writes a line on the current connection, past the CTCP filter.
func (c *Client) writeRaw(line string) error {
	c.mu.Lock()
	w := c.wire
	c.mu.Unlock()
	if w == nil {
		return errors.New("not connected")
	}
	return w.writeRaw(line)
}
