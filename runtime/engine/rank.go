package engine

import (
	"fmt"
	"strconv"
	"strings"
)

// rankVariables are where MPI launchers put the process rank, most specific first: Open MPI
// (OMPI_COMM_WORLD_RANK), PMIx launchers (PMIX_RANK), MPICH/Hydra and Intel MPI
// (PMI_RANK), and Slurm's srun (SLURM_PROCID), which starts MPI jobs without mpiexec.
var rankVariables = []string{"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK", "SLURM_PROCID"}

// MPIRank reads the MPI rank of this process from the environment the launcher set
// (getenv is os.Getenv in production). The engine requests it as its id, as ipyparallel's
// `ipengine --mpi` does with mpi4py, without linking MPI.
func MPIRank(getenv func(string) string) (int, error) {
	for _, name := range rankVariables {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			continue
		}
		rank, err := strconv.Atoi(v)
		if err != nil || rank < 0 {
			return 0, fmt.Errorf("MPI rank %s=%q is not a non-negative number", name, v)
		}
		return rank, nil
	}
	return 0, fmt.Errorf("no MPI rank in the environment (looked for %s): start the engines with mpiexec, mpirun or srun",
		strings.Join(rankVariables, ", "))
}
