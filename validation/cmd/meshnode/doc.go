// Command meshnode runs one role of the validation data plane as a process,
// so the harness can place each in its own network namespace:
//
//	meshnode ca       --mesh mesh.yaml --pki DIR --listen ADDR   CA server; writes DIR/root.pem and bootstrap credentials
//	meshnode ztunnel  --mesh mesh.yaml --pki DIR --ca-url URL --node NODE [--outbound source=NS/POD,listen=ADDR,dest=IP:PORT]... [--capture listen=ADDR,mode=redirect|tproxy]... [--inbound-listen ADDR]
//	meshnode waypoint --mesh mesh.yaml --pki DIR --ca-url URL --name NS/NAME
//	meshnode sidecar  --mesh mesh.yaml --pki DIR --ca-url URL --pod NS/POD [--outbound listen=ADDR,dest=IP:PORT]... [--app-port 8080]
//	meshnode echo     --name POD --http ADDR --tcp ADDR [--service-time 1ms] [--response-size 1024]
//	meshnode mesh     --out mesh.yaml [--base 127.20.0.0/16] [--keep-pod-ips] TOPOLOGY...   topology spec or manifests → mesh file
//	meshnode load     --url URL [--via ADDR] --qps 1000 --c 8 --t 10s [--mode open|closed] [--keepalive=false] [--payload-size 1024] [--json out.json]
//
// Every long-running role serves /metrics (Istio metrics plus Go process
// metrics) and /ready on --metrics, and on SIGTERM or SIGINT stops accepting,
// drains for up to --drain, and exits 0 (1 if the drain deadline cut
// connections). Exit status 2 means bad flags.
//
// Names. In the mesh file a workload's or waypoint's ip and a service's
// vip may be DNS names (the kind backend writes pod-P.N.svc.cluster.local
// and S.N.svc.cluster.local), and so may the host of an --outbound dest.
// The roles reading the mesh resolve them at start-up, before compiling
// it: in rounds with backoff (100 ms doubling to 2 s) until every name
// resolved or --resolve-timeout (120 s) passed, then fail naming each
// unresolved name and where it is used. Workloads listed with --optional
// NS/NAME (pods that exist only while a load runs) are looked up once per
// round, never waited for, and get a placeholder from 240.0.0.0/4 if
// absent; the CA looks nothing up (it only needs identities). They also
// wait up to --resolve-timeout for the CA's root.pem and bootstrap
// credential. With --re-resolve D they look the names up again every D;
// when one moved (a pod restarted with a new IP) the role drains and the
// process exits with status 3, so its controller restarts it with fresh
// tables. `meshnode load --json -` (or /dev/stdout) prints the result
// JSON on standard output.
package main
