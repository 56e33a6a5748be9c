package identity

import (
	"crypto/x509"
	"fmt"
	"net/url"
	"strings"
)

// ID is a parsed SPIFFE workload identity
// spiffe://<TrustDomain>/ns/<Namespace>/sa/<ServiceAccount>.
type ID struct {
	TrustDomain    string
	Namespace      string
	ServiceAccount string
}

// String formats the identity as a SPIFFE URI.
func (id ID) String() string {
	return "spiffe://" + id.TrustDomain + "/ns/" + id.Namespace + "/sa/" + id.ServiceAccount
}

// IsZero reports whether id is the zero identity.
func (id ID) IsZero() bool { return id == ID{} }

// URL returns the identity as a URL for use as a certificate URI SAN.
func (id ID) URL() *url.URL {
	return &url.URL{Scheme: "spiffe", Host: id.TrustDomain, Path: "/ns/" + id.Namespace + "/sa/" + id.ServiceAccount}
}

// Parse parses a SPIFFE URI of exactly the shape Istio uses; any other shape
// is rejected, as ztunnel's Identity::from_str does.
func Parse(s string) (ID, error) {
	rest, ok := strings.CutPrefix(s, "spiffe://")
	if !ok {
		return ID{}, fmt.Errorf("identity %q: want prefix spiffe://", s)
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 5 || parts[1] != "ns" || parts[3] != "sa" {
		return ID{}, fmt.Errorf("identity %q: want spiffe://<trust-domain>/ns/<namespace>/sa/<service-account>", s)
	}
	for i, p := range []string{parts[0], parts[2], parts[4]} {
		if p == "" {
			return ID{}, fmt.Errorf("identity %q: empty %s", s, [...]string{"trust domain", "namespace", "service account"}[i])
		}
	}
	return ID{TrustDomain: parts[0], Namespace: parts[2], ServiceAccount: parts[4]}, nil
}

// MustParse is Parse for identities written in code; it panics on error.
func MustParse(s string) ID {
	id, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return id
}

// FromCertificate extracts the single SPIFFE identity of a leaf certificate.
func FromCertificate(c *x509.Certificate) (ID, error) {
	var found []ID
	for _, u := range c.URIs {
		if u.Scheme != "spiffe" {
			continue
		}
		id, err := Parse(u.String())
		if err != nil {
			return ID{}, err
		}
		found = append(found, id)
	}
	if len(found) != 1 {
		return ID{}, fmt.Errorf("certificate %q: want exactly one SPIFFE URI SAN, found %d", c.Subject.CommonName, len(found))
	}
	return found[0], nil
}
