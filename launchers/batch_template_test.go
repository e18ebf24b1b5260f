package launchers_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"ipcluster/launchers"
)

// TestLegacyTemplateVariables renders a template in ipyparallel's {n} form that uses every
// variable ipyparallel 7.1 and 9.x give batch templates (the Slurm launcher's account, qos,
// timelimit and options among them) and compares the whole script.
func TestLegacyTemplateVariables(t *testing.T) {
	const tmpl = `#!/bin/sh
#SBATCH --ntasks={n} --partition={queue}
#SBATCH --account={account} --qos={qos} --time={timelimit}
#SBATCH {options}
#SBATCH --output={output_file}
# {profile_dir} {cluster_id} {site}
# {environment_json}
# {program} / {program_args}
srun {program_and_args}
`
	const want = `#!/bin/sh
#SBATCH --ntasks=4 --partition=QUEUE
#SBATCH --account=ACCT --qos=QOS --time=01:30:00
#SBATCH --constraint=haswell --exclusive
#SBATCH --output=/home/user/.ipython/profile_default/log/ipengine-CID-1700000000000.log
# /home/user/.ipython/profile_default CID cluster-a
# {"IPP_CLUSTER_ID":"CID","IPP_PROFILE_DIR":"/home/user/.ipython/profile_default"}
# /usr/local/bin/ipengine / --profile-dir /home/user/.ipython/profile_default --cluster-id CID
srun /usr/local/bin/ipengine --profile-dir /home/user/.ipython/profile_default --cluster-id CID
`
	opts := launchers.BatchOptions{BatchTemplate: tmpl, Queue: "QUEUE", Account: "ACCT", QoS: "QOS", Timelimit: "01:30:00",
		Options: "--constraint=haswell --exclusive", Namespace: map[string]string{"site": "cluster-a"}}
	s, err := launchers.NewBatch(row(t, "slurm"), opts).(launchers.Renderer).Render(context.Background(), goldenRequest(launchers.Engines))
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Files[0].Text; got != want {
		t.Errorf("rendered:\n%s\nwant:\n%s", got, want)
	}
}

// TestUserTemplateJobName: a user's template that names its job keeps that name (no name
// option on the submit command line, which would override it); one that does not is named
// on the command line with the cluster id, so that the job can be traced to its cluster.
func TestUserTemplateJobName(t *testing.T) {
	named := map[string]string{"pbs": "#PBS -N mine", "pbspro": "#PBS -N mine", "sge": "#$ -N mine", "slurm": "#SBATCH --job-name=mine",
		"lsf": "#BSUB -J mine[1-4]", "htcondor": "batch_name = mine"}
	for name, directive := range named {
		t.Run(name, func(t *testing.T) {
			r := row(t, name)
			render := func(tmpl string) *launchers.Script {
				t.Helper()
				s, err := launchers.NewBatch(r, launchers.BatchOptions{BatchTemplate: tmpl}).(launchers.Renderer).Render(context.Background(), goldenRequest(launchers.Engines))
				if err != nil {
					t.Fatal(err)
				}
				return s
			}
			s := render("#!/bin/sh\n" + directive + "\n{program_and_args}\n")
			if s.JobName != "mine" {
				t.Errorf("job name %q, want the template's \"mine\"", s.JobName)
			}
			var plain []string // the row's submit command, with the file only
			for _, a := range r.Submit {
				plain = append(plain, strings.ReplaceAll(a, "{file}", s.Files[0].Path))
			}
			if !slices.Equal(s.Submit, plain) {
				t.Errorf("submit command %q, want %q: a name there would override the template's %q", s.Submit, plain, directive)
			}
			if len(r.NameArgs) == 0 {
				return
			}
			s = render("#!/bin/sh\n{program_and_args}\n")
			if !slices.ContainsFunc(s.Submit, func(a string) bool { return strings.Contains(a, "ipengine-CID-1700000000000") }) {
				t.Errorf("submit command %q does not name a template's unnamed job with the cluster id", s.Submit)
			}
		})
	}
}

// TestLegacyTemplateProgram: {program} is the whole configured command (engine_cmd), as in
// ipyparallel, and {program_args} the cluster's arguments after it.
func TestLegacyTemplateProgram(t *testing.T) {
	req := goldenRequest(launchers.Engines)
	req.Command = append([]string{"/usr/bin/python3", "-m", "ipyparallel.engine"}, req.Command[1:]...)
	opts := launchers.BatchOptions{BatchTemplate: "#!/bin/sh\n{program} | {program_args}\n"}
	s, err := launchers.NewBatch(row(t, "pbs"), opts).(launchers.Renderer).Render(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	want := "#!/bin/sh\n/usr/bin/python3 -m ipyparallel.engine | --profile-dir /home/user/.ipython/profile_default --cluster-id CID\n"
	if got := s.Files[0].Text; got != want {
		t.Errorf("rendered %q, want %q", got, want)
	}
}
