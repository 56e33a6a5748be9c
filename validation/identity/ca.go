package identity

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"sync"
	"time"
)

// ErrNotOnNode is returned when a node asks for an identity that has no pod
// on that node.
var ErrNotOnNode = errors.New("identity has no pod on the requesting node")

// CA is a local mesh certificate authority with a self-signed ECDSA P-256 root.
type CA struct {
	trustDomain string
	maxTTL      time.Duration
	rootKey     *ecdsa.PrivateKey
	root        *x509.Certificate
	pool        *x509.CertPool
	placement   *Placement
	now         func() time.Time
}

// NewCA creates a CA for trustDomain whose leaves live at most maxTTL.
func NewCA(trustDomain string, maxTTL time.Duration) (*CA, error) {
	if trustDomain == "" {
		return nil, errors.New("new CA: empty trust domain")
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("new CA: generate root key: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{Organization: []string{trustDomain}, CommonName: "ambientsim root CA"},
		NotBefore:             now.Add(-time.Minute),
		NotAfter:              now.Add(10 * 365 * 24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("new CA: self-sign root: %w", err)
	}
	root, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("new CA: parse root: %w", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(root)
	return &CA{trustDomain: trustDomain, maxTTL: maxTTL, rootKey: key, root: root, pool: pool,
		placement: NewPlacement(), now: time.Now}, nil
}

// TrustDomain returns the CA's trust domain.
func (ca *CA) TrustDomain() string { return ca.trustDomain }

// Root returns the root certificate.
func (ca *CA) Root() *x509.Certificate { return ca.root }

// Roots returns a pool holding only the root, for peer verification.
func (ca *CA) Roots() *x509.CertPool { return ca.pool }

// Placement returns the pod-to-node table the CA consults for node requests.
func (ca *CA) Placement() *Placement { return ca.placement }

// Issue signs a fresh key pair for id valid for ttl (capped at the CA's max).
// It performs no node check: it is the CA's own privileged path.
func (ca *CA) Issue(id ID, ttl time.Duration) (*tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("issue %s: generate key: %w", id, err)
	}
	der, err := ca.sign(id, &key.PublicKey, ttl)
	if err != nil {
		return nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("issue %s: parse leaf: %w", id, err)
	}
	return &tls.Certificate{Certificate: [][]byte{der, ca.root.Raw}, PrivateKey: key, Leaf: leaf}, nil
}

func (ca *CA) sign(id ID, pub *ecdsa.PublicKey, ttl time.Duration) ([]byte, error) {
	if id.TrustDomain != ca.trustDomain {
		return nil, fmt.Errorf("issue %s: trust domain %q is not the CA's %q", id, id.TrustDomain, ca.trustDomain)
	}
	if ttl <= 0 || ttl > ca.maxTTL {
		ttl = ca.maxTTL
	}
	now := ca.now()
	// Backdate a little for clock skew, but never by a large share of a
	// short lifetime: rotation happens at half of NotAfter-NotBefore.
	backdate := min(time.Minute, ttl/10)
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{Organization: []string{ca.trustDomain}},
		NotBefore:    now.Add(-backdate),
		NotAfter:     now.Add(ttl),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		URIs:         []*url.URL{id.URL()},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.root, pub, ca.rootKey)
	if err != nil {
		return nil, fmt.Errorf("issue %s: sign: %w", id, err)
	}
	return der, nil
}

// Issuer obtains certificates for identities; it is what a proxy holds.
type Issuer interface {
	Issue(ctx context.Context, id ID, ttl time.Duration) (*tls.Certificate, error)
	Roots() *x509.CertPool
	TrustDomain() string
}

// NodeAuthorizer is an Issuer bound to one node: it signs only identities of
// pods placed on that node.
type NodeAuthorizer struct {
	ca   *CA
	node string
}

// ForNode returns the Issuer a node proxy on node uses.
func (ca *CA) ForNode(node string) *NodeAuthorizer { return &NodeAuthorizer{ca: ca, node: node} }

// Unrestricted returns an Issuer with no node check, for per-pod proxies
// (sidecars, waypoints) that act only as their own identity.
func (ca *CA) Unrestricted() Issuer { return unrestricted{ca} }

type unrestricted struct{ ca *CA }

func (u unrestricted) Issue(_ context.Context, id ID, ttl time.Duration) (*tls.Certificate, error) {
	return u.ca.Issue(id, ttl)
}
func (u unrestricted) Roots() *x509.CertPool { return u.ca.pool }
func (u unrestricted) TrustDomain() string   { return u.ca.trustDomain }

// Issue signs id if a pod with that identity runs on the authorizer's node.
func (n *NodeAuthorizer) Issue(_ context.Context, id ID, ttl time.Duration) (*tls.Certificate, error) {
	if !n.ca.placement.On(n.node, id) {
		return nil, fmt.Errorf("node %q asked for %s: %w", n.node, id, ErrNotOnNode)
	}
	return n.ca.Issue(id, ttl)
}

// Roots returns the mesh root pool.
func (n *NodeAuthorizer) Roots() *x509.CertPool { return n.ca.pool }

// TrustDomain returns the mesh trust domain.
func (n *NodeAuthorizer) TrustDomain() string { return n.ca.trustDomain }

// Placement records which identities have pods on which nodes.
type Placement struct {
	mu    sync.RWMutex
	nodes map[string]map[ID]int
}

// NewPlacement returns an empty placement table.
func NewPlacement() *Placement { return &Placement{nodes: map[string]map[ID]int{}} }

// Place records one pod with identity id on node.
func (p *Placement) Place(node string, id ID) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.nodes[node] == nil {
		p.nodes[node] = map[ID]int{}
	}
	p.nodes[node][id]++
}

// Remove forgets one pod with identity id on node.
func (p *Placement) Remove(node string, id ID) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if m := p.nodes[node]; m != nil {
		if m[id]--; m[id] <= 0 {
			delete(m, id)
		}
	}
}

// On reports whether a pod with identity id runs on node.
func (p *Placement) On(node string, id ID) bool {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.nodes[node][id] > 0
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		// crypto/rand never fails on supported platforms (Go 1.24+ crashes instead).
		return big.NewInt(time.Now().UnixNano())
	}
	return n
}
