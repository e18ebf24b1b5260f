# Configuration file for ipcluster, written the way ipyparallel's documentation shows.
# Every value here is a Python literal, so the Go tools read it without Python.

c = get_config()  # noqa

#------------------------------------------------------------------------------
# Cluster(LoggingConfigurable) configuration
#------------------------------------------------------------------------------
## The number of engines to start
#  Default: None
# c.Cluster.n = None
c.Cluster.n = 4
c.Cluster.engine_launcher_class = 'ssh'
c.Cluster.delay = 1  # an int for a float trait

#------------------------------------------------------------------------------
# SSH engines: a dict of host -> n, (n, args) or {'n': n, 'engine_args': args}
#------------------------------------------------------------------------------
c.SSHEngineSetLauncher.engines = {'host1.example.com': 2,
    'host2.example.com': 5,
    'host3.example.com': (1, ['--profile-dir', '/home/different/location']),
    'host4.example.com': {'n': 3, 'engine_args': ['--debug']},
}
c.SSHLauncher.ssh_args = ['-q', '-o', 'StrictHostKeyChecking=no']
c.SSHEngineSetLauncher.engine_args.append('--log-level=10')

#------------------------------------------------------------------------------
# PBS: a value on PBSLauncher applies to the PBS engine and controller launchers
#------------------------------------------------------------------------------
c.PBSLauncher.queue = 'short'
c.PBSEngineSetLauncher.batch_template_file = 'pbs.engine.template'
c.PBSControllerLauncher.batch_template = """#PBS -N ipython
#PBS -j oe
#PBS -l walltime=00:10:00
#PBS -l nodes={n//4}:ppn=4
#PBS -q {queue}

cd $PBS_O_WORKDIR
export PATH=$HOME/usr/local/bin
/usr/local/bin/mpiexec -n {n} ipcontroller --profile-dir={profile_dir}
"""
c.BatchSystemLauncher.job_id_regexp = r'\d+'

#------------------------------------------------------------------------------
# Slurm
#------------------------------------------------------------------------------
c.SlurmLauncher.account = 'ACCT'
c.SlurmLauncher.qos = "normal"
c.SlurmEngineSetLauncher.timelimit = '01:00:00'
c.SlurmEngineSetLauncher.namespace = {
    'cores_per_engine': 2,
    'modules': ('gcc', 'openmpi'),
}

#------------------------------------------------------------------------------
# MPI and the engine command
#------------------------------------------------------------------------------
c.MPILauncher.mpi_args = ['--hostfile', 'hosts', '--allow-run-as-root']
c.EngineLauncher.engine_cmd = ['/usr/bin/python3', '-m', 'ipyparallel.engine']
c.BaseLauncher.stop_timeout = 30
