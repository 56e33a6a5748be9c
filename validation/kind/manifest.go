package kind

// The Kubernetes objects the kind backend writes, as minimal hand-written
// structs: only the fields the harness sets, with the exact field names
// of the Kubernetes API (the tests decode every generated document into
// k8s.io/api types with unknown fields rejected). They are kept out of
// k8s.io/api so the ambientsim binary does not carry 10 MB of types.

// TypeMeta is apiVersion and kind.
type TypeMeta struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
}

// ObjectMeta is an object's metadata.
type ObjectMeta struct {
	Name        string            `yaml:"name,omitempty"`
	Namespace   string            `yaml:"namespace,omitempty"`
	Labels      map[string]string `yaml:"labels,omitempty"`
	Annotations map[string]string `yaml:"annotations,omitempty"`
}

// Namespace is a core/v1 Namespace.
type Namespace struct {
	TypeMeta `yaml:",inline"`
	Metadata ObjectMeta `yaml:"metadata"`
}

// ConfigMap is a core/v1 ConfigMap.
type ConfigMap struct {
	TypeMeta `yaml:",inline"`
	Metadata ObjectMeta        `yaml:"metadata"`
	Data     map[string]string `yaml:"data,omitempty"`
}

// Service is a core/v1 Service.
type Service struct {
	TypeMeta `yaml:",inline"`
	Metadata ObjectMeta  `yaml:"metadata"`
	Spec     ServiceSpec `yaml:"spec"`
}

// ServiceSpec is a Service's spec.
type ServiceSpec struct {
	// ClusterIP is "None" for a headless Service (DNS names only).
	ClusterIP string            `yaml:"clusterIP,omitempty"`
	Selector  map[string]string `yaml:"selector"`
	Ports     []ServicePort     `yaml:"ports,omitempty"`
	// PublishNotReadyAddresses publishes a pod's DNS record as soon as it
	// has an IP, before it is ready (processes wait for each other's names).
	PublishNotReadyAddresses bool `yaml:"publishNotReadyAddresses,omitempty"`
}

// ServicePort is one Service port.
type ServicePort struct {
	Name       string `yaml:"name"`
	Port       int32  `yaml:"port"`
	TargetPort int32  `yaml:"targetPort"`
	Protocol   string `yaml:"protocol"`
}

// DaemonSet is an apps/v1 DaemonSet.
type DaemonSet struct {
	TypeMeta `yaml:",inline"`
	Metadata ObjectMeta    `yaml:"metadata"`
	Spec     DaemonSetSpec `yaml:"spec"`
}

// DaemonSetSpec is a DaemonSet's spec.
type DaemonSetSpec struct {
	Selector LabelSelector   `yaml:"selector"`
	Template PodTemplateSpec `yaml:"template"`
}

// Deployment is an apps/v1 Deployment.
type Deployment struct {
	TypeMeta `yaml:",inline"`
	Metadata ObjectMeta     `yaml:"metadata"`
	Spec     DeploymentSpec `yaml:"spec"`
}

// DeploymentSpec is a Deployment's spec.
type DeploymentSpec struct {
	Replicas int32           `yaml:"replicas"`
	Selector LabelSelector   `yaml:"selector"`
	Template PodTemplateSpec `yaml:"template"`
}

// Job is a batch/v1 Job.
type Job struct {
	TypeMeta `yaml:",inline"`
	Metadata ObjectMeta `yaml:"metadata"`
	Spec     JobSpec    `yaml:"spec"`
}

// JobSpec is a Job's spec.
type JobSpec struct {
	BackoffLimit          int32           `yaml:"backoffLimit"`
	ActiveDeadlineSeconds int64           `yaml:"activeDeadlineSeconds"`
	Template              PodTemplateSpec `yaml:"template"`
}

// LabelSelector selects by exact labels.
type LabelSelector struct {
	MatchLabels map[string]string `yaml:"matchLabels"`
}

// PodTemplateSpec is a pod template.
type PodTemplateSpec struct {
	Metadata ObjectMeta `yaml:"metadata"`
	Spec     PodSpec    `yaml:"spec"`
}

// PodSpec is a pod's spec.
type PodSpec struct {
	NodeSelector                  map[string]string `yaml:"nodeSelector,omitempty"`
	HostNetwork                   bool              `yaml:"hostNetwork,omitempty"`
	DNSPolicy                     string            `yaml:"dnsPolicy,omitempty"`
	RestartPolicy                 string            `yaml:"restartPolicy,omitempty"`
	TerminationGracePeriodSeconds *int64            `yaml:"terminationGracePeriodSeconds,omitempty"`
	Tolerations                   []Toleration      `yaml:"tolerations,omitempty"`
	Containers                    []Container       `yaml:"containers"`
	Volumes                       []Volume          `yaml:"volumes,omitempty"`
}

// Toleration lets a pod run on tainted nodes.
type Toleration struct {
	Operator string `yaml:"operator"`
}

// Container is one container.
type Container struct {
	Name            string               `yaml:"name"`
	Image           string               `yaml:"image"`
	ImagePullPolicy string               `yaml:"imagePullPolicy"`
	Command         []string             `yaml:"command"`
	Args            []string             `yaml:"args,omitempty"`
	Env             []EnvVar             `yaml:"env,omitempty"`
	Ports           []ContainerPort      `yaml:"ports,omitempty"`
	Resources       ResourceRequirements `yaml:"resources"`
	VolumeMounts    []VolumeMount        `yaml:"volumeMounts,omitempty"`
	ReadinessProbe  *Probe               `yaml:"readinessProbe,omitempty"`
	SecurityContext *SecurityContext     `yaml:"securityContext,omitempty"`
}

// EnvVar is an environment variable, literal or from the downward API.
type EnvVar struct {
	Name      string        `yaml:"name"`
	Value     string        `yaml:"value,omitempty"`
	ValueFrom *EnvVarSource `yaml:"valueFrom,omitempty"`
}

// EnvVarSource is a downward-API source.
type EnvVarSource struct {
	FieldRef *ObjectFieldSelector `yaml:"fieldRef"`
}

// ObjectFieldSelector names a pod field, e.g. status.podIP.
type ObjectFieldSelector struct {
	FieldPath string `yaml:"fieldPath"`
}

// ContainerPort is one exposed port.
type ContainerPort struct {
	Name          string `yaml:"name"`
	ContainerPort int32  `yaml:"containerPort"`
	Protocol      string `yaml:"protocol"`
}

// ResourceRequirements holds requests and limits ("200m", "512Mi").
type ResourceRequirements struct {
	Requests map[string]string `yaml:"requests,omitempty"`
	Limits   map[string]string `yaml:"limits,omitempty"`
}

// VolumeMount mounts a volume.
type VolumeMount struct {
	Name      string `yaml:"name"`
	MountPath string `yaml:"mountPath"`
	ReadOnly  bool   `yaml:"readOnly,omitempty"`
}

// Volume is a ConfigMap, emptyDir or hostPath volume.
type Volume struct {
	Name      string                 `yaml:"name"`
	ConfigMap *ConfigMapVolumeSource `yaml:"configMap,omitempty"`
	EmptyDir  *EmptyDirVolumeSource  `yaml:"emptyDir,omitempty"`
	HostPath  *HostPathVolumeSource  `yaml:"hostPath,omitempty"`
}

// HostPathVolumeSource is a directory of the (kind) node.
type HostPathVolumeSource struct {
	Path string `yaml:"path"`
	Type string `yaml:"type,omitempty"`
}

// ConfigMapVolumeSource names the ConfigMap.
type ConfigMapVolumeSource struct {
	Name string `yaml:"name"`
}

// EmptyDirVolumeSource is a scratch volume.
type EmptyDirVolumeSource struct{}

// Probe is a TCP readiness probe.
type Probe struct {
	TCPSocket        *TCPSocketAction `yaml:"tcpSocket"`
	PeriodSeconds    int32            `yaml:"periodSeconds"`
	FailureThreshold int32            `yaml:"failureThreshold"`
}

// TCPSocketAction probes a port.
type TCPSocketAction struct {
	Port int32 `yaml:"port"`
}

// SecurityContext holds the capabilities a proxy needs.
type SecurityContext struct {
	Capabilities *Capabilities `yaml:"capabilities,omitempty"`
	RunAsUser    *int64        `yaml:"runAsUser,omitempty"`
}

// Capabilities adds Linux capabilities.
type Capabilities struct {
	Add []string `yaml:"add"`
}

// Cluster is a kind cluster configuration (kind.x-k8s.io/v1alpha4).
type Cluster struct {
	Kind       string        `yaml:"kind"`
	APIVersion string        `yaml:"apiVersion"`
	Name       string        `yaml:"name"`
	Nodes      []ClusterNode `yaml:"nodes"`
}

// ClusterNode is one kind node.
type ClusterNode struct {
	Role        string            `yaml:"role"`
	Labels      map[string]string `yaml:"labels,omitempty"`
	ExtraMounts []Mount           `yaml:"extraMounts,omitempty"`
}

// Mount bind-mounts a host directory into a kind node.
type Mount struct {
	HostPath      string `yaml:"hostPath"`
	ContainerPath string `yaml:"containerPath"`
}
