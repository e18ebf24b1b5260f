package launchers_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"ipcluster/internal/harness"
	"ipcluster/internal/sshtest"
	"ipcluster/internal/testutil"
	"ipcluster/launchers"
)

func runners(t *testing.T) map[string]launchers.Runner {
	s := sshtest.Start(t)
	var r launchers.Runners
	login := launchers.LoginOptions{SSHHost: "root@ipp-sshd", SSHConfig: s.ConfigFile}.Login()
	return map[string]launchers.Runner{"local": r.For(nil), "ssh": r.For(login)}
}

func TestRunners(t *testing.T) {
	for name, r := range runners(t) {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			out, err := r.Run(ctx, []string{"sh", "-c", `echo "$X $1"; cat`, "sh", "it's"}, map[string]string{"X": "a b"}, []byte("stdin"))
			if err != nil || out != "a b it's\nstdin" {
				t.Errorf("run: %q %v", out, err)
			}
			if _, err := r.Run(ctx, []string{"sh", "-c", "echo bad; exit 3"}, nil, nil); err == nil || !strings.Contains(err.Error(), "bad") {
				t.Errorf("failing command: %v", err)
			}
			dir := t.TempDir()
			p := filepath.Join(dir, "sub", "job.sh")
			if err := r.WriteFile(ctx, p, []byte("#!/bin/sh\n"), 0o700); err != nil {
				t.Fatal(err)
			}
			if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o700 {
				t.Errorf("written file: %v %v", fi, err)
			}
			if data, err := r.ReadFile(ctx, p); err != nil || string(data) != "#!/bin/sh\n" {
				t.Errorf("read: %q %v", data, err)
			}
			if ok, err := r.Exists(ctx, p); !ok || err != nil {
				t.Errorf("exists: %v %v", ok, err)
			}
			if err := r.Remove(ctx, p); err != nil {
				t.Fatal(err)
			}
			if err := r.Remove(ctx, p); err != nil {
				t.Errorf("second remove: %v", err)
			}
			if ok, err := r.Exists(ctx, p); ok || err != nil {
				t.Errorf("exists after remove: %v %v", ok, err)
			}
			if _, err := r.ReadFile(ctx, p); !os.IsNotExist(err) && !strings.Contains(err.Error(), "not exist") {
				t.Errorf("read of a missing file: %v", err)
			}
		})
	}
}

// TestSlurmThroughLoginHost submits, watches and cancels a real Slurm job with the commands
// run on a login host over SSH (the local sshd in front of the local Slurm).
func TestSlurmThroughLoginHost(t *testing.T) {
	harness.Slurm(t)
	r := runners(t)["ssh"]
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	deadline, _ := ctx.Deadline()
	dir := t.TempDir()
	script := filepath.Join(dir, "job.sbatch")
	if err := r.WriteFile(ctx, script, []byte("#!/bin/sh\n#SBATCH --job-name=ipp-login-test\n#SBATCH --output="+dir+"/job.log\necho started\nexec sleep 300\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	out, err := r.Run(ctx, []string{"sbatch", script}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	id := regexp.MustCompile(`\d+`).FindString(out)
	if id == "" {
		t.Fatalf("no job id in %q", out)
	}
	defer r.Run(context.Background(), []string{"scancel", id}, nil, nil)
	state := func() string {
		out, _ := r.Run(ctx, []string{"squeue", "-h", "-j", id, "-o", "%T"}, nil, nil)
		return strings.TrimSpace(out)
	}
	if !testutil.WithinEvery(time.Until(deadline), 100*time.Millisecond, func() bool { return state() == "RUNNING" }) {
		t.Fatalf("job %s never ran (state %q)", id, state())
	}
	// the job's output, fetched through the login host
	if !testutil.WithinEvery(time.Until(deadline), 100*time.Millisecond, func() bool {
		data, err := r.ReadFile(ctx, filepath.Join(dir, "job.log"))
		return err == nil && strings.Contains(string(data), "started")
	}) {
		t.Fatal("no job output")
	}
	if _, err := r.Run(ctx, []string{"scancel", id}, nil, nil); err != nil {
		t.Fatal(err)
	}
	if !testutil.WithinEvery(time.Until(deadline), 100*time.Millisecond, func() bool { s := state(); return s == "" || s == "CANCELLED" }) {
		t.Fatalf("job %s still %s after scancel", id, state())
	}
}
