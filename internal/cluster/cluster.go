// Package cluster starts real engines for tests, each in a temporary folder and torn down when
// the test ends: a throwaway PostgreSQL server on loopback and a one-node SLURM cluster (munged,
// slurmctld, slurmd; the node has this machine's cores and memory). Tests of the grid run
// against these rather than fakes, since what matters is how sbatch, scancel and a real SQL
// server behave. Like internal/peers, an engine that is missing or cannot start fails the test
// under CI (the CI environment variable is set) and skips it elsewhere.
package cluster

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
)

// PostgresBin is where Debian's postgresql package puts the server programs.
const PostgresBin = "/usr/lib/postgresql/15/bin"

func unavailable(t testing.TB, format string, a ...any) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf(format, a...)
	}
	t.Skipf(format, a...)
}

// freePort returns a loopback TCP port nobody listens on now.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		unavailable(t, "cluster: no loopback port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// daemon is a server process started in the foreground, so the test owns it and can stop it.
type daemon struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	log  *bytes.Buffer
}

func start(name string, cred *syscall.Credential, env []string, args ...string) (*daemon, error) {
	cmd := exec.Command(args[0], args[1:]...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Env = append(os.Environ(), env...)
	// Its own process group: a signal the test run receives is not also delivered to it, so
	// the teardown below decides the order of shutdown.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: cred}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	d := &daemon{name: name, cmd: cmd, done: make(chan struct{}), log: &out}
	go func() { cmd.Wait(); close(d.done) }()
	return d, nil
}

func (d *daemon) exited() bool {
	select {
	case <-d.done:
		return true
	default:
		return false
	}
}

// stop sends sig, waits up to 5 s, then kills.
func (d *daemon) stop(sig syscall.Signal) {
	if d.exited() {
		return
	}
	d.cmd.Process.Signal(sig)
	select {
	case <-d.done:
	case <-time.After(5 * time.Second):
		d.cmd.Process.Kill()
		<-d.done
	}
}

// tempDir makes a folder that a server running as another user can enter (t.TempDir is
// private to this user).
func tempDir(t testing.TB, prefix string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		unavailable(t, "cluster: %v", err)
	}
	os.Chmod(dir, 0o755)
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// Postgres starts a PostgreSQL server on 127.0.0.1 with its data in a temporary folder and
// returns a postgres:// URL of an empty database on it. As root, the server runs as the
// postgres user (it refuses to run as root).
func Postgres(t testing.TB) string {
	t.Helper()
	initdb := filepath.Join(PostgresBin, "initdb")
	if _, err := os.Stat(initdb); err != nil {
		unavailable(t, "cluster: no PostgreSQL server (%v); install Debian's postgresql", err)
	}
	var cred *syscall.Credential
	dir := tempDir(t, "ventral-pg-")
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			unavailable(t, "cluster: running as root and no postgres user to run the server: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(dir, uid, gid); err != nil {
			unavailable(t, "cluster: %v", err)
		}
	}
	data := filepath.Join(dir, "data")
	d, err := start("initdb", cred, nil, initdb, "-D", data, "-A", "trust", "-U", "ventral", "-E", "UTF8", "--no-sync", "--no-instructions")
	if err != nil {
		unavailable(t, "cluster: %v", err)
	}
	<-d.done
	if !d.cmd.ProcessState.Success() {
		unavailable(t, "cluster: initdb failed: %s", d.log)
	}
	port := freePort(t)
	srv, err := start("postgres", cred, nil, filepath.Join(PostgresBin, "postgres"), "-D", data, "-k", dir, "-h", "127.0.0.1",
		"-p", strconv.Itoa(port), "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "max_connections=100")
	if err != nil {
		unavailable(t, "cluster: %v", err)
	}
	// SIGINT is PostgreSQL's fast shutdown: open sessions are ended, nothing is left running.
	t.Cleanup(func() { srv.stop(syscall.SIGINT) })
	url := fmt.Sprintf("postgres://ventral@127.0.0.1:%d/postgres?sslmode=disable", port)
	db, err := sql.Open("pgx", url)
	if err != nil {
		unavailable(t, "cluster: %v", err)
	}
	defer db.Close()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err = db.PingContext(ctx)
		cancel()
		if err == nil {
			break
		}
		if srv.exited() || time.Now().After(deadline) {
			unavailable(t, "cluster: PostgreSQL did not start: %v\n%s", err, srv.log)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return url
}

// Slurm is a running one-node SLURM cluster. Its client commands (sbatch, squeue, scancel)
// reach it through SLURM_CONF, which Env sets.
type Slurm struct {
	Dir  string // the cluster's temporary folder (state, spool, logs)
	Conf string // its slurm.conf
	Node string // the node's name
}

// Env is the environment entry that points SLURM's client commands at this cluster.
func (s *Slurm) Env() string { return "SLURM_CONF=" + s.Conf }

// Command runs a SLURM client command against this cluster.
func (s *Slurm) Command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), s.Env())
	return cmd
}

// StartSlurm starts munged, slurmctld and slurmd on loopback with state in a temporary folder
// and waits until the node is idle. It needs root (slurmd starts jobs as their users).
func StartSlurm(t testing.TB) *Slurm {
	t.Helper()
	bins := map[string]string{}
	for _, p := range []string{"munged", "slurmctld", "slurmd", "sbatch", "sinfo", "scancel", "squeue"} {
		b, err := bin(p)
		if err != nil {
			unavailable(t, "cluster: %s not found (%v); install Debian's slurm-wlm and munge", p, err)
		}
		bins[p] = b
	}
	if os.Geteuid() != 0 {
		unavailable(t, "cluster: a SLURM node needs root (slurmd starts jobs as their users)")
	}
	node, err := nodeLine(bins["slurmd"])
	if err != nil {
		unavailable(t, "cluster: %v", err)
	}
	dir := tempDir(t, "ventral-slurm-")
	for _, sub := range []string{"munge", "state", "spool", "log"} {
		os.MkdirAll(filepath.Join(dir, sub), 0o700)
	}
	// munged checks that its folders are not writable by others and that the key is private.
	key := make([]byte, 1024)
	if f, err := os.Open("/dev/urandom"); err == nil {
		_, err = f.Read(key)
		f.Close()
	}
	keyPath := filepath.Join(dir, "munge", "munge.key")
	if err := os.WriteFile(keyPath, key, 0o400); err != nil {
		unavailable(t, "cluster: %v", err)
	}
	sock := filepath.Join(dir, "munge", "munge.socket")
	var daemons []*daemon
	t.Cleanup(func() {
		// Jobs first (their steps report to slurmd), then the daemons in reverse order.
		cmd := exec.Command("scancel", "--full", "-u", "root")
		cmd.Env = append(os.Environ(), "SLURM_CONF="+filepath.Join(dir, "slurm.conf"))
		cmd.Run()
		for i := len(daemons) - 1; i >= 0; i-- {
			daemons[i].stop(syscall.SIGTERM)
		}
	})
	fail := func(format string, a ...any) {
		t.Helper()
		var logs strings.Builder
		for _, d := range daemons {
			fmt.Fprintf(&logs, "--- %s:\n%s\n", d.name, d.log)
		}
		for _, f := range []string{"munged.log", "slurmctld.log", "slurmd.log"} {
			b, _ := os.ReadFile(filepath.Join(dir, "log", f))
			fmt.Fprintf(&logs, "--- %s:\n%s\n", f, tail(b, 2000))
		}
		unavailable(t, "cluster: "+format+"\n%s", append(a, logs.String())...)
	}
	d, err := start("munged", nil, nil, bins["munged"], "-F", "--force", "--socket="+sock, "--key-file="+keyPath,
		"--log-file="+filepath.Join(dir, "log", "munged.log"), "--pid-file="+filepath.Join(dir, "munge", "munged.pid"),
		"--seed-file="+filepath.Join(dir, "munge", "seed"))
	if err != nil {
		fail("%v", err)
	}
	daemons = append(daemons, d)
	if !waitFor(5*time.Second, func() bool { _, err := os.Stat(sock); return err == nil || d.exited() }) || d.exited() {
		fail("munged did not start")
	}
	ctldPort, dPort := freePort(t), freePort(t)
	s := &Slurm{Dir: dir, Conf: filepath.Join(dir, "slurm.conf"), Node: "ventral-node"}
	conf := fmt.Sprintf(`# One-node test cluster: no cgroups, no accounting database; memory is enforced by polling
# (OverMemoryKill), as cgroups would, so a task over its --mem is killed.
ClusterName=ventraltest
SlurmctldHost=localhost
SlurmctldPort=%d
SlurmdPort=%d
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=%s
StateSaveLocation=%s
SlurmdSpoolDir=%s
SlurmctldPidFile=%s
SlurmdPidFile=%s
SlurmctldLogFile=%s
SlurmdLogFile=%s
ProctrackType=proctrack/pgid
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=task=1
JobAcctGatherParams=OverMemoryKill
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=1
ReturnToService=2
MpiDefault=none
InactiveLimit=0
MinJobAge=600
KillWait=5
NodeName=%s NodeHostname=localhost NodeAddr=127.0.0.1 %s State=UNKNOWN
PartitionName=debug Nodes=%s Default=YES MaxTime=INFINITE State=UP
`, ctldPort, dPort, sock, filepath.Join(dir, "state"), filepath.Join(dir, "spool"),
		filepath.Join(dir, "slurmctld.pid"), filepath.Join(dir, "slurmd.pid"),
		filepath.Join(dir, "log", "slurmctld.log"), filepath.Join(dir, "log", "slurmd.log"), s.Node, node, s.Node)
	if err := os.WriteFile(s.Conf, []byte(conf), 0o644); err != nil {
		fail("%v", err)
	}
	env := []string{s.Env()}
	if d, err = start("slurmctld", nil, env, bins["slurmctld"], "-D", "-c", "-f", s.Conf); err != nil {
		fail("%v", err)
	}
	daemons = append(daemons, d)
	if d, err = start("slurmd", nil, env, bins["slurmd"], "-D", "-f", s.Conf, "-N", s.Node); err != nil {
		fail("%v", err)
	}
	daemons = append(daemons, d)
	state := ""
	ok := waitFor(20*time.Second, func() bool {
		for _, d := range daemons {
			if d.exited() {
				return true
			}
		}
		out, _ := s.Command("sinfo", "-h", "-n", s.Node, "-o", "%t").Output()
		state = strings.TrimSpace(string(out))
		return state == "idle"
	})
	if !ok || state != "idle" {
		fail("the node is %q, not idle", state)
	}
	return s
}

// nodeLine is slurmd -C's description of this machine (CPUs, sockets, cores, threads,
// memory) without its NodeName and UpTime.
func nodeLine(slurmd string) (string, error) {
	out, err := exec.Command(slurmd, "-C").Output()
	if err != nil {
		return "", fmt.Errorf("slurmd -C: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	if !sc.Scan() {
		return "", fmt.Errorf("slurmd -C printed nothing")
	}
	var keep []string
	for _, f := range strings.Fields(sc.Text()) {
		if !strings.HasPrefix(f, "NodeName=") {
			keep = append(keep, f)
		}
	}
	if !strings.Contains(sc.Text(), "CPUs=") || !strings.Contains(sc.Text(), "RealMemory=") {
		return "", fmt.Errorf("slurmd -C: no CPUs or RealMemory in %q", sc.Text())
	}
	return strings.Join(keep, " "), nil
}

// bin finds a program on PATH or in the sbin folders, which a non-login PATH may lack.
func bin(name string) (string, error) {
	p, err := exec.LookPath(name)
	if err == nil {
		return p, nil
	}
	for _, d := range []string{"/usr/sbin", "/sbin", "/usr/bin"} {
		if st, serr := os.Stat(filepath.Join(d, name)); serr == nil && !st.IsDir() {
			return filepath.Join(d, name), nil
		}
	}
	return "", err
}

func waitFor(limit time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(100 * time.Millisecond)
	}
	return cond()
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
