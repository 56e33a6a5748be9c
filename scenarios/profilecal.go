package scenarios

import (
	"math"

	"github.com/ambientsim/ambientsim/models"
	"github.com/ambientsim/ambientsim/scenarios/results"
)

// profileCalibration is the summary's record of a calibrated profile's
// calibration section (nil for a profile without one).
func profileCalibration(prof *models.Profile) *results.ProfileCalibration {
	if prof == nil || prof.Calibration == nil {
		return nil
	}
	f := prof.Calibration.Facts()
	pc := &results.ProfileCalibration{Machine: f.Machine, Date: f.Date, Revision: f.Revision, Design: f.Design, WorstFit: f.WorstFit}
	if f.WorstFit != "" && !math.IsNaN(f.WorstR2) {
		r := f.WorstR2
		pc.WorstR2 = &r
	}
	return pc
}

// calibrationAssumption states where a calibrated profile's numbers were
// measured, or "" for a profile without a calibration section.
func calibrationAssumption(prof *models.Profile) string {
	if prof == nil || prof.Calibration == nil {
		return ""
	}
	return "Profile " + prof.Name + " was " + prof.Calibration.Facts().String() +
		"; parameters it lists as not calibrated keep the base profile's values."
}
