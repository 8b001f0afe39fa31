package mail

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"log"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// testCert makes a self-signed certificate for 127.0.0.1 and a pool that
// trusts it.
func testCert(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "smtp.test"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

func TestSenderTLS(t *testing.T) {
	for _, tc := range []struct {
		name     string
		security string
		implicit bool
	}{
		{"starttls", SecuritySTARTTLS, false},
		{"implicit tls", SecurityTLS, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			box := openStore(t, nil)
			f := &fakeSMTP{auth: &[2]string{"bot", "s3cret"}}
			cert, pool := testCert(t)
			srv := startTLSServer(t, f, tc.implicit, cert)
			enqueue(t, box, "a@test.local", "b@test.local")

			// An unknown certificate is refused.
			untrusted := newTestSender(t, box, srv.addr, nil, func(o *SenderOptions) {
				o.Security, o.Username, o.Password = tc.security, "bot", "s3cret"
			})
			if err := untrusted.drain(context.Background()); err == nil || !strings.Contains(err.Error(), "certificate") {
				t.Fatalf("untrusted certificate: %v", err)
			}

			s := newTestSender(t, box, srv.addr, nil, func(o *SenderOptions) {
				o.Security, o.Username, o.Password = tc.security, "bot", "s3cret"
				o.TLSConfig = &tls.Config{RootCAs: pool}
				o.Connections = 1
			})
			if err := s.drain(context.Background()); err != nil {
				t.Fatal(err)
			}
			if st, ok := s.lanes[0].client.TLSConnectionState(); !ok || !st.HandshakeComplete {
				t.Error("not over TLS")
			}
			s.hangUp()
			f.mu.Lock()
			defer f.mu.Unlock()
			if len(f.received) != 2 || len(f.authed) != 1 {
				t.Fatalf("received %d, logins %v", len(f.received), f.authed)
			}
		})
	}
}

// startTLSServer runs the fake server with cert: implicit TLS if
// implicit, else offering STARTTLS. AUTH is refused before TLS
// (AllowInsecureAuth is false).
func startTLSServer(t *testing.T, f *fakeSMTP, implicit bool, cert tls.Certificate) *fakeSMTP {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.addr = l.Addr().String()
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		f.mu.Lock()
		f.conns++
		f.mu.Unlock()
		return &fakeSession{f: f, conn: c}, nil
	}))
	srv.Domain = "smtp.test"
	srv.ErrorLog = log.New(io.Discard, "", 0)
	srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
	if implicit {
		l = tls.NewListener(l, srv.TLSConfig)
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return f
}
