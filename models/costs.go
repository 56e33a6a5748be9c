package models

import (
	"time"

	"github.com/ambientsim/ambientsim/sim"
)

// costs is a profile turned into the units the hot path uses: sim.Time for
// durations, float64 ns per byte for byte costs.
type costs struct {
	ztWorkers, wpWorkers, scWorkers int

	// ztunnel (ztunnel.go)
	ztMsg, ztStream, ztHSc, ztHSs, ztAuthz, ztLat sim.Time
	ztByteNs                                      float64
	ztCrossMsg                                    sim.Time // extra per message on a cross-node leg
	ztMemBase, ztMemPod, ztMemConn, ztMemStream   float64  // MiB
	ztCPUReq, ztMemReq                            float64

	// HBONE pool (hbone.go)
	maxStreamsZT, maxStreamsWP int32
	idle                       sim.Time
	hsRTTs                     float64
	connectTimeout             sim.Time

	// Envoy: waypoint and sidecar (waypoint.go, sidecar.go)
	wp, sc envoyCosts

	// network (network.go)
	sameNode, crossNode, crossZone sim.Time
	nicNsPerByte                   float64
	tcpRTTs                        float64

	// activity (station.go): ztunnel, waypoint, sidecar and app stations
	ztAct, wpAct, scAct, appAct Activity

	// app defaults (app.go)
	appMean sim.Time
	appCV   float64
	appConc int
	appMem  float64
}

type envoyCosts struct {
	reqHalf, hs, lat, upIdle sim.Time
	inHalf                   sim.Time // half the inbound-role extra (sidecars)
	byteNs                   float64
	memBase, memSvc, memEP   float64 // MiB
	memRoute, memConn        float64 // MiB
	cpuReq, memReq           float64
}

const kib = 1.0 / 1024 // MiB per KiB

func deriveCosts(p *Profile) costs {
	z := p.Ztunnel
	c := costs{
		ztWorkers: z.WorkerThreads.Int(1),
		wpWorkers: p.Waypoint.WorkerThreads.Int(1),
		scWorkers: p.Sidecar.WorkerThreads.Int(1),
		ztMsg:     z.PerMessageCPU.Micros(), ztStream: z.StreamOpenCPU.Micros(),
		ztHSc: z.HandshakeClientCPU.Micros(), ztHSs: z.HandshakeServerCPU.Micros(),
		ztAuthz: z.AuthzCPU.Micros(), ztLat: z.AddedLatency.Micros(),
		ztByteNs: z.PerByteCPU.Value, ztCrossMsg: z.CrossNodeMessageCPU.Micros(),
		ztMemBase: z.MemoryBase.Value, ztMemPod: z.MemoryPerPod.Value * kib,
		ztMemConn: z.MemoryPerConn.Value * kib, ztMemStream: z.MemoryPerStream.Value * kib,
		ztCPUReq: z.CPURequest.Value, ztMemReq: z.MemoryRequest.Value,

		maxStreamsZT:   int32(min(p.HBONE.MaxStreamsPerConn.Int(1), p.HBONE.PeerMaxStreams.Int(1))),
		maxStreamsWP:   int32(min(p.HBONE.MaxStreamsPerConn.Int(1), p.HBONE.WaypointMaxStream.Int(1))),
		idle:           p.HBONE.IdleTimeout.SecondsT(),
		hsRTTs:         p.HBONE.HandshakeRTTs.Value,
		connectTimeout: p.HBONE.ConnectTimeout.SecondsT(),

		wp: envoyFrom(p.Waypoint), sc: envoyFrom(p.Sidecar),

		sameNode: p.Network.SameNode.Micros(), crossNode: p.Network.CrossNode.Micros(),
		crossZone: p.Network.CrossZone.Micros(), tcpRTTs: p.Network.TCPHandshakes.Value,

		appMean: p.App.ServiceTimeMean.Micros(), appCV: p.App.ServiceTimeCV.Value,
		appConc: p.App.Concurrency.Int(1), appMem: p.App.MemoryBase.Value,
	}
	c.ztAct = activityFrom(z.Activity)
	c.wpAct = activityFrom(p.Waypoint.Activity)
	c.scAct = activityFrom(p.Sidecar.Activity)
	c.appAct = Activity{PathFraction: 1, WakeupLatency: p.App.WakeupLatency.Micros(), SleepTimeConstant: p.App.SleepTimeConstant.Micros()}
	if bw := p.Network.NICBandwidth.Value; bw > 0 {
		c.nicNsPerByte = 8 / bw // Gbit/s → ns per byte
	}
	return c
}

func activityFrom(a ActivityCosts) Activity {
	return Activity{PathFraction: a.CriticalPathFraction.Value, WakeupCPU: a.WakeupCPU.Micros(),
		WakeupLatency: a.WakeupLatency.Micros(), SleepTimeConstant: a.SleepTimeConstant.Micros()}
}

func envoyFrom(e EnvoyCosts) envoyCosts {
	return envoyCosts{
		reqHalf: e.PerRequestCPU.Micros() / 2, inHalf: e.InboundRequestCPU.Micros() / 2, hs: e.HandshakeCPU.Micros(), lat: e.AddedLatency.Micros(),
		upIdle: e.UpstreamIdleTTL.SecondsT(), byteNs: e.PerByteCPU.Value,
		memBase: e.MemoryBase.Value, memSvc: e.MemoryPerSvc.Value * kib, memEP: e.MemoryPerEP.Value * kib,
		memRoute: e.MemoryPerRoute.Value * kib, memConn: e.MemoryPerConn.Value * kib,
		cpuReq: e.CPURequest.Value, memReq: e.MemoryRequest.Value,
	}
}

func bytesCost(nsPerByte float64, b int32) sim.Time { return sim.Time(nsPerByte*float64(b) + 0.5) }

// ParseDuration parses a Go duration string ("60s", "500ms", "1m30s") into
// simulated time.
func ParseDuration(s string) (sim.Time, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, err
	}
	return sim.FromDuration(d), nil
}
