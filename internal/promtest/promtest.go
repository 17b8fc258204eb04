package promtest

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Timeouts. Prometheus is ready in 50-300 ms here; the bounds are generous
// for a loaded CI machine but still end a hung test in seconds, not at the
// go test deadline.
const (
	defaultReadyTimeout = 30 * time.Second
	backfillTimeout     = 5 * time.Minute
	stopTimeout         = 10 * time.Second
	pollInterval        = 20 * time.Millisecond
	logTailLines        = 40
)

// Server is a running Prometheus. It is stopped by the test's cleanup.
type Server struct {
	// URL is the base URL, e.g. http://127.0.0.1:38211, without a trailing
	// slash.
	URL string
	// DataDir is the TSDB directory holding the backfilled blocks.
	DataDir string
	// ConfigFile is the prometheus.yml that was generated for this server.
	ConfigFile string

	name    string // the program, for messages; "" is prometheus
	log     *logBuffer
	cmd     *exec.Cmd
	done    chan struct{} // closed when the process has exited
	exitErr error         // how it exited; read only after done is closed
}

// Option changes how Start configures Prometheus.
type Option func(*settings)

type settings struct {
	rulesFiles   []string
	evalInterval time.Duration
	readyTimeout time.Duration
	flags        []string
	scrapeJobs   []ScrapeJob
}

// WithRulesFiles loads these rule files (relative paths are taken from the
// test's working directory). The evaluation interval drops to 1s unless
// WithEvaluationInterval says otherwise, so that alerts show within a second
// or two of readiness.
func WithRulesFiles(paths ...string) Option {
	return func(s *settings) { s.rulesFiles = append(s.rulesFiles, paths...) }
}

// WithEvaluationInterval sets global.evaluation_interval.
func WithEvaluationInterval(d time.Duration) Option {
	return func(s *settings) { s.evalInterval = d }
}

// WithReadyTimeout bounds how long Start waits for /-/ready (default 30s).
func WithReadyTimeout(d time.Duration) Option {
	return func(s *settings) { s.readyTimeout = d }
}

// WithFlags passes extra command-line flags to prometheus, e.g.
// "--query.lookback-delta=10m".
func WithFlags(flags ...string) Option {
	return func(s *settings) { s.flags = append(s.flags, flags...) }
}

// Start backfills omFiles into a fresh data directory and starts Prometheus
// on it. It fails the test when the binaries are missing (skips it under
// -short) or when anything else goes wrong.
func Start(t testing.TB, omFiles ...string) *Server {
	t.Helper()
	return StartWith(t, nil, omFiles...)
}

// StartWith is Start with options.
func StartWith(t testing.TB, opts []Option, omFiles ...string) *Server {
	t.Helper()
	s := settings{readyTimeout: defaultReadyTimeout}
	for _, o := range opts {
		o(&s)
	}
	if s.evalInterval == 0 {
		s.evalInterval = time.Minute // Prometheus' default
		if len(s.rulesFiles) > 0 {
			s.evalInterval = time.Second
		}
	}
	promBin := Prometheus(t)
	promtoolBin := Promtool(t)

	// t.TempDir registers its removal before our stop, so cleanups (last in,
	// first out) stop the process before its files are deleted.
	dir := t.TempDir()
	srv := &Server{
		DataDir:    filepath.Join(dir, "data"),
		ConfigFile: filepath.Join(dir, "prometheus.yml"),
		log:        newLogBuffer(),
		done:       make(chan struct{}),
	}
	if err := os.Mkdir(srv.DataDir, 0o755); err != nil {
		t.Fatalf("promtest: %v", err)
	}
	began := time.Now()
	for _, f := range omFiles {
		if _, err := backfill(promtoolBin, f, srv.DataDir); err != nil {
			t.Fatalf("promtest: %v", err)
		}
	}
	backfilled := time.Now()
	cfg, err := config(s)
	if err != nil {
		t.Fatalf("promtest: %v", err)
	}
	if err := os.WriteFile(srv.ConfigFile, []byte(cfg), 0o644); err != nil {
		t.Fatalf("promtest: writing config: %v", err)
	}

	args := []string{
		"--config.file=" + srv.ConfigFile,
		"--storage.tsdb.path=" + srv.DataDir,
		// Port 0: the kernel picks a free port and Prometheus logs it. No
		// window between choosing a port and binding it, so parallel tests
		// cannot steal each other's ports.
		"--web.listen-address=127.0.0.1:0",
		// Retention counts back from the newest block; with the default 15d
		// old fixtures would be deleted at start-up.
		"--storage.tsdb.retention.time=100y",
		"--web.enable-lifecycle",
		// The port is read from the info-level "Listening on" line.
		"--log.level=info",
		"--log.format=logfmt",
	}
	args = append(args, s.flags...)
	srv.cmd = exec.Command(promBin, args...)
	srv.cmd.Stdout = srv.log
	srv.cmd.Stderr = srv.log
	if err := srv.cmd.Start(); err != nil {
		t.Fatalf("promtest: starting %s: %v", promBin, err)
	}
	go func() {
		srv.exitErr = srv.cmd.Wait()
		close(srv.done)
	}()
	t.Cleanup(srv.stop)

	if err := srv.waitReady(s.readyTimeout); err != nil {
		t.Fatalf("promtest: %v\n--- prometheus log (last %d lines) ---\n%s", err, logTailLines, srv.log.tail())
	}
	// One line per server: when a suite slows down, this says whether
	// backfilling or start-up is to blame.
	t.Logf("promtest: prometheus at %s: backfilled %d file(s) in %s, ready %s later",
		srv.URL, len(omFiles), backfilled.Sub(began).Round(time.Millisecond), time.Since(backfilled).Round(time.Millisecond))
	return srv
}

// Prometheus returns the path of the prometheus binary, or fails the test
// when there is none (skips it under -short).
func Prometheus(t testing.TB) string {
	t.Helper()
	return lookBinary(t, "prometheus")
}

// Promtool returns the path of the promtool binary, or fails the test when
// there is none (skips it under -short).
func Promtool(t testing.TB) string {
	t.Helper()
	return lookBinary(t, "promtool")
}

func lookBinary(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	msg := fmt.Sprintf("%s not found on PATH (%v): install Debian's package `prometheus` "+
		"(apt-get install --no-install-recommends prometheus)", name, err)
	if testing.Short() {
		t.Skipf("promtest: %s; skipped under -short", msg)
	}
	t.Fatalf("promtest: %s (or run with -short to skip the tests that need a real Prometheus)", msg)
	return ""
}

// Backfill runs `promtool tsdb create-blocks-from openmetrics omFile dataDir`
// and returns promtool's output: a table of the blocks created, with their
// sample and series counts. It fails the test when promtool does.
func Backfill(t testing.TB, omFile, dataDir string) string {
	t.Helper()
	out, err := backfill(Promtool(t), omFile, dataDir)
	if err != nil {
		t.Fatalf("promtest: %v", err)
	}
	return out
}

func backfill(promtool, omFile, dataDir string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), backfillTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, promtool, "tsdb", "create-blocks-from", "openmetrics", omFile, dataDir)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("backfilling %s: %w\n%s", omFile, err, out.String())
	}
	return out.String(), nil
}

// config renders prometheus.yml. Without WithScrapeJob there are no scrape
// jobs, so the head stays empty and every answer comes from the backfilled
// blocks (and the rules).
func config(s settings) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "global:\n  evaluation_interval: %s\n", promDuration(s.evalInterval))
	if len(s.rulesFiles) > 0 {
		b.WriteString("rule_files:\n")
		for _, f := range s.rulesFiles {
			abs, err := filepath.Abs(f)
			if err != nil {
				return "", fmt.Errorf("rules file %s: %w", f, err)
			}
			if _, err := os.Stat(abs); err != nil {
				return "", fmt.Errorf("rules file: %w", err)
			}
			// Quoted: a temp path may hold characters YAML would misread.
			fmt.Fprintf(&b, "  - %q\n", abs)
		}
	}
	scrape, err := scrapeConfigs(s.scrapeJobs)
	if err != nil {
		return "", err
	}
	b.WriteString(scrape)
	return b.String(), nil
}

// promDuration renders d in Prometheus' duration syntax, which has no
// fractions: whole milliseconds are as fine as it gets.
func promDuration(d time.Duration) string {
	if d%time.Second == 0 {
		return fmt.Sprintf("%ds", d/time.Second)
	}
	return fmt.Sprintf("%dms", max(1, d/time.Millisecond))
}

// waitReady waits for the "Listening on" line, then polls /-/ready until it
// answers 200, the process exits or the deadline passes.
func (s *Server) waitReady(timeout time.Duration) error {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	select {
	case <-s.log.addrFound:
		s.URL = "http://" + s.log.address()
	case <-s.done:
		return s.exitedEarly()
	case <-deadline.C:
		return fmt.Errorf("%s did not log its listen address within %s", s.program(), timeout)
	}
	client := &http.Client{Timeout: 2 * time.Second}
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	var last string
	for {
		resp, err := client.Get(s.URL + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		select {
		case <-tick.C:
		case <-s.done:
			return s.exitedEarly()
		case <-deadline.C:
			return fmt.Errorf("%s at %s not ready within %s (last answer: %s)", s.program(), s.URL, timeout, last)
		}
	}
}

func (s *Server) exitedEarly() error {
	return fmt.Errorf("%s exited during start-up (%v)", s.program(), s.exitErr)
}

func (s *Server) program() string {
	if s.name == "" {
		return "prometheus"
	}
	return s.name
}

// stop sends SIGTERM, which lets Prometheus close the TSDB cleanly, and kills
// it if it has not exited within stopTimeout.
func (s *Server) stop() {
	select {
	case <-s.done:
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	timer := time.NewTimer(stopTimeout)
	defer timer.Stop()
	select {
	case <-s.done:
	case <-timer.C:
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// Log returns the last lines Prometheus logged, for failure messages.
func (s *Server) Log() string { return s.log.tail() }

// logBuffer collects Prometheus' output: the last lines for error messages,
// and the listen address from the first "Listening on" line. 2.x logs
// `msg="Listening on" address=127.0.0.1:PORT` (logfmt), 3.x the same through
// slog.
type logBuffer struct {
	mu        sync.Mutex
	partial   []byte
	lines     []string
	addr      string
	addrFound chan struct{}
}

var listeningRE = regexp.MustCompile(`msg="?Listening on"?.*\baddress=([^\s"]+)`)

func newLogBuffer() *logBuffer { return &logBuffer{addrFound: make(chan struct{})} }

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.partial = append(l.partial, p...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		line := string(l.partial[:i])
		l.partial = l.partial[i+1:]
		if l.addr == "" {
			if m := listeningRE.FindStringSubmatch(line); m != nil {
				l.addr = m[1]
				close(l.addrFound)
			}
		}
		l.lines = append(l.lines, line)
		if len(l.lines) > 4*logTailLines {
			l.lines = append(l.lines[:0], l.lines[len(l.lines)-logTailLines:]...)
		}
	}
	return len(p), nil
}

func (l *logBuffer) address() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.addr
}

func (l *logBuffer) tail() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	lines := l.lines
	if len(lines) > logTailLines {
		lines = lines[len(lines)-logTailLines:]
	}
	out := strings.Join(lines, "\n")
	if len(l.partial) > 0 {
		out += "\n" + string(l.partial)
	}
	return out
}
