package identity

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
)

// ALPNH2 is the only ALPN protocol HBONE speaks.
const ALPNH2 = "h2"

// ErrWrongIdentity is returned by verification when the peer is not one of
// the expected identities.
var ErrWrongIdentity = errors.New("peer identity not expected")

// ServerTLS returns the TLS config of an HBONE server acting as self:
// TLS 1.3 only, ALPN h2, a client certificate is required and must chain to
// the mesh root and be in the server's trust domain (ztunnel's
// TrustDomainVerifier); which identity connected is left to authorization.
func ServerTLS(m *Manager, self ID) *tls.Config {
	return ServerTLSFor(m, func(*tls.ClientHelloInfo) (ID, error) { return self, nil })
}

// ServerTLSFor is ServerTLS where the serving identity is chosen per
// handshake (a node proxy serves as the destination pod).
func ServerTLSFor(m *Manager, pick func(*tls.ClientHelloInfo) (ID, error)) *tls.Config {
	roots := m.issuer.Roots()
	td := m.issuer.TrustDomain()
	return &tls.Config{
		MinVersion:             tls.VersionTLS13,
		MaxVersion:             tls.VersionTLS13,
		NextProtos:             []string{ALPNH2},
		ClientAuth:             tls.RequireAnyClientCert,
		SessionTicketsDisabled: true,
		// Full 16 KiB records from the first byte: a proxy tunnel carries
		// bulk data, and Go's slow start (1 KiB records for the first
		// 128 KiB) only adds records, seals and syscalls.
		DynamicRecordSizingDisabled: true,
		GetCertificate: func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
			id, err := pick(hello)
			if err != nil {
				return nil, err
			}
			return m.Certificate(hello.Context(), id)
		},
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			id, err := verifyChain(raw, roots, x509.ExtKeyUsageClientAuth)
			if err != nil {
				return err
			}
			if id.TrustDomain != td {
				return fmt.Errorf("client %s: trust domain %q, want %q: %w", id, id.TrustDomain, td, ErrWrongIdentity)
			}
			return nil
		},
	}
}

// ClientTLS returns the TLS config of an HBONE client acting as self that
// accepts only servers presenting one of expected (ztunnel's upstream SANs).
// No SNI is sent and session resumption is off, as ztunnel does.
func ClientTLS(m *Manager, self ID, expected ...ID) *tls.Config {
	roots := m.issuer.Roots()
	want := slices.Clone(expected)
	return &tls.Config{
		MinVersion:                  tls.VersionTLS13,
		MaxVersion:                  tls.VersionTLS13,
		NextProtos:                  []string{ALPNH2},
		InsecureSkipVerify:          true, // replaced by VerifyPeerCertificate: SPIFFE SANs, not hostnames
		SessionTicketsDisabled:      true,
		DynamicRecordSizingDisabled: true, // full records, as in ServerTLSFor
		GetClientCertificate: func(info *tls.CertificateRequestInfo) (*tls.Certificate, error) {
			return m.Certificate(info.Context(), self)
		},
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			id, err := verifyChain(raw, roots, x509.ExtKeyUsageServerAuth)
			if err != nil {
				return err
			}
			if !slices.Contains(want, id) {
				return fmt.Errorf("server presented %s, want one of %v: %w", id, want, ErrWrongIdentity)
			}
			return nil
		},
	}
}

// PeerID returns the SPIFFE identity of the peer of a completed handshake.
func PeerID(cs tls.ConnectionState) (ID, error) {
	if len(cs.PeerCertificates) == 0 {
		return ID{}, errors.New("peer presented no certificate")
	}
	return FromCertificate(cs.PeerCertificates[0])
}

func verifyChain(raw [][]byte, roots *x509.CertPool, usage x509.ExtKeyUsage) (ID, error) {
	if len(raw) == 0 {
		return ID{}, errors.New("peer presented no certificate")
	}
	certs := make([]*x509.Certificate, len(raw))
	for i, r := range raw {
		c, err := x509.ParseCertificate(r)
		if err != nil {
			return ID{}, fmt.Errorf("parse peer certificate %d: %w", i, err)
		}
		certs[i] = c
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	if _, err := certs[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{usage}}); err != nil {
		return ID{}, fmt.Errorf("verify peer chain: %w", err)
	}
	return FromCertificate(certs[0])
}
