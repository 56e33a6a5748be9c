package sim

import "testing"

// TestHashStringAndMix64 pins the seed-derivation primitives to their
// published reference values (FNV-1a 64 test vectors; SplitMix64's
// finaliser), since every stream and sweep seed depends on them.
func TestHashStringAndMix64(t *testing.T) {
	hashes := []struct {
		in   string
		want uint64
	}{
		{"", 0xcbf29ce484222325},
		{"a", 0xaf63dc4c8601ec8c},
		{"foobar", 0x85944171f73967e8},
	}
	for _, tt := range hashes {
		if got := HashString(tt.in); got != tt.want {
			t.Errorf("HashString(%q) = %#x, want %#x", tt.in, got, tt.want)
		}
	}
	mixes := []struct{ in, want uint64 }{
		{0, 0},
		{1, 0x5692161d100b05e5},
		{GoldenGamma, 0xe220a8397b1dcdaf},
	}
	for _, tt := range mixes {
		if got := Mix64(tt.in); got != tt.want {
			t.Errorf("Mix64(%#x) = %#x, want %#x", tt.in, got, tt.want)
		}
	}
}
