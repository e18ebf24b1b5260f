package main

import (
	"strconv"

	"ipcluster/runtime/client"
	"ipcluster/runtime/engine"
)

// pythonPxCode is the code px sends to a Python engine to run command there: the shared
// runner (client.PythonCommand), with the engine's identity and the cluster id that a Go
// engine puts in a command's environment, and the Go engine's label in its errors.
func pythonPxCode(command string, engineID int, engineUUID, clusterID string) string {
	env := map[string]string{"IPP_ENGINE_ID": strconv.Itoa(engineID), "IPP_ENGINE_UUID": engineUUID, "IPP_CLUSTER_ID": clusterID}
	return client.PythonCommand(command, engine.CommandLabel(command), env)
}
