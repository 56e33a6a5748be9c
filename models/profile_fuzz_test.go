package models

import (
	"context"
	"math"
	"reflect"
	"strings"
	"testing"
)

// FuzzParseProfile: whatever a profile file holds, ParseProfile returns a
// profile or an error naming the file, never a panic; a profile it
// accepts has only finite, non-negative values, and a mesh built on it
// either runs or fails with an error.
func FuzzParseProfile(f *testing.F) {
	pub, err := profileFS.ReadFile("profiles/" + DefaultProfile + ".yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(pub)
	f.Add([]byte(strings.Replace(string(pub), "value: 24", "value: .inf", 1)))
	f.Add([]byte(strings.Replace(string(pub), "value: 20", "value: .nan", 1)))
	f.Add([]byte("name: x\nztunnel: &z {worker_threads: *z}\n"))
	top := mustTopology(f, limitsSpec)
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParseProfile("p.yaml", data)
		if err != nil {
			if !strings.Contains(err.Error(), "p.yaml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		for _, q := range quantities(p) {
			if math.IsNaN(q) || math.IsInf(q, 0) || q < 0 {
				t.Fatalf("accepted value %v", q)
			}
		}
		cfg := Config{Topology: top, Profile: p, Mode: "ambient", Seed: 1, Duration: 20 * 1e6, MaxEvents: 20000,
			Edges: edgesOf(top, EdgeConfig{Pool: 2, KeepAlive: true, ReqSize: kib1, RespSize: kib1})}
		m, err := NewMesh(cfg)
		if err != nil {
			return
		}
		_, _ = m.Run(context.Background())
	})
}

// quantities lists every Quantity value of p.
func quantities(p *Profile) []float64 {
	var out []float64
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		if q, ok := v.Interface().(Quantity); ok {
			out = append(out, q.Value)
			return
		}
		if v.Kind() != reflect.Struct {
			return
		}
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				walk(v.Field(i))
			}
		}
	}
	walk(reflect.ValueOf(*p))
	return out
}
