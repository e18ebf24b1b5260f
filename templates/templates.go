// Package templates renders batch job scripts: the embedded default templates (text/template
// files, one per scheduler and role), user templates in the same form, and templates written
// for ipyparallel in its "{n}", "{queue}", "{n//4}" form.
package templates

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"text/template"

	"ipcluster/internal/shellquote"
)

//go:embed files/*.tmpl
var files embed.FS

// Data is what a template sees.
type Data struct {
	Scheduler  string // slurm, pbs, pbspro, sge, lsf, htcondor, winhpc
	Role       string // controller or engines
	N          int    // engines requested (1 for a controller)
	Elements   int    // array elements (or tasks): ceil(N / EnginesPerNode)
	PerElement int    // engines each element runs
	Queue      string
	Account    string
	QoS        string // Slurm's quality of service
	// Options are ipyparallel's Slurm "options" trait: free text for the user's template.
	Options    string
	Walltime   string
	Memory     string
	Cores      int
	JobName    string
	ProfileDir string
	ClusterID  string
	WorkDir    string
	OutputFile string
	// ExitFile is where each element records its exit status (the index is appended).
	ExitFile string
	// IndexVar is the variable holding the array index inside the job ("" for none).
	IndexVar string
	// Launch prefixes the program inside the job (Slurm: "srun ").
	Launch string
	// Program and Args are the command each engine (or the controller) runs.
	Program string
	Args    []string
	// CmdLen is how many words of Program and Args are the configured command (engine_cmd or
	// controller_cmd: ipyparallel's {program}), the rest being its arguments ({program_args}).
	CmdLen int
	Env    map[string]string
	// Directives are the scheduler's header lines, already spelled for it.
	Directives []string
	Prologue   []string
	Epilogue   []string
	// ScriptFile is the shell body of schedulers whose description names an executable.
	ScriptFile string
	// Namespace holds extra user variables (ipyparallel's namespace trait).
	Namespace map[string]any
}

// CmdAndArgs splits the command line as ipyparallel does: the configured command (engine_cmd,
// several words for ['python3', '-m', 'ipyparallel.engine']) and its arguments.
func (d Data) CmdAndArgs() (cmd, args []string) {
	all := append([]string{d.Program}, d.Args...)
	k := min(max(d.CmdLen, 1), len(all))
	return all[:k], all[k:]
}

// ProgramAndArgs is the command, shell-quoted.
func (d Data) ProgramAndArgs() string {
	return shellquote.Join(append([]string{d.Program}, d.Args...))
}

// EnvJSON is Env as a JSON object (ipyparallel's environment_json).
func (d Data) EnvJSON() string {
	data, err := json.Marshal(d.Env)
	if err != nil || d.Env == nil {
		return "{}"
	}
	return string(data)
}

// IndexRef is the shell expression of the element's index ("0" when not an array).
func (d Data) IndexRef() string {
	if d.IndexVar == "" {
		return "0"
	}
	return `"${` + d.IndexVar + `}"`
}

// EnvList is Env sorted by name.
func (d Data) EnvList() []KV {
	out := make([]KV, 0, len(d.Env))
	for k, v := range d.Env {
		out = append(out, KV{k, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// KV is one environment variable.
type KV struct{ Key, Value string }

var funcs = template.FuncMap{
	"shquote": shellquote.Quote,
	"shjoin":  shellquote.Join,
	"ceildiv": func(a, b int) int {
		if b <= 0 {
			return a
		}
		return (a + b - 1) / b
	},
	"xml":  xmlEscape,
	"join": strings.Join,
	"seq": func(n int) []int {
		out := make([]int, n)
		for i := range out {
			out[i] = i
		}
		return out
	},
}

// Default renders the embedded template for a scheduler and role ("slurm", "engines").
func Default(name, role string, d Data) (string, error) {
	t, err := template.New("").Funcs(funcs).ParseFS(files, "files/common.tmpl", "files/"+name+"."+role+".tmpl")
	if err != nil {
		return "", fmt.Errorf("template %s.%s: %w", name, role, err)
	}
	return execute(t.Lookup(name+"."+role+".tmpl"), d)
}

// IsLegacy reports whether a user template is in ipyparallel's "{n}" form rather than
// text/template's "{{.N}}".
func IsLegacy(text string) bool {
	for _, open := range []string{"{{.", "{{ .", "{{-", "{{if", "{{range", "{{with", "{{template", "{{shquote", "{{ceildiv", "{{ if", "{{ range"} {
		if strings.Contains(text, open) {
			return false
		}
	}
	return true
}

// Render renders a user template, in either form.
func Render(name, text string, d Data) (string, error) {
	if IsLegacy(text) {
		return RenderLegacy(text, LegacyVars(d))
	}
	t, err := template.New(name).Funcs(funcs).Option("missingkey=error").Parse(text)
	if err != nil {
		return "", fmt.Errorf("parse template %s: %w", name, err)
	}
	return execute(t, d)
}

func execute(t *template.Template, d Data) (string, error) {
	var b bytes.Buffer
	if err := t.Execute(&b, d); err != nil {
		return "", fmt.Errorf("render template: %w", err)
	}
	return b.String(), nil
}

func xmlEscape(s string) string {
	var b bytes.Buffer
	for _, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '"':
			b.WriteString("&quot;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
