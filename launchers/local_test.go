package launchers_test

import (
	"testing"

	"ipcluster/launchers"
	"ipcluster/launchers/launchertest"
)

func TestLocalConformance(t *testing.T) {
	launchertest.Run(t, launchertest.Target{New: func(*testing.T) launchers.Launcher { return launchers.NewLocal() }})
}

func TestMPIConformance(t *testing.T) {
	launchertest.Run(t, launchertest.Target{
		New: func(*testing.T) launchers.Launcher { return launchers.NewMPI(launchers.MPIOptions{}) },
		Env: map[string]string{ // Open MPI as root, more ranks than cores, loopback only
			"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
			"OMPI_MCA_rmaps_base_oversubscribe": "1", "OMPI_MCA_btl_tcp_if_include": "lo", "OMPI_MCA_oob_tcp_if_include": "lo",
		},
	})
}
