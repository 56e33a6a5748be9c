package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/ambientsim/ambientsim/validation/crosscheck"
)

// TestPrintValidationShowsCalibration: the terminal summary of a
// validation names a calibrated profile's machine, date and fit quality.
func TestPrintValidationShowsCalibration(t *testing.T) {
	rep := &crosscheck.Report{Profile: crosscheck.ProfileInfo{Name: "m", Provenance: "calibrated on X",
		Calibration: "calibrated 2026-11-25 on 2 × CPU, Linux 6.1, data plane abc, worst fit R² 0.9712 (latency_p50)"}}
	var b bytes.Buffer
	printValidation(&b, rep, time.Second)
	if !strings.Contains(b.String(), "profile calibrated 2026-11-25 on 2 × CPU") {
		t.Errorf("output lacks the calibration facts:\n%s", b.String())
	}
	rep.Profile.Calibration = ""
	b.Reset()
	printValidation(&b, rep, time.Second)
	if strings.Contains(b.String(), "worst fit") {
		t.Errorf("published profile output shows calibration facts:\n%s", b.String())
	}
}
