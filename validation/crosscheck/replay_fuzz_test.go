package crosscheck

import (
	"os"
	"strings"
	"testing"
	"time"
)

// FuzzDecodeReplay: whatever a validation.json holds, `validate --replay`
// decodes it and compares its measurements (here with themselves, which
// exercises the same arithmetic on the recorded numbers as comparing them
// with predictions) or fails with an error naming the file, never a panic.
func FuzzDecodeReplay(f *testing.F) {
	for _, cpu := range []float64{0, 0.5} {
		b, err := os.ReadFile(fakeReport(f, 2*time.Second, cpu))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"load_duration_s": 4, "measurements": [{"Experiment": "x"}]}`))
	f.Add([]byte(`{"load_duration_s": 1e300, "measurements": [null]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		old, meas, scs, err := decodeReplay("v.json", data, nil)
		if err != nil {
			if !strings.Contains(err.Error(), "v.json") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		var rows []Row
		for i, sc := range scs {
			if len(meas[i]) > 0 {
				rows = append(rows, CompareRuns(sc, meas[i][0], meas[i])...)
			}
		}
		_ = Summarize(rows)
		_ = old
	})
}
