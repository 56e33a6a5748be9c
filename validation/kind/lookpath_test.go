package kind

import "os/exec"

var execLookPath = exec.LookPath
