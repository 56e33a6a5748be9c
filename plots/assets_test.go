package plots

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"strings"
	"testing"
)

// TestEmbeddedECharts pins the inlined library: the digest recorded in
// assets.go, the version, its licence files beside it, and nothing in it
// that could end the inline <script> element early.
func TestEmbeddedECharts(t *testing.T) {
	sum := sha256.Sum256([]byte(echartsJS))
	if got := hex.EncodeToString(sum[:]); got != EChartsSHA256 {
		t.Errorf("assets/echarts.min.js sha256 = %s, assets.go records %s: update both together", got, EChartsSHA256)
	}
	if !strings.Contains(echartsJS, `version="`+EChartsVersion+`"`) {
		t.Errorf("assets/echarts.min.js does not declare version %s", EChartsVersion)
	}
	for _, bad := range []string{"</script", "<!--", "<script"} {
		if strings.Contains(strings.ToLower(echartsJS), bad) {
			t.Errorf("assets/echarts.min.js contains %q, which would break inlining", bad)
		}
	}
	for _, f := range []string{"assets/LICENSE", "assets/NOTICE"} {
		b, err := os.ReadFile(f)
		if err != nil || len(b) == 0 {
			t.Errorf("%s missing: Apache-2.0 requires it beside the redistributed file (%v)", f, err)
		}
	}
	if !strings.Contains(echartsNotice, "Apache ECharts") {
		t.Errorf("NOTICE does not name Apache ECharts: %q", echartsNotice)
	}
}
