package cluster

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"ipcluster/pyfind"
)

// Engine kinds (c.Cluster.engine_kind, --engine-kind).
const (
	EngineAuto   = "auto"   // Python's when this machine has a Python with ipyparallel, else Go's
	EngineGo     = "go"     // the Go ipengine beside ipcluster: runs shell commands
	EnginePython = "python" // ipyparallel's engine: runs Python (apply, map, execute)
)

// EngineChoice is the engine command a cluster starts and why it was chosen.
type EngineChoice struct {
	Kind       string   // EngineGo or EnginePython; "" when a configured engine_cmd's is unknown
	Command    []string // program and its first arguments
	Configured bool     // Command is the configured engine_cmd
	Why        string   // e.g. "auto: /usr/bin/python3 imports ipyparallel 7.1.0"
}

// String is the progress line's text: which engine, and why.
func (c EngineChoice) String() string {
	switch {
	case c.Configured:
		return "engine_cmd " + strings.Join(c.Command, " ") + " (" + c.Why + ")"
	case c.Kind == EnginePython:
		return "Python ipyparallel engine (" + c.Why + ")"
	}
	return "Go engine (" + c.Why + ")"
}

// CheckEngineKind reports a value that is not an engine kind, saying which ones are.
func CheckEngineKind(kind string) error {
	switch kind {
	case "", EngineAuto, EngineGo, EnginePython:
		return nil
	}
	return fmt.Errorf("engine kind %q: choose auto, go or python (c.Cluster.engine_kind, --engine-kind)", kind)
}

// ChooseEngine decides the engine command, once: a configured engine_cmd wins; else the
// engine kind, where auto means ipyparallel's Python engine if a Python that imports
// ipyparallel is found on this machine (see pyfind), and the Go engine otherwise.
//
// The Python engine is started as <that interpreter's absolute path> -m ipyparallel.engine
// by every launcher, as ipyparallel starts its own engines with sys.executable: on batch,
// MPI and SSH nodes the same path must lead to a Python with ipyparallel (a shared or
// identical installation, which the Go engine's absolute path needs just as well). Where
// it does not, engine_cmd (or an SSH host's own engine_cmd) says what to run there.
func (o *Options) ChooseEngine() (EngineChoice, error) {
	if o.engine != nil {
		return *o.engine, nil
	}
	choice, err := chooseEngine(o.EngineKind, o.EngineCmd)
	if err != nil {
		return choice, err
	}
	if o.inheritedKind && !choice.Configured {
		choice.Why = strings.Replace(choice.Why, "engine_kind "+o.EngineKind, "the kind of the cluster's engines", 1)
	}
	o.engine, o.EngineCmd = &choice, choice.Command
	return choice, nil
}

func chooseEngine(kind string, engineCmd []string) (EngineChoice, error) {
	if err := CheckEngineKind(kind); err != nil {
		return EngineChoice{}, err
	}
	if len(engineCmd) > 0 {
		why := "configured engine_cmd"
		if kind != "" && kind != EngineAuto {
			why += ", which overrides engine_kind " + kind
		}
		return EngineChoice{Kind: kindOfCommand(engineCmd), Command: engineCmd, Configured: true, Why: why}, nil
	}
	goEngine := EngineChoice{Kind: EngineGo, Command: []string{Sibling("ipengine")}}
	switch kind {
	case EngineGo:
		goEngine.Why = "engine_kind go"
		return goEngine, nil
	case EnginePython:
		py, err := pyfind.Find("ipyparallel")
		if err != nil {
			return EngineChoice{}, fmt.Errorf("engine_kind python: %w; install ipyparallel (e.g. apt install python3-ipyparallel), "+
				"name the interpreter with %s=/path/to/python3, or choose --engine-kind=go", err, pyfind.EnvVar)
		}
		return pythonEngine(py, "engine_kind python: "+py+" imports ipyparallel"+version(py)), nil
	}
	py, err := pyfind.Find("ipyparallel")
	if err != nil {
		why := strings.TrimPrefix(err.Error(), pyfind.ErrNotFound.Error()+" that imports ipyparallel ")
		goEngine.Why = "auto: no Python with ipyparallel: " + strings.TrimSuffix(strings.TrimPrefix(why, "("), ")")
		return goEngine, nil
	}
	return pythonEngine(py, "auto: "+py+" imports ipyparallel"+version(py)), nil
}

// engineKind is the kind of all the engine sets the file records, or "" if they differ or
// are not known.
func (f *File) engineKind() string {
	kind := ""
	for id := range f.Engines.Sets {
		k := f.Engines.Kinds[id]
		if k == "" || kind != "" && k != kind {
			return ""
		}
		kind = k
	}
	return kind
}

func pythonEngine(py, why string) EngineChoice {
	return EngineChoice{Kind: EnginePython, Command: []string{py, "-m", "ipyparallel.engine"}, Why: why}
}

// kindOfCommand tells the kind of a configured engine command where its words make it
// plain (it is only recorded for `ipcluster list`; px asks the engines themselves).
func kindOfCommand(cmd []string) string {
	if strings.Contains(strings.Join(cmd, " "), "ipyparallel") {
		return EnginePython
	}
	return ""
}

// version is " <ipyparallel's version>" as py reports it, or "" (it only adds detail to
// a message, so a failure to tell is not an error).
func version(py string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, py, "-c", "from importlib.metadata import version; print(version('ipyparallel'))").Output()
	if v := strings.TrimSpace(string(out)); err == nil && v != "" && !strings.ContainsAny(v, " \n") {
		return " " + v
	}
	return ""
}
