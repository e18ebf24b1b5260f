package main

import (
	"ipcluster/profiles"
	"ipcluster/runtime/controller"
)

// options are ipyparallel's ipcontroller options, generated from the controller's option
// declarations (controller.Aliases, controller.Config's tags).
var options = controller.Options()

func usage() string {
	return `ipcontroller: the Go IPython-Parallel controller (hub and schedulers in one process).

Engines and clients find it through the connection files it writes into
<profile_dir>/security/ipcontroller[-<cluster_id>]-{client,engine}.json once its sockets are bound.
It stops on SIGINT/SIGTERM or when a client calls Client.shutdown(hub=True), and removes those
files unless --reuse was given.

Options:
` + profiles.Usage(options) + `
Every setting can also be given as --Class.trait=value or in the profile's
ipcontroller_config.py/.json (command line > environment > files > defaults):
` + profiles.TraitUsage(controller.Specs()) + `
Other settings of ipyparallel's ipcontroller are reported as unknown, with the closest name.

Environment: IPYTHONDIR, IPP_PROFILE_DIR, IPP_CLUSTER_ID, IPP_SESSION_KEY (the HMAC key).
`
}
