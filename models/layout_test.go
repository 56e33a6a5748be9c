package models

import (
	"testing"
	"unsafe"
)

// TestCallLayout: a call is whole cache lines (so slab chunks keep every
// call on a line boundary) and the fields each event reads sit in its
// first line, the visit's station and response CPU in the second.
func TestCallLayout(t *testing.T) {
	var c call
	if s := unsafe.Sizeof(c); s%cacheLine != 0 {
		t.Errorf("call is %d bytes, not a multiple of %d: fix its padding", s, cacheLine)
	}
	line0 := map[string]uintptr{
		"stamp": unsafe.Offsetof(c.stamp), "ei": unsafe.Offsetof(c.ei), "ti": unsafe.Offsetof(c.ti),
		"i": unsafe.Offsetof(c.i), "dir": unsafe.Offsetof(c.dir), "kinds": unsafe.Offsetof(c.kinds),
		"locs": unsafe.Offsetof(c.locs), "outcome": unsafe.Offsetof(c.outcome), "leg2New": unsafe.Offsetof(c.leg2New),
	}
	for name, off := range line0 {
		if off >= cacheLine {
			t.Errorf("call.%s at byte %d: want it in the first cache line", name, off)
		}
	}
	if off := unsafe.Offsetof(c.respDem) + unsafe.Sizeof(c.respDem); off > 2*cacheLine {
		t.Errorf("call.respDem ends at byte %d: want it in the second cache line", off)
	}
}

// TestPodHotLine: a pod's per-call fields are one cache line.
func TestPodHotLine(t *testing.T) {
	if s := unsafe.Sizeof(podHot{}); s != cacheLine {
		t.Errorf("podHot is %d bytes: want one %d-byte cache line", s, cacheLine)
	}
}
