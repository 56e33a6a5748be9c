// Package kubejob writes the Kubernetes manifests that run a sweep's shards
// as an Indexed Job: a ConfigMap holding the scenario and a batch/v1 Job
// with completionMode Indexed, one completion per shard.
//
// # A usage story
//
// A capacity study has 2,000 points, too many for a laptop. The planner
// writes the manifests and applies them:
//
//	ambientsim sweep plan study.yaml --shards 50 --parallelism 10 \
//	    --image registry.example/ambientsim:0.1.0 --pvc sweep-results > job.yaml
//	kubectl apply -f job.yaml
//
// The Job controller starts pods with JOB_COMPLETION_INDEX = 0..49; each
// runs `ambientsim sweep /etc/ambientsim/study.yaml` with
// AMBIENTSIM_SHARD_COUNT=50, computes its shard of the points and writes
// shard-NNN-of-050.json atomically into the claim, so a retried index
// (backoffLimitPerIndex) simply overwrites its own file. When the Job
// completes, `ambientsim sweep merge DIR --out DIR` turns the shard files
// into the same sweep.json a single machine would have written.
//
// The manifests are generated from this package's own small structs, not
// from k8s.io/api (which would add megabytes to the binary); the tests
// decode them strictly into the upstream types to prove they are valid.
package kubejob
