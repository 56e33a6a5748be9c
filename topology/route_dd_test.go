package topology

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
)

func init() {
	ddExtraCommands["route"] = ddRoute
	ddExtraCommands["status"] = ddStatus
}

// ddRoute: route parent=Kind/ns/name [port=N] [method=M] [path=P] [host=H]
// [header=K:V ...] [query=K=V ...]
func ddRoute(t *testing.T, top *Topology, d *datadriven.TestData) string {
	kind, rest, _ := strings.Cut(ddArg(d, "parent"), "/")
	ns, name, _ := strings.Cut(rest, "/")
	port, _ := strconv.Atoi(ddArg(d, "port"))
	rt := top.RouteTable(RouteParent{Kind: kind, Namespace: ns, Name: name, Port: port})
	req := RouteRequest{Method: ddArg(d, "method"), Path: ddArg(d, "path"), Host: ddArg(d, "host"),
		Headers: ddHeaders(d, "header", ":"), Query: ddHeaders(d, "query", "=")}
	if req.Method == "" {
		req.Method = "GET"
	}
	return describeDecision(rt, rt.Match(req))
}

// describeDecision renders a decision the way a reviewer checks it.
func describeDecision(rt *RouteTable, dec RouteDecision) string {
	var b strings.Builder
	proto := "tcp"
	if rt.HTTP {
		proto = "http"
	}
	fmt.Fprintf(&b, "table %s (%s, port protocol %s): %s\n", rt.Parent, proto, noneIfEmpty(rt.Protocol), noneIfEmpty(strings.Join(rt.Sources, ", ")))
	switch {
	case dec.Route == "" && dec.Status == 0:
		b.WriteString("default route (no route attached)\n")
	case dec.Route == "":
		fmt.Fprintf(&b, "no rule matches: %d\n", dec.Status)
	default:
		fmt.Fprintf(&b, "matched %s rule %d", dec.Route, dec.Rule)
		if dec.RuleName != "" {
			fmt.Fprintf(&b, " (%s)", dec.RuleName)
		}
		if dec.Match >= 0 {
			fmt.Fprintf(&b, " match %d", dec.Match)
		}
		b.WriteString("\n")
		if dec.Status != 0 {
			fmt.Fprintf(&b, "status %d\n", dec.Status)
		}
	}
	for _, wb := range dec.Backends {
		target := "MISSING"
		if wb.Service != nil {
			target = wb.Service.ID()
		}
		sub := ""
		if wb.Ref.Subset != "" {
			sub = " subset " + wb.Ref.Subset
			var pods []string
			for _, p := range wb.Pods {
				pods = append(pods, p.Name)
			}
			switch {
			case wb.SubsetMissing:
				sub += " UNDEFINED (503)"
			case len(pods) == 0:
				sub += " pods none"
			default:
				sub += " pods " + strings.Join(pods, ",")
			}
		}
		fmt.Fprintf(&b, "backend %s:%d%s weight %d/%d (%s)\n", wb.Ref.Name, wb.Ref.Port, sub, wb.Weight, dec.TotalWeight, target)
	}
	for _, m := range dec.Mirrors {
		fmt.Fprintf(&b, "mirror %s/%s %g%%\n", m.Backend.Namespace, m.Backend.Name, m.Percent)
	}
	if h := dec.RequestHeaders; h != nil {
		fmt.Fprintf(&b, "request headers set %v add %v remove %v\n", h.Set, h.Add, h.Remove)
	}
	if h := dec.ResponseHeaders; h != nil {
		fmt.Fprintf(&b, "response headers set %v add %v remove %v\n", h.Set, h.Add, h.Remove)
	}
	if r := dec.Redirect; r != nil {
		fmt.Fprintf(&b, "redirect %d scheme=%s host=%s port=%d path=%s:%s\n", r.StatusCode, r.Scheme, r.Hostname, r.Port, r.PathType, r.Path)
	}
	if r := dec.Rewrite; r != nil {
		fmt.Fprintf(&b, "rewrite host=%s path=%s:%s\n", r.Hostname, r.PathType, r.Path)
	}
	if dec.Timeout > 0 {
		fmt.Fprintf(&b, "timeout %s\n", dec.Timeout)
	}
	rp := dec.Retry
	if rp.Attempts == 0 {
		b.WriteString("retry none\n")
	} else {
		fmt.Fprintf(&b, "retry %d on %s", rp.Attempts, strings.Join(rp.RetryOn, ","))
		if len(rp.Codes) > 0 {
			fmt.Fprintf(&b, " codes %v", rp.Codes)
		}
		if rp.PerTryTimeout > 0 {
			fmt.Fprintf(&b, " per-try %s", rp.PerTryTimeout)
		}
		if rp.Backoff > 0 {
			fmt.Fprintf(&b, " backoff %s", rp.Backoff)
		}
		if rp.RetryPreviousHosts {
			b.WriteString(" may-retry-tried-hosts")
		}
		b.WriteString("\n")
	}
	return b.String()
}

func ddStatus(t *testing.T, top *Topology, d *datadriven.TestData) string {
	var b strings.Builder
	for _, st := range append(top.GatewayStatuses(), top.RouteStatuses()...) {
		b.WriteString(formatStatus(st))
	}
	return b.String()
}

func formatStatus(st ObjectStatus) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", st.Kind, st.Object)
	if st.Parent != "" {
		fmt.Fprintf(&b, " parent %s", st.Parent)
	}
	b.WriteString("\n")
	if st.Note != "" {
		fmt.Fprintf(&b, "  no status: %s\n", st.Note)
	}
	for _, c := range st.Conditions {
		fmt.Fprintf(&b, "  %s=%v %s: %s\n", c.Type, c.Status, c.Reason, c.Message)
	}
	return b.String()
}
