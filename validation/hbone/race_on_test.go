//go:build race

package hbone_test

const raceEnabled = true
