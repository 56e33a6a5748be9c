package calibrate

import (
	"encoding/json"
	"strings"
	"testing"
)

// FuzzDecodeRecord: whatever a NAME.calibration.json holds, `calibrate
// --refit` decodes it or fails with an error naming the file, never a
// panic, and a record it accepts has one observation per design step.
func FuzzDecodeRecord(f *testing.F) {
	for _, size := range []Size{SizeQuick, SizeFull} {
		d, err := NewDesign(size)
		if err != nil {
			f.Fatal(err)
		}
		var rec record
		rec.Fit.Design = d
		for _, st := range d.Steps {
			rec.Fit.Observations = append(rec.Fit.Observations, Observation{Step: st, Name: st.Name(), WindowS: 2,
				CPUSeconds: map[string]float64{"ztunnel": 0.1, "waypoint": 0.2}, Procs: map[string]int{"ztunnel": 2}})
		}
		rec.NotEmulated = []string{"x"}
		js, err := json.Marshal(rec)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(js)
	}
	f.Add([]byte(`{"fit": {"design": {"steps": [{}], "duration_ns": -1}, "observations": [{}]}}`))
	f.Add([]byte(`{`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rec, err := decodeRecord("r.calibration.json", data)
		if err != nil {
			if !strings.Contains(err.Error(), "r.calibration.json") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if len(rec.Fit.Observations) != len(rec.Fit.Design.Steps) || len(rec.Fit.Design.Steps) == 0 {
			t.Fatalf("accepted %d observations for %d steps", len(rec.Fit.Observations), len(rec.Fit.Design.Steps))
		}
		for _, st := range rec.Fit.Design.Steps {
			_ = st.Name()
		}
	})
}
