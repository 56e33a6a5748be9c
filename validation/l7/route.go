package l7

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"

	"github.com/ambientsim/ambientsim/validation/mesh"
)

// ErrNoRoute is returned when no rule matches a request.
var ErrNoRoute = errors.New("no route matched")

// Decision is the outcome of routing one request.
type Decision struct {
	Rule    *mesh.RouteRule   // nil for the implicit default route
	Service *mesh.ServiceInfo // chosen backend service
	Port    uint16            // backend service port
}

// Route picks the backend for a request to svc:port. Services without an
// HTTPRoute get the implicit default route to themselves (as Istio does).
// Among matching rules the first wins; among its backends one is drawn at
// random in proportion to weight (rnd may be nil for the global source).
func Route(ix *mesh.Index, svc *mesh.ServiceInfo, port uint16, r *http.Request, rnd *rand.Rand) (Decision, error) {
	var routes []*mesh.Route
	for i := range ix.Mesh.Routes {
		rt := &ix.Mesh.Routes[i]
		if mesh.Qualify(rt.Service, rt.Namespace) == svc.Key {
			routes = append(routes, rt)
		}
	}
	if len(routes) == 0 {
		return Decision{Service: svc, Port: port}, nil
	}
	for _, rt := range routes {
		for i := range rt.Rules {
			rule := &rt.Rules[i]
			if !ruleSelects(rule, r) {
				continue
			}
			b, err := pickBackend(rule.Backends, rnd)
			if err != nil {
				return Decision{}, fmt.Errorf("route %s/%s rule %d: %w", rt.Namespace, rt.Name, i, err)
			}
			bs, ok := ix.Service(mesh.Qualify(b.Service, rt.Namespace))
			if !ok {
				return Decision{}, fmt.Errorf("route %s/%s: backend %q: %w", rt.Namespace, rt.Name, b.Service, ErrNoRoute)
			}
			bp := b.Port
			if bp == 0 {
				bp = port
			}
			return Decision{Rule: rule, Service: bs, Port: bp}, nil
		}
	}
	return Decision{}, ErrNoRoute
}

func ruleSelects(rule *mesh.RouteRule, r *http.Request) bool {
	if len(rule.Matches) == 0 {
		return true
	}
	for _, m := range rule.Matches {
		if Matches(m, r.Method, r.URL.Path, r.Header) {
			return true
		}
	}
	return false
}

// Matches reports whether a request with method, path and header satisfies
// m. Path prefixes match whole segments, as Gateway API PathPrefix does.
func Matches(m mesh.RouteMatch, method, path string, h http.Header) bool {
	if m.Method != "" && m.Method != method {
		return false
	}
	if m.PathExact != "" && path != m.PathExact {
		return false
	}
	if p := m.PathPrefix; p != "" && p != "/" {
		p = strings.TrimSuffix(p, "/")
		if path != p && !strings.HasPrefix(path, p+"/") {
			return false
		}
	}
	for k, v := range m.Headers {
		if h.Get(k) != v {
			return false
		}
	}
	return true
}

func pickBackend(bs []mesh.Backend, rnd *rand.Rand) (mesh.Backend, error) {
	total := 0
	for _, b := range bs {
		total += weight(b)
	}
	if total == 0 {
		return mesh.Backend{}, errors.New("no backend with positive weight")
	}
	var n int
	if rnd != nil {
		n = rnd.IntN(total)
	} else {
		n = rand.IntN(total)
	}
	for _, b := range bs {
		if n < weight(b) {
			return b, nil
		}
		n -= weight(b)
	}
	return bs[len(bs)-1], nil
}

func weight(b mesh.Backend) int {
	if b.Weight < 0 {
		return 0
	}
	if b.Weight == 0 {
		return 1
	}
	return b.Weight
}
