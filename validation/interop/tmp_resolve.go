package interop

import _ "istio.io/istio/pkg/hbone"
