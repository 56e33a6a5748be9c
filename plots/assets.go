package plots

import _ "embed"

// The report inlines Apache ECharts so that it renders with no network:
// go-echarts would otherwise load echarts.min.js from a CDN and the page
// would be blank offline.
//
// assets/echarts.min.js is dist/echarts.min.js from the npm package
// echarts@5.6.0 (`npm pack echarts@5.6.0`), Apache-2.0, with its LICENSE and
// NOTICE beside it in assets/. 5.6.0 is the last 5.x release, the major
// version go-echarts v2 targets. TestEmbeddedECharts checks the digest below.
//
//	version 5.6.0
//	sha256  bf4a223524e40b77c304bec67e1222cf551f14880cf42c69dc046558e11c07b1
//	bytes   1,034,102
const (
	EChartsVersion = "5.6.0"
	EChartsSHA256  = "bf4a223524e40b77c304bec67e1222cf551f14880cf42c69dc046558e11c07b1"
)

//go:embed assets/echarts.min.js
var echartsJS string

//go:embed assets/NOTICE
var echartsNotice string
