package plots

// Report is the data model of the HTML report: every section, table and
// chart series that the page shows, before any HTML is written. Golden tests
// compare this model (as JSON), so a change in what a chart plots shows up as
// a readable diff, independent of markup.
type Report struct {
	Title    string    `json:"title"`
	Subtitle string    `json:"subtitle,omitempty"`
	Sections []Section `json:"sections"`
}

// Section is one numbered part of the report (1 to 9). Optional sections
// (failures, sweeps) are present only when their data exists.
type Section struct {
	ID     string  `json:"id"` // HTML anchor, e.g. "latency"
	Number int     `json:"number"`
	Title  string  `json:"title"`
	Blocks []Block `json:"blocks"`
}

// Block is one element of a section. Exactly one field is set; the renderer
// draws blocks in order.
type Block struct {
	Heading string   `json:"heading,omitempty"` // a sub-heading
	Answer  *Answer  `json:"answer,omitempty"`  // the answer to the scenario's question (section 1)
	Text    string   `json:"text,omitempty"`    // a paragraph
	Items   []string `json:"items,omitempty"`   // a bulleted list
	Note    string   `json:"note,omitempty"`    // a highlighted remark, e.g. how a big topology was aggregated
	Code    string   `json:"code,omitempty"`    // preformatted text, e.g. a command line
	Table   *Table   `json:"table,omitempty"`
	Chart   *Chart   `json:"chart,omitempty"`
}

// Answer is the direct answer to the scenario's question, derived from what
// the result contains (see answer.go): a lead that answers it in words with
// its numbers, then the points behind it, each with optional details.
type Answer struct {
	Lead   string       `json:"lead"`
	Points []string     `json:"points,omitempty"` // the numbers behind the lead
	Items  []AnswerItem `json:"items,omitempty"`  // the other parts of the answer
}

// AnswerItem is one point of an answer with the facts that support it.
type AnswerItem struct {
	Text    string   `json:"text"`
	Details []string `json:"details,omitempty"`
}

// Table is a real HTML table, so it can be copied into a design document.
type Table struct {
	Caption string   `json:"caption"`
	Columns []Column `json:"columns"`
	Rows    []Row    `json:"rows"`
	// Omitted says how many rows were left out to keep a big topology usable
	// (0 when the table is complete).
	Omitted int `json:"omitted,omitempty"`
}

// Column is a table column heading; Numeric columns are right-aligned.
type Column struct {
	Name    string `json:"name"`
	Numeric bool   `json:"numeric,omitempty"`
}

// Row is one table row. Tone colours the row: pass, fail, warn, total (a
// sum, in bold) or empty.
type Row struct {
	Cells []string `json:"cells"`
	Tone  string   `json:"tone,omitempty"`
}

// ChartKind selects the ECharts series type.
type ChartKind string

// Chart kinds.
const (
	ChartLine  ChartKind = "line"
	ChartBar   ChartKind = "bar"
	ChartGraph ChartKind = "graph"
)

// Chart is what one chart plots. ID is fixed (derived from the section and
// position, never from names or random numbers) so the same results give
// byte-identical HTML.
type Chart struct {
	ID       string    `json:"id"`
	Kind     ChartKind `json:"kind"`
	Title    string    `json:"title"`
	Caption  string    `json:"caption"` // what to look for
	HeightPx int       `json:"height_px"`
	// Half lays the chart out at half width, two side by side.
	Half   bool     `json:"half,omitempty"`
	X      Axis     `json:"x,omitempty"`
	Y      Axis     `json:"y,omitempty"`
	Series []Series `json:"series,omitempty"`
	Graph  *Graph   `json:"graph,omitempty"`
	// MarkX draws vertical lines (e.g. a failure's start and end); MarkY
	// horizontal lines (e.g. the SLO).
	// Labels prints each bar's value on it, so a zero bar reads as zero,
	// not as missing.
	Labels bool   `json:"labels,omitempty"`
	MarkX  []Mark `json:"mark_x,omitempty"`
	MarkY  []Mark `json:"mark_y,omitempty"`
}

// Axis describes a chart axis. Type is "category" (then Categories names the
// ticks), "value" or "log".
type Axis struct {
	Name       string   `json:"name,omitempty"`
	Type       string   `json:"type,omitempty"`
	Categories []string `json:"categories,omitempty"`
	// Max fixes the top of a value or log axis (0: automatic), so that
	// small multiples share one scale and can be compared at a glance.
	Max float64 `json:"max,omitempty"`
	// Min fixes the bottom of a value or log axis when positive (a log
	// axis shared by small multiples).
	Min float64 `json:"min,omitempty"`
	// Integer keeps the ticks of a count axis on whole numbers.
	Integer bool `json:"integer,omitempty"`
}

// Series is one line or one set of bars. On a category axis Values has one
// entry per category; on a value axis Points holds (x, y) pairs.
type Series struct {
	Name  string `json:"name"`
	Color string `json:"color,omitempty"`
	Stack string `json:"stack,omitempty"`
	// Dash ("dashed", "dotted"; empty = solid) and Symbol (an ECharts
	// marker: circle, rect, triangle, diamond, …) tell apart lines that
	// overlap, whatever the reader's colour vision.
	Dash   string    `json:"dash,omitempty"`
	Symbol string    `json:"symbol,omitempty"`
	Values []float64 `json:"values,omitempty"`
	Points []Point   `json:"points,omitempty"`
	// Band is a shaded confidence band around Values (same length).
	Band *Band `json:"band,omitempty"`
}

// Point is an (x, y) pair on a value axis.
type Point [2]float64

// Band is the lower and upper edge of a confidence band.
type Band struct {
	Lower []float64 `json:"lower"`
	Upper []float64 `json:"upper"`
}

// Mark is a labelled reference line at Value on its axis.
type Mark struct {
	Label string  `json:"label"`
	Value float64 `json:"value"`
}

// Graph is a node-link chart (call graph, blast radius).
type Graph struct {
	// Layout is "force" for small graphs and "circular" for big ones, which
	// a force layout would push out of the chart.
	Layout     string          `json:"layout"`
	Categories []GraphCategory `json:"categories"`
	Nodes      []GraphNode     `json:"nodes"`
	Links      []GraphLink     `json:"links"`
}

// GraphCategory is a legend entry with its colour (dataplane mode, or
// affected / unaffected for a blast radius).
type GraphCategory struct {
	Name  string `json:"name"`
	Color string `json:"color"`
}

// GraphNode is one vertex; Category indexes Graph.Categories.
type GraphNode struct {
	ID       string  `json:"id"`
	Category int     `json:"category"`
	SizePx   float64 `json:"size_px"`
	Detail   string  `json:"detail,omitempty"` // tooltip text
}

// GraphLink is one directed edge between node IDs.
type GraphLink struct {
	Source string  `json:"source"`
	Target string  `json:"target"`
	Label  string  `json:"label,omitempty"`
	Dashed bool    `json:"dashed,omitempty"`
	Width  float64 `json:"width"`
}
