package identity_test

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/ambientsim/ambientsim/validation/identity"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"spiffe://cluster.local/ns/default/sa/client", true},
		{"spiffe://td/ns/a/sa/b", true},
		{"spiffe://cluster.local/ns/default/sa/", false},
		{"spiffe://cluster.local/ns/default", false},
		{"spiffe://cluster.local/sa/x/ns/y", false},
		{"https://cluster.local/ns/default/sa/client", false},
		{"spiffe:///ns/a/sa/b", false},
		{"spiffe://td/ns/a/sa/b/extra", false},
	} {
		id, err := identity.Parse(tc.in)
		if (err == nil) != tc.ok {
			t.Errorf("Parse(%q) = %v, %v; ok want %v", tc.in, id, err, tc.ok)
		}
		if err == nil && id.String() != tc.in {
			t.Errorf("round trip %q → %q", tc.in, id.String())
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add("spiffe://cluster.local/ns/default/sa/client")
	f.Add("spiffe://a/ns//sa/b")
	f.Fuzz(func(t *testing.T, s string) {
		id, err := identity.Parse(s)
		if err != nil {
			return
		}
		back, err := identity.Parse(id.String())
		if err != nil || back != id {
			t.Fatalf("%q parsed to %+v which does not round-trip: %v", s, id, err)
		}
	})
}

func TestIssuedCertificate(t *testing.T) {
	ca, err := identity.NewCA("cluster.local", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	id := identity.MustParse("spiffe://cluster.local/ns/default/sa/client")
	c, err := ca.Issue(id, 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	got, err := identity.FromCertificate(c.Leaf)
	if err != nil || got != id {
		t.Fatalf("SAN = %v, %v", got, err)
	}
	if life := c.Leaf.NotAfter.Sub(time.Now()); life > 11*time.Minute || life < 9*time.Minute {
		t.Errorf("lifetime %v, want about 10m", life)
	}
	if _, err := ca.Issue(identity.MustParse("spiffe://other.td/ns/a/sa/b"), 0); err == nil {
		t.Error("issued a certificate in a foreign trust domain")
	}
}

func TestNodeAuthorization(t *testing.T) {
	ca, err := identity.NewCA("cluster.local", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	mine := identity.MustParse("spiffe://cluster.local/ns/default/sa/client")
	theirs := identity.MustParse("spiffe://cluster.local/ns/default/sa/server")
	ca.Placement().Place("node-a", mine)
	ca.Placement().Place("node-b", theirs)
	na := ca.ForNode("node-a")
	if _, err := na.Issue(context.Background(), mine, 0); err != nil {
		t.Fatalf("own pod: %v", err)
	}
	if _, err := na.Issue(context.Background(), theirs, 0); !errors.Is(err, identity.ErrNotOnNode) {
		t.Fatalf("other node's pod: err = %v, want ErrNotOnNode", err)
	}
	ca.Placement().Remove("node-a", mine)
	if _, err := na.Issue(context.Background(), mine, 0); !errors.Is(err, identity.ErrNotOnNode) {
		t.Fatalf("after the pod left: err = %v, want ErrNotOnNode", err)
	}
}

func TestManagerRotatesAtHalfLife(t *testing.T) {
	ca, err := identity.NewCA("cluster.local", 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	id := identity.MustParse("spiffe://cluster.local/ns/default/sa/client")
	m := identity.NewManager(ca.Unrestricted(), 2*time.Hour)
	now := time.Now()
	m.SetClock(func() time.Time { return now })
	first, err := m.Certificate(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	renew := identity.RenewAt(first)
	if d := renew.Sub(first.Leaf.NotBefore); d != first.Leaf.NotAfter.Sub(first.Leaf.NotBefore)/2 {
		t.Fatalf("renew at %v after NotBefore, want half of the lifetime", d)
	}
	now = renew.Add(-time.Second)
	if c, _ := m.Certificate(context.Background(), id); c != first || m.Rotations() != 0 {
		t.Fatal("rotated before half-life")
	}
	now = renew.Add(time.Second)
	c, err := m.Certificate(context.Background(), id)
	if err != nil || c == first || m.Rotations() != 1 {
		t.Fatalf("not rotated after half-life: same=%v rotations=%d err=%v", c == first, m.Rotations(), err)
	}
}

func ExampleParse() {
	id, err := identity.Parse("spiffe://cluster.local/ns/default/sa/client")
	fmt.Println(id.Namespace, id.ServiceAccount, err)
	// Output: default client <nil>
}

func mustLeaf(t *testing.T, der []byte) *x509.Certificate {
	t.Helper()
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
