package identity

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// CAPath is the HTTP path of the certificate endpoint.
const CAPath = "/v1/certificate"

// NodeProxySA is the service account node proxies authenticate as.
const NodeProxySA = "ztunnel"

// nodeDNSSuffix marks the DNS SAN that carries a node proxy's node name.
const nodeDNSSuffix = ".node.ambientsim"

// CertificateRequest asks the CA for a workload certificate.
type CertificateRequest struct {
	Identity   string `json:"identity"`
	TTLSeconds int64  `json:"ttlSeconds,omitempty"`
}

// CertificateResponse carries the issued chain (leaf first) and key, in PEM.
type CertificateResponse struct {
	CertChainPEM string `json:"certChainPEM"`
	KeyPEM       string `json:"keyPEM"`
}

// IssueNode issues a node proxy's bootstrap credential: identity
// spiffe://<td>/ns/istio-system/sa/ztunnel plus a DNS SAN naming the node,
// which the CA server reads to apply node authorization.
func (ca *CA) IssueNode(node string, ttl time.Duration) (*tls.Certificate, error) {
	c, err := ca.Issue(ID{TrustDomain: ca.trustDomain, Namespace: "istio-system", ServiceAccount: NodeProxySA}, ttl)
	if err != nil {
		return nil, err
	}
	// Re-sign with the node DNS name: Issue has no DNS names.
	leaf := *c.Leaf
	tmpl := &leaf
	tmpl.DNSNames = []string{node + nodeDNSSuffix}
	tmpl.SerialNumber = serial()
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.root, c.Leaf.PublicKey, ca.rootKey)
	if err != nil {
		return nil, fmt.Errorf("issue node credential for %s: %w", node, err)
	}
	parsed, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &tls.Certificate{Certificate: [][]byte{der, ca.root.Raw}, PrivateKey: c.PrivateKey, Leaf: parsed}, nil
}

// Handler serves certificate requests. The caller authenticates with mTLS:
// a node proxy credential may obtain identities of pods on its node; any
// other workload credential may obtain only its own identity.
func (ca *CA) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != CAPath {
			http.Error(w, "POST "+CAPath+" only", http.StatusNotFound)
			return
		}
		if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
			http.Error(w, "client certificate required", http.StatusUnauthorized)
			return
		}
		caller := r.TLS.PeerCertificates[0]
		callerID, err := FromCertificate(caller)
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		var req CertificateRequest
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&req); err != nil {
			http.Error(w, "bad request body: "+err.Error(), http.StatusBadRequest)
			return
		}
		id, err := Parse(req.Identity)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var cert *tls.Certificate
		switch node := nodeOf(caller, callerID, ca.trustDomain); {
		case node != "":
			cert, err = ca.ForNode(node).Issue(r.Context(), id, time.Duration(req.TTLSeconds)*time.Second)
		case id == callerID:
			cert, err = ca.Issue(id, time.Duration(req.TTLSeconds)*time.Second)
		default:
			err = fmt.Errorf("%s may not obtain %s", callerID, id)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
		chain, key, err := EncodePEM(cert)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(CertificateResponse{CertChainPEM: string(chain), KeyPEM: string(key)})
	})
}

func nodeOf(c *x509.Certificate, id ID, td string) string {
	if id != (ID{TrustDomain: td, Namespace: "istio-system", ServiceAccount: NodeProxySA}) {
		return ""
	}
	for _, d := range c.DNSNames {
		if n, ok := strings.CutSuffix(d, nodeDNSSuffix); ok && n != "" {
			return n
		}
	}
	return ""
}

// ServerTLSForCA is the CA endpoint's TLS config: it serves as
// spiffe://<td>/ns/istio-system/sa/istiod and requires a mesh client cert.
func (ca *CA) ServerTLSForCA() (*tls.Config, error) {
	c, err := ca.Issue(ID{TrustDomain: ca.trustDomain, Namespace: "istio-system", ServiceAccount: "istiod"}, 0)
	if err != nil {
		return nil, err
	}
	return &tls.Config{MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{*c},
		ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: ca.pool}, nil
}

// RemoteIssuer obtains certificates from a CA server over mTLS, presenting a
// bootstrap credential. It implements Issuer for proxies in other processes.
type RemoteIssuer struct {
	url    string
	td     string
	roots  *x509.CertPool
	client *http.Client
}

// NewRemoteIssuer returns an Issuer that asks the CA at url (https://host:port).
func NewRemoteIssuer(url, trustDomain string, roots *x509.CertPool, bootstrap tls.Certificate) *RemoteIssuer {
	istiod := ID{TrustDomain: trustDomain, Namespace: "istio-system", ServiceAccount: "istiod"}
	cfg := &tls.Config{
		MinVersion:         tls.VersionTLS13,
		Certificates:       []tls.Certificate{bootstrap},
		InsecureSkipVerify: true, // SPIFFE check below instead of hostnames
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			id, err := verifyChain(raw, roots, x509.ExtKeyUsageServerAuth)
			if err != nil {
				return err
			}
			if id != istiod {
				return fmt.Errorf("CA presented %s, want %s: %w", id, istiod, ErrWrongIdentity)
			}
			return nil
		},
	}
	return &RemoteIssuer{url: strings.TrimSuffix(url, "/"), td: trustDomain, roots: roots,
		client: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg}}}
}

// Issue asks the CA for id.
func (ri *RemoteIssuer) Issue(ctx context.Context, id ID, ttl time.Duration) (*tls.Certificate, error) {
	body, _ := json.Marshal(CertificateRequest{Identity: id.String(), TTLSeconds: int64(ttl / time.Second)})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ri.url+CAPath, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("certificate request for %s: %w", id, err)
	}
	resp, err := ri.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("certificate request for %s: %w", id, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("certificate request for %s: %w", id, err)
	}
	if resp.StatusCode != http.StatusOK {
		err := fmt.Errorf("CA answered %d: %s", resp.StatusCode, strings.TrimSpace(string(data)))
		if resp.StatusCode == http.StatusForbidden {
			err = errors.Join(err, ErrNotOnNode)
		}
		return nil, fmt.Errorf("certificate request for %s: %w", id, err)
	}
	var cr CertificateResponse
	if err := json.Unmarshal(data, &cr); err != nil {
		return nil, fmt.Errorf("certificate response for %s: %w", id, err)
	}
	c, err := tls.X509KeyPair([]byte(cr.CertChainPEM), []byte(cr.KeyPEM))
	if err != nil {
		return nil, fmt.Errorf("certificate response for %s: %w", id, err)
	}
	return &c, nil
}

// Roots returns the mesh root pool.
func (ri *RemoteIssuer) Roots() *x509.CertPool { return ri.roots }

// TrustDomain returns the mesh trust domain.
func (ri *RemoteIssuer) TrustDomain() string { return ri.td }

// Close releases idle connections to the CA.
func (ri *RemoteIssuer) Close() { ri.client.CloseIdleConnections() }

// EncodePEM returns the certificate chain and the private key in PEM.
func EncodePEM(c *tls.Certificate) (chain, key []byte, err error) {
	var cb bytes.Buffer
	for _, der := range c.Certificate {
		if err := pem.Encode(&cb, &pem.Block{Type: "CERTIFICATE", Bytes: der}); err != nil {
			return nil, nil, err
		}
	}
	kder, err := x509.MarshalPKCS8PrivateKey(c.PrivateKey)
	if err != nil {
		return nil, nil, fmt.Errorf("encode key: %w", err)
	}
	return cb.Bytes(), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), nil
}

// WriteCredential writes chain and key to path (one PEM file, mode 0600) atomically.
func WriteCredential(path string, c *tls.Certificate) error {
	chain, key, err := EncodePEM(c)
	if err != nil {
		return err
	}
	return writeAtomic(path, append(chain, key...), 0o600)
}

// LoadCredential reads a credential written by WriteCredential.
func LoadCredential(path string) (tls.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("load credential: %w", err)
	}
	c, err := tls.X509KeyPair(data, data)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("load credential %s: %w", path, err)
	}
	return c, nil
}

// WriteRoot writes the root certificate in PEM to path atomically.
func (ca *CA) WriteRoot(path string) error {
	return writeAtomic(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.root.Raw}), 0o644)
}

// LoadRoots reads a PEM root file into a pool.
func LoadRoots(path string) (*x509.CertPool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load roots: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("load roots %s: no PEM certificate found", path)
	}
	return pool, nil
}

func writeAtomic(path string, data []byte, mode os.FileMode) error {
	// 0700: the directory holds private keys.
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
