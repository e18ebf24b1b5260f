package launchers

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"ipcluster/profiles"
	"ipcluster/templates"
)

// Script is what a batch launcher submits: the files it writes and the submit command.
type Script struct {
	Files     []ScriptFile      // the batch file first (a body script after it, for HTCondor and WinHPC)
	Submit    []string          // argv
	SubmitEnv map[string]string // added to the submit command's environment
	Stdin     bool              // the batch file goes to the submit command's standard input
	// Host is the login host where the files are written and the commands run ("" for this
	// machine); Stage are the files copied to the same paths there first (those that exist).
	Host    string
	Stage   []string
	JobName string
	// NamedByTemplate: the user's template names the job itself (JobName is that name, which
	// other jobs may share, so the job is never looked up by it).
	NamedByTemplate bool
}

// Renderer is implemented by launchers that submit scripts: what Start would write and
// submit, without doing it (`ipcluster start --dry-run`).
type Renderer interface {
	Render(ctx context.Context, req Request) (*Script, error)
}

// ScriptFile is one file to write.
type ScriptFile struct {
	Path, Text string
}

// jobName is the name every job of the cluster carries: ipengine-<cluster id>-<set id> or
// ipcontroller-<cluster id>, so that jobs can be traced back to their cluster.
func jobName(prefix string, req Request) string {
	if prefix == "" {
		prefix = "ipengine"
		if req.Role == Controller {
			prefix = "ipcontroller"
		}
	}
	name := prefix + "-" + req.ClusterID
	if req.Role == Engines && req.SetID != "" {
		name += "-" + req.SetID
	}
	return name
}

// render builds the job script for a request.
func (b *batch) render(req Request, o BatchOptions) (*Script, error) {
	row := b.row
	n := req.N
	if req.Role == Controller || n < 1 {
		n = 1
	}
	perElement, elements := 1, n
	if !row.Tasks && req.Role == Engines && o.EnginesPerNode > 1 {
		perElement = o.EnginesPerNode
		elements = (n + perElement - 1) / perElement
	}
	if row.Tasks {
		elements = 1
	}
	name := jobName(o.JobName, req)
	base := filepath.Join(req.LogDir, name)
	output := o.OutputFile
	if output == "" {
		output = base + ".log"
	}
	env := map[string]string{}
	for k, v := range req.Env {
		env[k] = v
	}
	for k, v := range o.Environment {
		env[k] = v
	}
	d := templates.Data{
		Scheduler: row.Name, Role: string(req.Role), N: n, Elements: elements, PerElement: perElement,
		Queue: o.Queue, Account: o.account(), QoS: o.QoS, Options: o.Options, Walltime: o.walltime(), Memory: o.Memory, Cores: o.Cores,
		JobName: name, ProfileDir: req.ProfileDir, ClusterID: req.ClusterID, WorkDir: req.WorkDir,
		OutputFile: output, ExitFile: base + ".exit", Launch: row.Launch, Env: env,
		Prologue: o.Prologue, Epilogue: o.Epilogue, Namespace: map[string]any{},
	}
	if len(req.Command) > 0 {
		d.Program, d.Args = req.Command[0], req.Command[1:]
		d.CmdLen = len(req.Command) - len(clusterPart(req.Command)) // the cluster's arguments start at --profile-dir
	}
	if row.IndexVar != "" && (row.BodyFile || elements > 1) {
		d.IndexVar = row.IndexVar
	}
	for k, v := range o.Namespace {
		d.Namespace[k] = v
	}
	dirs, err := directives(row, d, o)
	if err != nil {
		return nil, err
	}
	d.Directives = dirs
	file := base + row.Ext
	s := &Script{JobName: name}
	if row.BodyFile {
		d.ScriptFile = base + ".body.sh"
	}
	var text string
	switch {
	case o.BatchTemplate != "" || o.TemplateFile != "":
		src := o.BatchTemplate
		if src == "" {
			data, err := os.ReadFile(o.TemplateFile)
			if err != nil {
				return nil, fmt.Errorf("read batch_template_file: %w", err)
			}
			src = string(data)
		}
		text, err = templates.Render(name, src, d)
	default:
		text, err = templates.Default(row.Template, string(req.Role), d)
	}
	if err != nil {
		return nil, fmt.Errorf("%s %s script: %w", row.Title, req.Role, err)
	}
	s.Files = append(s.Files, ScriptFile{file, text})
	if row.BodyFile {
		body, err := templates.Default(row.Template, "body", d)
		if err != nil {
			return nil, err
		}
		s.Files = append(s.Files, ScriptFile{d.ScriptFile, body})
	}
	submit := o.SubmitCommand
	if len(submit) == 0 {
		submit = row.Submit
	}
	userTemplate := o.BatchTemplate != "" || o.TemplateFile != ""
	if userTemplate && row.NameDirective != "" {
		if m := regexp.MustCompile(row.NameDirective).FindStringSubmatch(text); m != nil {
			s.JobName, s.NamedByTemplate = m[1], true
		}
	}
	s.Submit, s.Stdin = submitArgv(submit, file, userTemplate && !s.NamedByTemplate, row, name)
	if row.SchedulerArg != "" && o.Scheduler != "" {
		s.Submit = append(s.Submit, row.SchedulerArg+o.Scheduler)
	}
	s.SubmitEnv = row.SubmitEnv
	if s.Host = o.SSHHost; s.Host != "" && req.Role == Engines {
		for _, role := range []string{"client", "engine"} {
			s.Stage = append(s.Stage, profiles.ConnectionFile(req.ProfileDir, req.ClusterID, role))
		}
	}
	return s, nil
}

// submitArgv puts the file into the submit command ({file}, or appended for commands that
// take it as an argument; none for LSF, which reads it on stdin), and names the job on the
// command line when asked (a user's template that does not name the job: so it still
// carries the cluster id).
func submitArgv(cmd []string, file string, nameIt bool, row Scheduler, name string) ([]string, bool) {
	var argv []string
	hasFile := false
	for _, a := range cmd {
		if strings.Contains(a, "{file}") {
			hasFile = true
			a = strings.ReplaceAll(a, "{file}", file)
			if nameIt {
				for _, na := range row.NameArgs {
					argv = append(argv, strings.ReplaceAll(na, "{name}", name))
				}
			}
		}
		argv = append(argv, a)
	}
	stdin := !hasFile && row.SubmitStdin
	if !hasFile && !stdin {
		argv = append(argv, file)
	}
	return argv, stdin
}

var placeholderRe = regexp.MustCompile(`\{(\??)([a-z_]+)\}`)

// directives spells the header lines for the scheduler from its row, then drops skipped ones
// and adds the extra ones.
func directives(row Scheduler, d templates.Data, o BatchOptions) ([]string, error) {
	vals := map[string]string{"name": d.JobName, "n": strconv.Itoa(d.N), "queue": d.Queue, "account": d.Account,
		"output": d.OutputFile, "cluster_id": d.ClusterID, "qos": o.QoS}
	if d.Role == string(Engines) && d.Elements > 1 {
		vals["elements"] = strconv.Itoa(d.Elements)
		if row.ArrayName != "" {
			vals["array"] = strings.ReplaceAll(row.ArrayName, "{elements}", vals["elements"])
		}
	}
	if d.Cores > 0 {
		vals["cores"] = strconv.Itoa(d.Cores)
	}
	if d.PerElement > 1 || o.EnginesPerNode > 1 {
		vals["per_node"] = strconv.Itoa(o.EnginesPerNode)
	}
	if d.Memory != "" {
		bytes, err := parseMemory(d.Memory)
		if err != nil {
			return nil, err
		}
		vals["memory"] = formatMemory(bytes, row.MemoryUnit)
		cores := max(d.Cores, 1)
		vals["mem_per_cpu"] = formatMemory(bytes/float64(cores), row.MemoryUnit)
	}
	if d.Walltime != "" {
		wt, err := parseWalltime(d.Walltime)
		if err != nil {
			return nil, err
		}
		vals["walltime"] = formatWalltime(wt, row.WalltimeForm)
	}
	lines := append([]string(nil), row.Directives...)
	if row.ArrayDirective != "" {
		lines = append([]string{lines[0], row.ArrayDirective}, lines[1:]...)
	}
	var out []string
	for _, line := range lines {
		text, ok := expand(line, vals)
		if !ok || skipped(text, o.DirectivesSkip) {
			continue
		}
		out = append(out, prefixed(row.Prefix, text))
	}
	for _, x := range o.ExtraDirectives {
		out = append(out, prefixed(row.Prefix, x))
	}
	return out, nil
}

func prefixed(prefix, text string) string {
	if prefix == "" || strings.HasPrefix(text, prefix) {
		return text
	}
	return prefix + " " + text
}

func skipped(line string, skip []string) bool {
	for _, s := range skip {
		if s != "" && strings.Contains(line, s) {
			return true
		}
	}
	return false
}

// expand fills a directive's placeholders; ok is false when the line is to be left out.
func expand(line string, vals map[string]string) (string, bool) {
	segments, kept := 0, 0
	for {
		i := strings.Index(line, "[[")
		if i < 0 {
			break
		}
		j := strings.Index(line[i:], "]]")
		if j < 0 {
			break
		}
		segments++
		seg, ok := fill(line[i+2:i+j], vals)
		if ok {
			kept++
		} else {
			seg = ""
		}
		line = line[:i] + seg + line[i+j+2:]
	}
	if segments > 0 && kept == 0 && !placeholderRe.MatchString(line) {
		return "", false
	}
	return fill(line, vals)
}

func fill(s string, vals map[string]string) (string, bool) {
	ok := true
	out := placeholderRe.ReplaceAllStringFunc(s, func(m string) string {
		sub := placeholderRe.FindStringSubmatch(m)
		v, set := vals[sub[2]]
		if sub[2] == "array" {
			return v // may be empty
		}
		if !set || v == "" {
			ok = false
		}
		if sub[1] == "?" {
			return ""
		}
		return v
	})
	return out, ok
}
