module github.com/ambientsim/ambientsim/validation/interop

go 1.26.8

require github.com/ambientsim/ambientsim v0.0.0

require istio.io/istio v0.0.0-20260827124520-eed52ebb66ad // indirect

replace github.com/ambientsim/ambientsim => ../..
