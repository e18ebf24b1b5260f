package main

import (
	"ipcluster/profiles"
	"ipcluster/runtime/engine"
	"ipcluster/traitconfig"
)

func usage() string {
	return `ipengine: the Go IPython-Parallel engine for shell commands.

It registers with a controller (found through --file, IPP_CONNECTION_INFO, or the profile's
ipcontroller[-<cluster_id>]-engine.json) and runs the code of every execute request as a shell
command in the work directory, in its own process group, with IPP_ENGINE_ID, IPP_ENGINE_UUID and
IPP_CLUSTER_ID set. Output streams back while the command runs; a non-zero exit is an error
(CommandError) carrying the exit code. Python functions (apply/map) need Python engines:
  c.EngineLauncher.engine_cmd = ['/usr/bin/python3', '-m', 'ipyparallel.engine']

  view.execute('hostname', block=True).stdout      # from ipyparallel's Client

A startup_command (-c) and startup_script (-s) run once in the work directory before the engine
registers; if one fails, the engine exits with its output.

With --ssh=[user@]host[:port] (or the connection file's "ssh", which ipcontroller --enginessh
writes) every connection to the controller goes through one SSH connection to that server
(~/.ssh/config, ssh-agent and identity files, known_hosts, ProxyJump), dialled again if it drops.

It stops on shutdown requests, SIGINT/SIGTERM (stopping the running command), or when the
controller's heartbeats stop. If it is killed outright (SIGKILL), a small guard process it started
with the first command stops what that command left running.

Options:
` + profiles.Usage(engine.Options()) + `
Every setting can also be given as --Class.trait=value or in the profile's
ipengine_config.py/.json (command line > environment > files > defaults):
` + traitconfig.TraitUsage(engine.Specs()) + `
Other settings of ipyparallel's ipengine are reported as unknown, with the closest name.

Environment: IPYTHONDIR, IPP_CONNECTION_INFO, IPP_PROFILE_DIR, IPP_CLUSTER_ID, IPP_SESSION_KEY, and
for --mpi the launcher's OMPI_COMM_WORLD_RANK, PMIX_RANK, PMI_RANK or SLURM_PROCID.
`
}
