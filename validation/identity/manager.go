package identity

import (
	"context"
	"crypto/tls"
	"fmt"
	"sync"
	"time"
)

// Manager caches one certificate per identity and renews it once half of its
// lifetime has passed, as Istio's secret manager does. Renewal happens lazily
// on the next Certificate call after the half-life, so a TLS handshake always
// gets a certificate with at least half its lifetime left.
type Manager struct {
	issuer Issuer
	ttl    time.Duration
	now    func() time.Time

	mu    sync.Mutex
	certs map[ID]*tls.Certificate
	// Rotations counts renewals of an already issued identity (for tests and metrics).
	rotations int
}

// NewManager returns a Manager that asks issuer for certificates valid for ttl.
func NewManager(issuer Issuer, ttl time.Duration) *Manager {
	return &Manager{issuer: issuer, ttl: ttl, now: time.Now, certs: map[ID]*tls.Certificate{}}
}

// Issuer returns the issuer the manager asks.
func (m *Manager) Issuer() Issuer { return m.issuer }

// Certificate returns a valid certificate for id, issuing or rotating it as needed.
func (m *Manager) Certificate(ctx context.Context, id ID) (*tls.Certificate, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.certs[id]
	if ok && !m.dueLocked(c) {
		return c, nil
	}
	fresh, err := m.issuer.Issue(ctx, id, m.ttl)
	if err != nil {
		if ok && m.now().Before(c.Leaf.NotAfter) {
			// Keep serving the old certificate until it expires, as istio-agent does.
			return c, nil
		}
		return nil, fmt.Errorf("certificate for %s: %w", id, err)
	}
	if ok {
		m.rotations++
	}
	m.certs[id] = fresh
	return fresh, nil
}

// Rotations returns how many certificates were renewed (not first issues).
func (m *Manager) Rotations() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.rotations
}

// RenewAt returns the time at which c becomes due for rotation: half-way
// between NotBefore and NotAfter.
func RenewAt(c *tls.Certificate) time.Time {
	life := c.Leaf.NotAfter.Sub(c.Leaf.NotBefore)
	return c.Leaf.NotBefore.Add(life / 2)
}

func (m *Manager) dueLocked(c *tls.Certificate) bool { return !m.now().Before(RenewAt(c)) }

// SetClock replaces the manager's clock (tests use it to jump past half-life).
func (m *Manager) SetClock(now func() time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.now = now
}
