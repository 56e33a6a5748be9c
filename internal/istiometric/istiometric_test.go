package istiometric

import (
	"slices"
	"strings"
	"testing"
)

func TestLabelSets(t *testing.T) {
	h, tcp, etcp := HTTPLabels(), TCPLabels(), EnvoyTCPLabels()
	if len(h) != 25 || len(tcp) != 27 || len(etcp) != 23 {
		t.Fatalf("label counts http %d tcp %d envoy tcp %d, want 25 27 23", len(h), len(tcp), len(etcp))
	}
	for _, set := range [][]string{h, tcp, etcp} {
		seen := map[string]bool{}
		for _, l := range set {
			if seen[l] || l != strings.ToLower(l) {
				t.Errorf("label %q repeated or not lower case", l)
			}
			seen[l] = true
		}
		if set[0] != "reporter" {
			t.Errorf("first label %q, want reporter", set[0])
		}
	}
	if slices.Contains(etcp, LabelResponseCode) || slices.Contains(tcp, LabelGRPCResponseStatus) {
		t.Error("TCP labels carry HTTP-only labels")
	}
	// Copies: a caller appending "mode" changes no other caller's list.
	a := append(HTTPLabels(), "mode")
	if slices.Contains(HTTPLabels(), "mode") || len(a) != 26 {
		t.Error("HTTPLabels is not a copy")
	}
	if !slices.IsSorted(DurationBucketsMs) || len(DurationBucketsMs) != 19 {
		t.Error("duration buckets")
	}
}
