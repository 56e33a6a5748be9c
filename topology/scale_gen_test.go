package topology

import (
	"bufio"
	"fmt"
	"io"
)

// genExport writes a `kubectl get -A -o yaml`-shaped List of a cluster with
// services Deployments+Services (100 per namespace), as an architect would
// export it: namespaces in every dataplane mode (six in ten plain ambient,
// ambient with a namespace waypoint, ambient with a waypoint, STRICT mTLS
// and a NetworkPolicy, sidecar, out of the mesh), namespace-wide L4 ALLOW
// policies in a third of the ambient namespaces, targetRefs L7 policies
// behind the waypoints, an L7 selector policy on sidecars, an ingress
// Gateway with an HTTPRoute, a ServiceEntry, and istio-system with istiod,
// ztunnel and istio-cni DaemonSets (with status) on 50 Nodes. It is
// deterministic: the same n gives the same bytes.
func genExport(out io.Writer, services int) error {
	w := bufio.NewWriterSize(out, 1<<16)
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	p("apiVersion: v1\nkind: List\nmetadata:\n  resourceVersion: \"\"\nitems:\n")
	const nodes = 50
	for i := 1; i <= nodes; i++ {
		p(`- apiVersion: v1
  kind: Node
  metadata:
    name: node-%d
    labels:
      kubernetes.io/hostname: node-%d
      topology.kubernetes.io/zone: zone-%c
  spec:
    podCIDR: 10.%d.0.0/24
  status:
    conditions:
    - type: Ready
      status: "True"
    nodeInfo:
      kubeletVersion: v1.31.2
`, i, i, 'a'+rune(i%3), i)
	}
	p(`- apiVersion: v1
  kind: Namespace
  metadata:
    name: istio-system
- apiVersion: apps/v1
  kind: Deployment
  metadata: {name: istiod, namespace: istio-system}
  spec:
    replicas: 1
    selector: {matchLabels: {app: istiod}}
    template:
      metadata: {labels: {app: istiod}}
      spec: {serviceAccountName: istiod, containers: [{name: discovery, image: docker.io/istio/pilot:1.24.0}]}
`)
	for _, ds := range []string{"ztunnel", "istio-cni-node"} {
		p(`- apiVersion: apps/v1
  kind: DaemonSet
  metadata: {name: %s, namespace: istio-system}
  spec:
    selector: {matchLabels: {k8s-app: %s}}
    template:
      metadata: {labels: {k8s-app: %s}}
      spec: {serviceAccountName: %s, containers: [{name: c, image: docker.io/istio/%s:1.24.0}]}
  status:
    currentNumberScheduled: %d
    desiredNumberScheduled: %d
    numberAvailable: %d
    numberReady: %d
    updatedNumberScheduled: %d
`, ds, ds, ds, ds, ds, nodes, nodes, nodes, nodes, nodes)
	}
	// Ingress: a class-istio Gateway and a route to the first service of
	// the first ten namespaces.
	p(`- apiVersion: v1
  kind: Namespace
  metadata:
    name: istio-ingress
- apiVersion: gateway.networking.k8s.io/v1
  kind: Gateway
  metadata: {name: public, namespace: istio-ingress}
  spec:
    gatewayClassName: istio
    listeners: [{name: http, port: 80, protocol: HTTP, allowedRoutes: {namespaces: {from: All}}}]
- apiVersion: networking.istio.io/v1
  kind: ServiceEntry
  metadata: {name: payments-provider, namespace: istio-system}
  spec:
    hosts: [api.payments.example.com]
    ports: [{number: 443, name: tls, protocol: TLS}]
    resolution: DNS
`)
	nss := (services + 99) / 100
	for i := 0; i < nss; i++ {
		ns := fmt.Sprintf("team-%03d", i)
		kind := i % 10
		var labels string
		switch {
		case kind <= 7:
			labels = "      istio.io/dataplane-mode: ambient\n"
			if kind >= 6 {
				labels += "      istio.io/use-waypoint: waypoint\n"
			}
		case kind == 8:
			labels = "      istio-injection: enabled\n"
		}
		p("- apiVersion: v1\n  kind: Namespace\n  metadata:\n    name: %s\n    labels:\n      kubernetes.io/metadata.name: %s\n%s", ns, ns, labels)
		if kind == 6 || kind == 7 {
			p(`- apiVersion: gateway.networking.k8s.io/v1
  kind: Gateway
  metadata:
    name: waypoint
    namespace: %s
    labels: {istio.io/waypoint-for: service}
  spec:
    gatewayClassName: istio-waypoint
    listeners: [{name: mesh, port: 15008, protocol: HBONE}]
`, ns)
			for s := 0; s < 5; s++ {
				p(`- apiVersion: security.istio.io/v1
  kind: AuthorizationPolicy
  metadata: {name: svc-%d-viewer, namespace: %s}
  spec:
    targetRefs: [{kind: Service, group: "", name: svc-%d}]
    rules:
    - from: [{source: {principals: ["cluster.local/ns/%s/sa/svc-%d"]}}]
      to: [{operation: {methods: [GET]}}]
`, s, ns, s, ns, (s+1)%100)
			}
		}
		if kind == 7 {
			p(`- apiVersion: security.istio.io/v1
  kind: PeerAuthentication
  metadata: {name: default, namespace: %s}
  spec: {mtls: {mode: STRICT}}
- apiVersion: networking.k8s.io/v1
  kind: NetworkPolicy
  metadata: {name: mesh-only, namespace: %s}
  spec:
    podSelector: {}
    ingress:
    - from: [{namespaceSelector: {matchLabels: {istio.io/dataplane-mode: ambient}}}]
`, ns, ns)
		}
		if kind <= 5 && i%3 == 0 {
			p(`- apiVersion: security.istio.io/v1
  kind: AuthorizationPolicy
  metadata: {name: same-namespace, namespace: %s}
  spec:
    rules:
    - from: [{source: {namespaces: [%s, istio-ingress]}}]
`, ns, ns)
		}
		if kind == 8 {
			p(`- apiVersion: security.istio.io/v1
  kind: AuthorizationPolicy
  metadata: {name: svc-0-admin, namespace: %s}
  spec:
    selector: {matchLabels: {app: svc-0}}
    action: DENY
    rules:
    - to: [{operation: {paths: ["/admin/*"]}}]
`, ns)
		}
		if i < 10 {
			p(`- apiVersion: gateway.networking.k8s.io/v1
  kind: HTTPRoute
  metadata: {name: public, namespace: %s}
  spec:
    parentRefs: [{name: public, namespace: istio-ingress}]
    rules: [{backendRefs: [{name: svc-0, port: 80}]}]
`, ns)
		}
		for s := 0; s < 100 && i*100+s < services; s++ {
			name := fmt.Sprintf("svc-%d", s)
			p(`- apiVersion: apps/v1
  kind: Deployment
  metadata:
    name: %s
    namespace: %s
    labels:
      app: %s
    annotations:
      deployment.kubernetes.io/revision: "3"
    generation: 3
    resourceVersion: "%d"
    uid: 6c1f%08x-0000-4000-8000-000000000000
    creationTimestamp: "2025-01-02T03:04:05Z"
  spec:
    replicas: 2
    revisionHistoryLimit: 10
    progressDeadlineSeconds: 600
    selector:
      matchLabels:
        app: %s
    strategy:
      type: RollingUpdate
      rollingUpdate: {maxSurge: 25%%, maxUnavailable: 25%%}
    template:
      metadata:
        labels:
          app: %s
          version: v1
      spec:
        serviceAccountName: %s
        containers:
        - name: app
          image: registry.example.com/%s/%s:1.4.2
          ports:
          - {name: http, containerPort: 8080, protocol: TCP}
          resources:
            requests: {cpu: 100m, memory: 128Mi}
            limits: {memory: 256Mi}
          readinessProbe:
            httpGet: {path: /healthz, port: 8080}
        restartPolicy: Always
        terminationGracePeriodSeconds: 30
  status:
    availableReplicas: 2
    readyReplicas: 2
    replicas: 2
    updatedReplicas: 2
    observedGeneration: 3
- apiVersion: v1
  kind: Service
  metadata:
    name: %s
    namespace: %s
    labels: {app: %s}
    resourceVersion: "%d"
    uid: 7d2f%08x-0000-4000-8000-000000000000
  spec:
    type: ClusterIP
    clusterIP: 10.96.%d.%d
    clusterIPs: [10.96.%d.%d]
    ipFamilies: [IPv4]
    ipFamilyPolicy: SingleStack
    selector: {app: %s}
    sessionAffinity: None
    ports:
    - {name: http, port: 80, protocol: TCP, targetPort: http}
  status:
    loadBalancer: {}
`, name, ns, name, 100000+i*100+s, i*100+s, name, name, name, ns, name,
				name, ns, name, 200000+i*100+s, i*100+s, (i*100+s)/250, (i*100+s)%250+1, (i*100+s)/250, (i*100+s)%250+1, name)
		}
	}
	return w.Flush()
}
