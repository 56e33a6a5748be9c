package models_test

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/ambientsim/ambientsim/models"
)

// A calibrated profile carries a calibration section; Facts summarises
// it for reports, and ParseProfile checks it with file:line errors.
func ExampleCalibration_Facts() {
	p, err := models.LoadProfile("")
	if err != nil {
		panic(err)
	}
	r2cpu, r2lat := 0.9987, 0.9712
	p.Name = "my-laptop"
	p.Calibration = &models.Calibration{Tool: "ambientsim calibrate", Date: "2026-11-25",
		Machine:   models.CalibrationMachine{CPUModel: "Test CPU", Cores: 8, Kernel: "6.1"},
		DataPlane: models.CalibrationDataPlane{Revision: "0123abc"},
		Design:    models.CalibrationDesign{Name: "quick", Steps: 12, StepDuration: "10s"},
		Fits: []models.CalibrationFit{
			{Name: "ztunnel_cpu", Observations: 12, DOF: 7, R2: &r2cpu, Unit: "CPU-s",
				Params: []models.FittedParam{{Name: "ztunnel.per_message_cpu", Value: 28, Unit: "us"}}},
			{Name: "latency_p50", Observations: 10, DOF: 5, R2: &r2lat, Unit: "ms"},
		}}
	data, err := yaml.Marshal(p)
	if err != nil {
		panic(err)
	}
	q, err := models.ParseProfile("my-laptop.yaml", data)
	if err != nil {
		panic(err)
	}
	fmt.Println(q.Calibration.Facts())

	// A fit claiming an R² above 1 is rejected, naming the field.
	bad := strings.Replace(string(data), "r2: 0.9712", "r2: 1.2", 1)
	_, err = models.ParseProfile("my-laptop.yaml", []byte(bad))
	_, msg, _ := strings.Cut(err.Error(), ": ") // drop "file:line"
	fmt.Println(msg)
	// Output:
	// calibrated 2026-11-25 on 8 × Test CPU, Linux 6.1, data plane 0123abc, worst fit R² 0.9712 (latency_p50)
	// calibration.fits[1].r2: 1.2, want at most 1 (leave it out when the measured values are constant)
}
