package launchers

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// BatchOptions are the settings of a batch launcher, under ipyparallel's names where it has
// them (c.BatchSystemLauncher.queue, c.SlurmLauncher.account, c.PBSLauncher.submit_command,
// ...), read along the launcher's class chain for the role it starts.
type BatchOptions struct {
	LoginOptions                      // ssh_host, ssh_config, accept_new_host_keys: submit through a login host
	Queue           string            `config:"queue" help:"queue (Slurm: partition) to submit to"`
	Account         string            `config:"account" help:"account (Slurm, PBS) or project (SGE, LSF, Windows HPC) charged for the jobs"`
	Project         string            `config:"project" help:"same as account (SGE and LSF call it project)"`
	Walltime        string            `config:"walltime" help:"time limit of each job: HH:MM:SS, D-HH:MM:SS, a Go duration (90m) or minutes"`
	Timelimit       string            `config:"timelimit" help:"same as walltime (ipyparallel's Slurm name)"`
	QoS             string            `config:"qos" help:"Slurm quality of service"`
	Options         string            `config:"options" help:"free text for your template's {options} (ipyparallel's Slurm trait; the default templates do not use it: see extra_directives)"`
	Memory          string            `config:"memory" help:"memory per engine (or for the controller), e.g. 4GB, 500MiB; written in the scheduler's unit"`
	Cores           int               `config:"cores_per_engine" help:"cores for each engine (or the controller)"`
	EnginesPerNode  int               `config:"engines_per_node" help:"engines each array element (node) runs; elements = ceil(n / engines_per_node)"`
	JobName         string            `config:"job_name" help:"job name prefix (default ipengine or ipcontroller); the cluster id is always appended"`
	OutputFile      string            `config:"output_file" help:"the jobs' output file (default <profile>/log/<job name>.log)"`
	Environment     map[string]string `config:"environment" help:"environment variables set in the job script"`
	ExtraDirectives []string          `config:"extra_directives" help:"more directives, e.g. ['--constraint=haswell'] (the scheduler's prefix is added)"`
	DirectivesSkip  []string          `config:"directives_skip" help:"leave out generated directives containing any of these strings"`
	Prologue        []string          `config:"prologue" help:"shell lines run in the job before the program (e.g. module load ...)"`
	Epilogue        []string          `config:"epilogue" help:"shell lines run in the job after the program"`
	BatchTemplate   string            `config:"batch_template" help:"your own job script template (text/template, or ipyparallel's {n} form)"`
	TemplateFile    string            `config:"batch_template_file" help:"file holding your own job script template"`
	Namespace       map[string]string `config:"namespace" help:"extra variables for your template"`
	SubmitCommand   []string          `config:"submit_command" help:"submit command (argv); the script path is appended unless an argument is {file}"`
	DeleteCommand   []string          `config:"delete_command" help:"cancel command (argv); job ids are appended"`
	SignalCommand   []string          `config:"signal_command" help:"signal command (argv); {sig} is the signal name, job ids are appended"`
	StatusCommand   []string          `config:"status_command" help:"status command (argv); {ids} is the comma-joined job ids"`
	JobIDRegexp     string            `config:"job_id_regexp" help:"regular expression finding the job id in what the submit command prints"`
	JobIDGroup      int               `config:"job_id_regexp_group" help:"group of job_id_regexp holding the id (0: the whole match)"`
	Scheduler       string            `config:"scheduler" help:"Windows HPC head node (/scheduler:<name> on every job command)"`
}

func (o BatchOptions) account() string {
	if o.Account != "" {
		return o.Account
	}
	return o.Project
}

func (o BatchOptions) walltime() string {
	if o.Walltime != "" {
		return o.Walltime
	}
	return o.Timelimit
}

// parseWalltime reads HH:MM:SS, D-HH:MM:SS, MM:SS, a Go duration, or plain minutes.
func parseWalltime(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if d, err := time.ParseDuration(s); err == nil && strings.ContainsAny(s, "hms") {
		return d, nil
	}
	days := 0
	if i := strings.IndexByte(s, '-'); i > 0 {
		n, err := strconv.Atoi(s[:i])
		if err != nil {
			return 0, fmt.Errorf("walltime %q: bad day count", s)
		}
		days, s = n, s[i+1:]
	}
	parts := strings.Split(s, ":")
	nums := make([]int, len(parts))
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("walltime %q: want HH:MM:SS, a duration like 90m, or minutes", s)
		}
		nums[i] = n
	}
	var d time.Duration
	switch len(nums) {
	case 1:
		d = time.Duration(nums[0]) * time.Minute
	case 2:
		d = time.Duration(nums[0])*time.Minute + time.Duration(nums[1])*time.Second
	case 3:
		d = time.Duration(nums[0])*time.Hour + time.Duration(nums[1])*time.Minute + time.Duration(nums[2])*time.Second
	default:
		return 0, fmt.Errorf("walltime %q: too many fields", s)
	}
	return d + time.Duration(days)*24*time.Hour, nil
}

func formatWalltime(d time.Duration, form string) string {
	secs := int(math.Ceil(d.Seconds()))
	switch form {
	case "s":
		return strconv.Itoa(secs)
	case "hm":
		mins := (secs + 59) / 60
		return fmt.Sprintf("%02d:%02d", mins/60, mins%60)
	}
	return fmt.Sprintf("%02d:%02d:%02d", secs/3600, secs/60%60, secs%60)
}

var memoryRe = regexp.MustCompile(`^\s*([0-9.]+)\s*([kKmMgGtT]?)(i?)[bB]?\s*$`)

// parseMemory reads 4GB (decimal), 4GiB or 4G (binary, as schedulers read it), 500MB, or bytes.
func parseMemory(s string) (float64, error) {
	m := memoryRe.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("memory %q: want a size such as 4GB, 4GiB or 512M", s)
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, fmt.Errorf("memory %q: %v", s, err)
	}
	base := 1000.0
	if m[3] == "i" || !strings.HasSuffix(strings.ToUpper(strings.TrimSpace(s)), "B") {
		base = 1024 // "4G" and "4GiB" are binary, "4GB" decimal (dask's convention)
	}
	exp := strings.Index("KMGT", strings.ToUpper(m[2])) + 1
	return v * math.Pow(base, float64(exp)), nil
}

// formatMemory writes bytes in a scheduler's unit, rounded up, as dask-jobqueue does.
func formatMemory(bytes float64, unit string) string {
	mib := math.Ceil(bytes / (1 << 20))
	switch unit {
	case "kb":
		return strconv.FormatFloat(math.Ceil(bytes/1024), 'f', 0, 64)
	case "mb":
		return strconv.FormatFloat(math.Floor(bytes/(1<<20)), 'f', 0, 64)
	case "pbs":
		if gib := math.Ceil(bytes / (1 << 30)); bytes >= 1<<30 {
			return fmt.Sprintf("%.0fgb", gib)
		}
		return fmt.Sprintf("%.0fmb", mib)
	}
	if bytes >= 1<<30 { // slurm, sge
		return fmt.Sprintf("%.0fG", math.Ceil(bytes/(1<<30)))
	}
	return fmt.Sprintf("%.0fM", mib)
}
