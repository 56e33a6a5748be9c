package kubejob

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
	sigsyaml "sigs.k8s.io/yaml"
)

func testOptions() Options {
	return Options{
		Name:         "capacity-study",
		Namespace:    "sims",
		Image:        "registry.example/ambientsim:0.1.0",
		Shards:       50,
		Parallelism:  10,
		PVC:          "sweep-results",
		ScenarioFile: "study.yaml",
		Scenario:     []byte("name: study\nsweep:\n  parameters: {load: [1, 2]}\n"),
		Files:        map[string][]byte{"topology.yaml": []byte("nodes: {count: 3}\n")},
	}
}

// decodeStrict splits the stream and decodes each document into the
// upstream type strictly: an unknown or misspelt field is an error.
func decodeStrict(t *testing.T, manifests []byte) (*corev1.ConfigMap, *batchv1.Job) {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader(manifests))
	var docs [][]byte
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("manifests are not YAML: %v", err)
		}
		b, err := yaml.Marshal(&n)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, b)
	}
	if len(docs) != 2 {
		t.Fatalf("%d documents, want ConfigMap and Job", len(docs))
	}
	var cm corev1.ConfigMap
	if err := sigsyaml.UnmarshalStrict(docs[0], &cm); err != nil {
		t.Fatalf("ConfigMap does not decode strictly into k8s.io/api/core/v1: %v\n%s", err, docs[0])
	}
	var j batchv1.Job
	if err := sigsyaml.UnmarshalStrict(docs[1], &j); err != nil {
		t.Fatalf("Job does not decode strictly into k8s.io/api/batch/v1: %v\n%s", err, docs[1])
	}
	return &cm, &j
}

func TestManifestsDecodeIntoUpstreamTypes(t *testing.T) {
	out, err := Manifests(testOptions())
	if err != nil {
		t.Fatal(err)
	}
	cm, j := decodeStrict(t, out)

	if cm.APIVersion != "v1" || cm.Kind != "ConfigMap" || cm.Name != "capacity-study-scenario" || cm.Namespace != "sims" {
		t.Errorf("ConfigMap meta %+v %+v", cm.TypeMeta, cm.ObjectMeta)
	}
	if cm.Data["study.yaml"] != string(testOptions().Scenario) || cm.Data["topology.yaml"] == "" {
		t.Errorf("ConfigMap data %v", cm.Data)
	}

	s := j.Spec
	if j.APIVersion != "batch/v1" || j.Kind != "Job" || j.Name != "capacity-study" {
		t.Errorf("Job meta %+v %+v", j.TypeMeta, j.ObjectMeta)
	}
	if s.CompletionMode == nil || *s.CompletionMode != batchv1.IndexedCompletion {
		t.Errorf("completionMode %v, want Indexed", s.CompletionMode)
	}
	if *s.Completions != 50 || *s.Parallelism != 10 || *s.BackoffLimitPerIndex != 2 || *s.MaxFailedIndexes != 5 {
		t.Errorf("completions %d parallelism %d backoffLimitPerIndex %d maxFailedIndexes %d", *s.Completions, *s.Parallelism, *s.BackoffLimitPerIndex, *s.MaxFailedIndexes)
	}
	// Rules the API server enforces for backoffLimitPerIndex and
	// podFailurePolicy.
	pod := s.Template.Spec
	if pod.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("restartPolicy %s, want Never (required with backoffLimitPerIndex)", pod.RestartPolicy)
	}
	r := s.PodFailurePolicy.Rules[0]
	if r.Action != batchv1.PodFailurePolicyActionFailJob || r.OnExitCodes.Operator != batchv1.PodFailurePolicyOnExitCodesOpIn || r.OnExitCodes.Values[0] != 2 || *r.OnExitCodes.ContainerName != pod.Containers[0].Name {
		t.Errorf("pod failure rule %+v", r)
	}
	c := pod.Containers[0]
	if c.Image != "registry.example/ambientsim:0.1.0" || strings.Join(c.Args, " ") != "sweep /etc/ambientsim/study.yaml --out /results/capacity-study --workers 1" {
		t.Errorf("container %s args %q", c.Image, c.Args)
	}
	if len(c.Env) != 1 || c.Env[0].Name != "AMBIENTSIM_SHARD_COUNT" || c.Env[0].Value != "50" {
		t.Errorf("env %+v", c.Env)
	}
	if q := c.Resources.Requests[corev1.ResourceCPU]; q.Cmp(resource.MustParse("1")) != 0 {
		t.Errorf("cpu request %v", q.String())
	}
	if q := c.Resources.Limits[corev1.ResourceMemory]; q.Cmp(resource.MustParse("1Gi")) != 0 {
		t.Errorf("memory limit %v", q.String())
	}
	mounts := map[string]string{}
	for _, m := range c.VolumeMounts {
		mounts[m.Name] = m.MountPath
	}
	for _, v := range pod.Volumes {
		switch {
		case v.ConfigMap != nil:
			if v.ConfigMap.Name != cm.Name || mounts[v.Name] != MountDir {
				t.Errorf("scenario volume %+v mounted at %q", v, mounts[v.Name])
			}
		case v.PersistentVolumeClaim != nil:
			if v.PersistentVolumeClaim.ClaimName != "sweep-results" || mounts[v.Name] != ResultsDir {
				t.Errorf("results volume %+v mounted at %q", v, mounts[v.Name])
			}
		default:
			t.Errorf("unexpected volume %+v", v)
		}
	}
	for _, name := range []string{j.Name, cm.Name, c.Name} {
		if errs := validation.IsDNS1123Label(name); len(errs) > 0 {
			t.Errorf("name %q: %v", name, errs)
		}
	}
	for k := range cm.Data {
		if errs := validation.IsConfigMapKey(k); len(errs) > 0 {
			t.Errorf("ConfigMap key %q: %v", k, errs)
		}
	}
}

// TestStrictDecodingCatchesTypos makes sure the test above can fail.
func TestStrictDecodingCatchesTypos(t *testing.T) {
	bad := []byte("apiVersion: batch/v1\nkind: Job\nmetadata: {name: x}\nspec:\n  completionMode: Indexed\n  backoffLimitPerIndx: 2\n")
	var j batchv1.Job
	if err := sigsyaml.UnmarshalStrict(bad, &j); err == nil {
		t.Fatal("strict decoding accepted a misspelt field")
	}
}

func TestManifestsDefaultsAndErrors(t *testing.T) {
	o := testOptions()
	o.Parallelism, o.Namespace, o.Files = 0, "", nil
	out, err := Manifests(o)
	if err != nil {
		t.Fatal(err)
	}
	_, j := decodeStrict(t, out)
	if *j.Spec.Parallelism != 50 || j.Namespace != "" {
		t.Errorf("parallelism %d namespace %q", *j.Spec.Parallelism, j.Namespace)
	}

	tests := []struct {
		name string
		edit func(*Options)
		want string
	}{
		{"bad name", func(o *Options) { o.Name = "Capacity_Study" }, "job name"},
		{"long name", func(o *Options) { o.Name = strings.Repeat("a", 53) }, "at most 52"},
		{"no image", func(o *Options) { o.Image = "" }, "--image"},
		{"no shards", func(o *Options) { o.Shards = 0 }, "shards must be"},
		{"parallelism above shards", func(o *Options) { o.Parallelism = 51 }, "parallelism"},
		{"bad pvc", func(o *Options) { o.PVC = "" }, "--pvc"},
		{"bad cpu", func(o *Options) { o.CPU = "one" }, "quantity"},
		{"bad file key", func(o *Options) { o.Files = map[string][]byte{"dir/x.yaml": nil} }, "ConfigMap key"},
		{"file shadows scenario", func(o *Options) { o.Files = map[string][]byte{"study.yaml": nil} }, "distinct"},
		{"too big", func(o *Options) { o.Scenario = bytes.Repeat([]byte("x"), 2<<20) }, "1 MiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := testOptions()
			tt.edit(&o)
			if _, err := Manifests(o); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestManifestsDeterministic(t *testing.T) {
	a, _ := Manifests(testOptions())
	b, _ := Manifests(testOptions())
	if !bytes.Equal(a, b) {
		t.Fatal("two renders of the same options differ")
	}
}
