package identity_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/ambientsim/ambientsim/validation/identity"
)

func TestCAServerNodeAuthorization(t *testing.T) {
	ca, err := identity.NewCA("cluster.local", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	client := identity.MustParse("spiffe://cluster.local/ns/default/sa/client")
	server := identity.MustParse("spiffe://cluster.local/ns/default/sa/server")
	wp := identity.MustParse("spiffe://cluster.local/ns/default/sa/waypoint")
	ca.Placement().Place("node-a", client)
	ca.Placement().Place("node-b", server)

	srv := httptest.NewUnstartedServer(ca.Handler())
	cfg, err := ca.ServerTLSForCA()
	if err != nil {
		t.Fatal(err)
	}
	srv.TLS = cfg
	srv.StartTLS()
	defer srv.Close()

	dir := t.TempDir()
	nodeCred, err := ca.IssueNode("node-a", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := identity.WriteCredential(filepath.Join(dir, "node-a.pem"), nodeCred); err != nil {
		t.Fatal(err)
	}
	if err := ca.WriteRoot(filepath.Join(dir, "root.pem")); err != nil {
		t.Fatal(err)
	}
	roots, err := identity.LoadRoots(filepath.Join(dir, "root.pem"))
	if err != nil {
		t.Fatal(err)
	}
	cred, err := identity.LoadCredential(filepath.Join(dir, "node-a.pem"))
	if err != nil {
		t.Fatal(err)
	}
	node := identity.NewRemoteIssuer(srv.URL, "cluster.local", roots, cred)
	defer node.Close()
	ctx := context.Background()
	c, err := node.Issue(ctx, client, 10*time.Minute)
	if err != nil {
		t.Fatalf("node-a for its own pod: %v", err)
	}
	if id, _ := identity.FromCertificate(mustLeaf(t, c.Certificate[0])); id != client {
		t.Fatalf("issued %v", id)
	}
	if _, err := node.Issue(ctx, server, 0); !errors.Is(err, identity.ErrNotOnNode) {
		t.Fatalf("node-a for node-b's pod: %v, want ErrNotOnNode", err)
	}

	wpCred, err := ca.Issue(wp, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	self := identity.NewRemoteIssuer(srv.URL, "cluster.local", roots, *wpCred)
	defer self.Close()
	if _, err := self.Issue(ctx, wp, 0); err != nil {
		t.Fatalf("workload for itself: %v", err)
	}
	if _, err := self.Issue(ctx, client, 0); err == nil {
		t.Fatal("workload obtained another identity")
	}
}
