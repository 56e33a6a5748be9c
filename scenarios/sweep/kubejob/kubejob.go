package kubejob

import (
	"bytes"
	"fmt"
	"regexp"
	"sort"
	"strconv"

	"gopkg.in/yaml.v3"
)

// Options describe the Job to generate.
type Options struct {
	// Name of the Job (a DNS-1123 label, at most 52 characters so that
	// the controller's pod names fit); the ConfigMap is Name-scenario.
	Name      string
	Namespace string // optional; kubectl's namespace otherwise
	Image     string // an image whose entrypoint is the ambientsim binary
	// Shards is the number of completions: one shard per index.
	Shards int
	// Parallelism is how many pods run at once; default Shards.
	Parallelism int
	// BackoffLimitPerIndex is how many times a failed index is retried;
	// default 2.
	BackoffLimitPerIndex int
	// MaxFailedIndexes fails the whole Job once more indexes than this have
	// failed; default Shards/10 (at least 1).
	MaxFailedIndexes int
	// PVC is the PersistentVolumeClaim the shard results are written to,
	// mounted at /results; results land in /results/<Name>.
	PVC string
	// ScenarioFile is the scenario's file name (a ConfigMap key) and
	// Scenario its content.
	ScenarioFile string
	Scenario     []byte
	// Files are extra files the scenario refers to, by base name; they
	// are mounted next to it.
	Files map[string][]byte
	// Workers per pod (each simulation is single-threaded); default 1.
	Workers int
	// CPU and Memory are the container's requests (Kubernetes quantities);
	// defaults "1" and "1Gi". Memory is also the limit.
	CPU, Memory string
}

// MountDir is where the ConfigMap is mounted in the pod.
const MountDir = "/etc/ambientsim"

// ResultsDir is where the claim is mounted in the pod.
const ResultsDir = "/results"

var (
	dns1123Label = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	configMapKey = regexp.MustCompile(`^[-._a-zA-Z0-9]+$`)
	quantity     = regexp.MustCompile(`^([0-9]+(\.[0-9]+)?|\.[0-9]+)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$`)
)

func (o *Options) defaults() error {
	if o.Parallelism == 0 {
		o.Parallelism = o.Shards
	}
	if o.BackoffLimitPerIndex == 0 {
		o.BackoffLimitPerIndex = 2
	}
	if o.MaxFailedIndexes == 0 {
		o.MaxFailedIndexes = max(1, o.Shards/10)
	}
	if o.Workers == 0 {
		o.Workers = 1
	}
	if o.CPU == "" {
		o.CPU = "1"
	}
	if o.Memory == "" {
		o.Memory = "1Gi"
	}
	switch {
	case !dns1123Label.MatchString(o.Name) || len(o.Name) > 52:
		return fmt.Errorf("job name %q must be lower-case letters, digits and '-', start and end alphanumeric, at most 52 characters (set --name)", o.Name)
	case o.Namespace != "" && (!dns1123Label.MatchString(o.Namespace) || len(o.Namespace) > 63):
		return fmt.Errorf("namespace %q is not a valid Kubernetes name", o.Namespace)
	case o.Image == "":
		return fmt.Errorf("an image is required (--image)")
	case o.Shards < 1 || o.Shards > 100000:
		return fmt.Errorf("shards must be between 1 and 100000 (Indexed Job limit), got %d", o.Shards)
	case o.Parallelism < 1 || o.Parallelism > o.Shards:
		return fmt.Errorf("parallelism must be between 1 and the shard count %d, got %d", o.Shards, o.Parallelism)
	case o.BackoffLimitPerIndex < 0:
		return fmt.Errorf("backoff limit per index must not be negative, got %d", o.BackoffLimitPerIndex)
	case o.MaxFailedIndexes < 0 || o.MaxFailedIndexes > o.Shards:
		return fmt.Errorf("max failed indexes must be between 0 and the shard count %d, got %d", o.Shards, o.MaxFailedIndexes)
	case !dns1123Label.MatchString(o.PVC) && !dns1123Subdomain(o.PVC):
		return fmt.Errorf("PVC name %q is not a valid Kubernetes name (--pvc)", o.PVC)
	case !configMapKey.MatchString(o.ScenarioFile):
		return fmt.Errorf("scenario file name %q is not a valid ConfigMap key", o.ScenarioFile)
	case len(o.Scenario) == 0:
		return fmt.Errorf("the scenario is empty")
	case o.Workers < 1:
		return fmt.Errorf("workers must be at least 1, got %d", o.Workers)
	case !quantity.MatchString(o.CPU):
		return fmt.Errorf("cpu request %q is not a Kubernetes quantity (e.g. 1, 500m)", o.CPU)
	case !quantity.MatchString(o.Memory):
		return fmt.Errorf("memory request %q is not a Kubernetes quantity (e.g. 1Gi, 512Mi)", o.Memory)
	}
	total := len(o.Scenario)
	for name, data := range o.Files {
		if !configMapKey.MatchString(name) || name == o.ScenarioFile {
			return fmt.Errorf("extra file name %q is not a valid, distinct ConfigMap key (use base names)", name)
		}
		total += len(data)
	}
	if total > 1000*1024 {
		return fmt.Errorf("scenario and files are %d bytes; a ConfigMap holds at most 1 MiB", total)
	}
	return nil
}

func dns1123Subdomain(s string) bool {
	if len(s) == 0 || len(s) > 253 {
		return false
	}
	for _, part := range bytes.Split([]byte(s), []byte(".")) {
		if !dns1123Label.Match(part) {
			return false
		}
	}
	return true
}

// The manifest structs: just the fields we write, with Kubernetes' names.

type objectMeta struct {
	Name      string            `yaml:"name,omitempty"`
	Namespace string            `yaml:"namespace,omitempty"`
	Labels    map[string]string `yaml:"labels,omitempty"`
}

type configMap struct {
	APIVersion string            `yaml:"apiVersion"`
	Kind       string            `yaml:"kind"`
	Metadata   objectMeta        `yaml:"metadata"`
	Data       map[string]string `yaml:"data"`
}

type job struct {
	APIVersion string     `yaml:"apiVersion"`
	Kind       string     `yaml:"kind"`
	Metadata   objectMeta `yaml:"metadata"`
	Spec       jobSpec    `yaml:"spec"`
}

type jobSpec struct {
	CompletionMode       string           `yaml:"completionMode"`
	Completions          int              `yaml:"completions"`
	Parallelism          int              `yaml:"parallelism"`
	BackoffLimitPerIndex int              `yaml:"backoffLimitPerIndex"`
	MaxFailedIndexes     int              `yaml:"maxFailedIndexes"`
	PodFailurePolicy     podFailurePolicy `yaml:"podFailurePolicy"`
	Template             podTemplate      `yaml:"template"`
}

type podFailurePolicy struct {
	Rules []podFailureRule `yaml:"rules"`
}

type podFailureRule struct {
	Action      string      `yaml:"action"`
	OnExitCodes onExitCodes `yaml:"onExitCodes"`
}

type onExitCodes struct {
	ContainerName string `yaml:"containerName"`
	Operator      string `yaml:"operator"`
	Values        []int  `yaml:"values"`
}

type podTemplate struct {
	Metadata objectMeta `yaml:"metadata"`
	Spec     podSpec    `yaml:"spec"`
}

type podSpec struct {
	RestartPolicy string      `yaml:"restartPolicy"`
	Containers    []container `yaml:"containers"`
	Volumes       []volume    `yaml:"volumes"`
}

type container struct {
	Name         string        `yaml:"name"`
	Image        string        `yaml:"image"`
	Args         []string      `yaml:"args"`
	Env          []envVar      `yaml:"env"`
	Resources    resources     `yaml:"resources"`
	VolumeMounts []volumeMount `yaml:"volumeMounts"`
}

type envVar struct {
	Name  string `yaml:"name"`
	Value string `yaml:"value"`
}

type resources struct {
	Requests map[string]string `yaml:"requests"`
	Limits   map[string]string `yaml:"limits"`
}

type volumeMount struct {
	Name      string `yaml:"name"`
	MountPath string `yaml:"mountPath"`
	ReadOnly  bool   `yaml:"readOnly,omitempty"`
}

type volume struct {
	Name                  string        `yaml:"name"`
	ConfigMap             *configMapRef `yaml:"configMap,omitempty"`
	PersistentVolumeClaim *claimRef     `yaml:"persistentVolumeClaim,omitempty"`
}

type configMapRef struct {
	Name string `yaml:"name"`
}

type claimRef struct {
	ClaimName string `yaml:"claimName"`
}

// ContainerName is the sweep container's name in the pod.
const ContainerName = "sweep"

// Manifests returns the ConfigMap and the Job as one multi-document YAML
// stream, ready for kubectl apply -f.
func Manifests(o Options) ([]byte, error) {
	if err := o.defaults(); err != nil {
		return nil, err
	}
	labels := map[string]string{
		"app.kubernetes.io/name":      "ambientsim",
		"app.kubernetes.io/component": "sweep",
		"app.kubernetes.io/instance":  o.Name,
	}
	cmName := o.Name + "-scenario"
	cm := scenarioConfigMap(o, cmName, labels)
	j := job{
		APIVersion: "batch/v1",
		Kind:       "Job",
		Metadata:   objectMeta{Name: o.Name, Namespace: o.Namespace, Labels: labels},
		Spec: jobSpec{
			CompletionMode:       "Indexed",
			Completions:          o.Shards,
			Parallelism:          o.Parallelism,
			BackoffLimitPerIndex: o.BackoffLimitPerIndex,
			MaxFailedIndexes:     o.MaxFailedIndexes,
			// Exit code 2 is a usage error: the same invocation fails on
			// every retry and every index, so stop the Job at once.
			PodFailurePolicy: podFailurePolicy{Rules: []podFailureRule{{
				Action:      "FailJob",
				OnExitCodes: onExitCodes{ContainerName: ContainerName, Operator: "In", Values: []int{2}},
			}}},
			Template: podTemplate{
				Metadata: objectMeta{Labels: labels},
				Spec: podSpec{
					RestartPolicy: "Never", // required by backoffLimitPerIndex
					Containers:    []container{sweepContainer(o)},
					Volumes: []volume{
						{Name: "scenario", ConfigMap: &configMapRef{Name: cmName}},
						{Name: "results", PersistentVolumeClaim: &claimRef{ClaimName: o.PVC}},
					},
				},
			},
		},
	}
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "# Generated by ambientsim sweep plan: %d shards of scenario %s.\n", o.Shards, o.ScenarioFile)
	fmt.Fprintf(&buf, "# Apply with kubectl apply -f; when the Job completes, merge %s/%s with ambientsim sweep merge.\n", ResultsDir, o.Name)
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	for _, doc := range []any{cm, j} {
		if err := enc.Encode(doc); err != nil {
			return nil, fmt.Errorf("encoding manifests: %w", err)
		}
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encoding manifests: %w", err)
	}
	return buf.Bytes(), nil
}

// scenarioConfigMap holds the scenario file and the files it refers to
// (by name), mounted at MountDir.
func scenarioConfigMap(o Options, name string, labels map[string]string) configMap {
	cm := configMap{
		APIVersion: "v1",
		Kind:       "ConfigMap",
		Metadata:   objectMeta{Name: name, Namespace: o.Namespace, Labels: labels},
		Data:       map[string]string{o.ScenarioFile: string(o.Scenario)},
	}
	names := make([]string, 0, len(o.Files))
	for n := range o.Files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		cm.Data[n] = string(o.Files[n])
	}
	return cm
}

// sweepContainer runs one shard: ambientsim sweep on the mounted scenario,
// writing into the results volume.
func sweepContainer(o Options) container {
	return container{
		Name:  ContainerName,
		Image: o.Image,
		Args: []string{
			"sweep", MountDir + "/" + o.ScenarioFile,
			"--out", ResultsDir + "/" + o.Name,
			"--workers", strconv.Itoa(o.Workers),
		},
		// The controller sets JOB_COMPLETION_INDEX; the
		// shard count is not exposed to pods, so pass it.
		Env: []envVar{{Name: "AMBIENTSIM_SHARD_COUNT", Value: strconv.Itoa(o.Shards)}},
		Resources: resources{
			Requests: map[string]string{"cpu": o.CPU, "memory": o.Memory},
			Limits:   map[string]string{"memory": o.Memory},
		},
		VolumeMounts: []volumeMount{
			{Name: "scenario", MountPath: MountDir, ReadOnly: true},
			{Name: "results", MountPath: ResultsDir},
		},
	}
}
