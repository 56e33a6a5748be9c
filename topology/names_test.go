package topology

import (
	"strings"
	"testing"
)

func TestNameRules(t *testing.T) {
	tests := []struct {
		rule, name string
		ok         bool
	}{
		{ruleDNS1123Label, "a", true},
		{ruleDNS1123Label, "payments-api-2", true},
		{ruleDNS1123Label, "9lives", true},
		{ruleDNS1123Label, strings.Repeat("a", 63), true},
		{ruleDNS1123Label, strings.Repeat("a", 64), false},
		{ruleDNS1123Label, "a.b", false},
		{ruleDNS1123Label, "-a", false},
		{ruleDNS1123Label, "a-", false},
		{ruleDNS1123Label, "A", false},
		{ruleDNS1123Label, "", false},
		{ruleDNS1035Label, "api", true},
		{ruleDNS1035Label, "9lives", false},
		{ruleDNS1123Subdomain, "istio-ingressgateway.v1", true},
		{ruleDNS1123Subdomain, "a..b", false},
		{ruleDNS1123Subdomain, "a.-b", false},
		{ruleDNS1123Subdomain, strings.Repeat("a.", 126) + "a", true},
		{ruleDNS1123Subdomain, strings.Repeat("a.", 127), false},
		{ruleDNS1123Subdomain, "a|b", false},
		{ruleDNS1123Subdomain, "<b>", false},
	}
	for _, tc := range tests {
		why := checkName(tc.rule, tc.name)
		if (why == "") != tc.ok {
			t.Errorf("%s %q: ok=%v, want %v (%s)", tc.rule, tc.name, why == "", tc.ok, why)
		}
	}
	labels := []struct {
		key, value string
		ok         bool
	}{
		{"app", "web", true},
		{"istio.io/dataplane-mode", "ambient", true},
		{"app.kubernetes.io/name", "Web_1.2", true},
		{"kubernetes.io/metadata.name", "", true},
		{"istio.io/", "x", false},
		{"Istio.io/rev", "x", false},
		{"a/b/c", "x", false},
		{"app", "-web", false},
		{"app", strings.Repeat("v", 64), false},
		{"app", "a|b", false},
	}
	for _, tc := range labels {
		why := checkLabelKey(tc.key)
		if why == "" {
			why = checkLabelValue(tc.value)
		}
		if (why == "") != tc.ok {
			t.Errorf("label %q=%q: ok=%v, want %v (%s)", tc.key, tc.value, why == "", tc.ok, why)
		}
	}
}
