package models

import (
	"math"
	"time"

	"gonum.org/v1/gonum/stat/distuv"

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
	ztCPUReq, ztMemReq, ztCPULim                  float64
	ztLatD                                        latDist

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
	tcpCPU                         sim.Time // kernel CPU per TCP connection, each side

	// activity (station.go): ztunnel, waypoint, sidecar and app stations
	ztAct, wpAct, scAct, appAct Activity

	// app defaults (app.go)
	appMean sim.Time
	appCV   float64
	appConc int
	appMem  float64
	appReq  float64 // cores
	appFrac float64 // share of the service time on the CPU

	// load generators
	lgReq    sim.Time
	lgByteNs float64
	lgCPUReq float64

	// refSpeed is the per-vCPU speed of the machine the costs were measured
	// on, relative to the machine table's reference core.
	refSpeed float64
}

// latDist is a per-crossing added latency: a constant, or lognormal with
// the given mean and standard deviation. A lognormal draw is a lookup in a
// table of its quantiles at the midpoints of latTableSize equal steps of
// probability (a draw costs a random index, not an exp): exact in the
// body, the tail cut at the 1 − 1/(2·latTableSize) quantile, the table's
// mean rescaled to the exact mean.
type latDist struct {
	mean  sim.Time
	sigma float64    // of the underlying normal; 0 = constant
	q     []sim.Time // quantile table, nil for a constant
}

const latTableSize = 4096

func newLatDist(mean, sd sim.Time) latDist {
	d := latDist{mean: mean}
	if sd <= 0 || mean <= 0 {
		return d
	}
	cv := float64(sd) / float64(mean)
	s2 := math.Log1p(cv * cv)
	d.sigma = math.Sqrt(s2)
	mu := math.Log(float64(mean)) - s2/2
	norm := distuv.UnitNormal
	q := make([]float64, latTableSize)
	var sum float64
	for i := range q {
		q[i] = math.Exp(mu + d.sigma*norm.Quantile((float64(i)+0.5)/latTableSize))
		sum += q[i]
	}
	scale := float64(mean) * latTableSize / sum
	d.q = make([]sim.Time, latTableSize)
	for i, v := range q {
		d.q[i] = sim.Time(v*scale + 0.5)
	}
	return d
}

type envoyCosts struct {
	reqHalf, hs, lat, upIdle sim.Time
	latD                     latDist
	cpuLim                   float64
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
		ztCPUReq: z.CPURequest.Value, ztMemReq: z.MemoryRequest.Value, ztCPULim: z.CPULimit.Value,
		ztLatD: newLatDist(z.AddedLatency.Micros(), z.AddedLatencySD.Micros()),

		maxStreamsZT:   int32(min(p.HBONE.MaxStreamsPerConn.Int(1), p.HBONE.PeerMaxStreams.Int(1))),
		maxStreamsWP:   int32(min(p.HBONE.MaxStreamsPerConn.Int(1), p.HBONE.WaypointMaxStream.Int(1))),
		idle:           p.HBONE.IdleTimeout.SecondsT(),
		hsRTTs:         p.HBONE.HandshakeRTTs.Value,
		connectTimeout: p.HBONE.ConnectTimeout.SecondsT(),

		wp: envoyFrom(p.Waypoint), sc: envoyFrom(p.Sidecar),

		sameNode: p.Network.SameNode.Micros(), crossNode: p.Network.CrossNode.Micros(),
		crossZone: p.Network.CrossZone.Micros(), tcpRTTs: p.Network.TCPHandshakes.Value,
		tcpCPU: p.Network.TCPHandshakeCPU.Micros(),

		appMean: p.App.ServiceTimeMean.Micros(), appCV: p.App.ServiceTimeCV.Value,
		appConc: p.App.Concurrency.Int(1), appMem: p.App.MemoryBase.Value,
		appReq: p.App.CPURequest.Value, appFrac: p.App.CPUFraction.Value,

		lgReq: p.LoadGen.PerRequestCPU.Micros(), lgByteNs: p.LoadGen.PerByteCPU.Value,
		lgCPUReq: p.LoadGen.CPURequest.Value,
		refSpeed: p.Node.ReferenceSpeed.Value,
	}
	if c.refSpeed <= 0 {
		c.refSpeed = 1
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
		cpuReq: e.CPURequest.Value, memReq: e.MemoryRequest.Value, cpuLim: e.CPULimit.Value,
		latD: newLatDist(e.AddedLatency.Micros(), e.AddedLatencySD.Micros()),
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
