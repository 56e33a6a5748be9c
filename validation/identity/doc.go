// Package identity is the mesh's certificate authority and workload identity
// layer for the validation data plane.
//
// A CA holds an ECDSA P-256 root and issues short-lived X.509 leaf
// certificates whose only URI SAN is a SPIFFE ID of the form
// spiffe://<trust-domain>/ns/<namespace>/sa/<service-account>, as Istio does.
// Node proxies do not hold the root key: they ask the CA for certificates
// through a NodeAuthorizer, which only signs identities of pods scheduled on
// the asking node (Istio's node authorisation for ztunnel). A Manager keeps
// one certificate per identity and rotates it at half of its lifetime.
//
// Usage story:
//
//	ca, _ := identity.NewCA("cluster.local", 24*time.Hour)
//	ca.Placement().Place("node-a", identity.MustParse("spiffe://cluster.local/ns/default/sa/client"))
//	mgr := identity.NewManager(ca.ForNode("node-a"), time.Hour)
//	cert, _ := mgr.Certificate(ctx, id) // issued once, renewed at half-life
//	srv := identity.ServerTLS(mgr, serverID)          // TLS 1.3, ALPN h2, client cert required, same trust domain
//	cli := identity.ClientTLS(mgr, clientID, expectedServerIDs...) // pins the server SAN
package identity
