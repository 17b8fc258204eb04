package vmtest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	readyTimeout  = 30 * time.Second
	stopTimeout   = 10 * time.Second
	pollInterval  = 20 * time.Millisecond
	importTimeout = 2 * time.Minute
	logTailBytes  = 4000
	// startAttempts: a free port is found by binding port 0 and closing
	// it; another process may take it before VictoriaMetrics binds it.
	startAttempts = 3
)

// Server is a running VictoriaMetrics (and vmalert, when asked for).
type Server struct {
	// URL is VictoriaMetrics' base URL, e.g. http://127.0.0.1:38211.
	URL string
	// VMAlertURL is vmalert's base URL ("" without WithVMAlert).
	VMAlertURL string
	// DataDir is VictoriaMetrics' -storageDataPath.
	DataDir string

	procs []*process
}

type settings struct {
	rules      []string // vmalert -rule files; nil: no vmalert
	datasource string   // vmalert's -datasource.url; "": VictoriaMetrics
	flags      []string
}

// Option changes how Start configures VictoriaMetrics.
type Option func(*settings)

// WithVMAlert starts vmalert on these rule files (relative paths are taken
// from the test's working directory), evaluating them every second, and
// makes VictoriaMetrics proxy the rules API to it.
func WithVMAlert(ruleFiles ...string) Option {
	return func(s *settings) { s.rules = append(s.rules, ruleFiles...) }
}

// WithVMAlertDatasource points vmalert at url instead of VictoriaMetrics,
// e.g. a closed port, so that every rule fails as it does when vmalert
// loses its datasource.
func WithVMAlertDatasource(url string) Option {
	return func(s *settings) { s.datasource = url }
}

// WithFlags passes extra flags to victoria-metrics.
func WithFlags(flags ...string) Option {
	return func(s *settings) { s.flags = append(s.flags, flags...) }
}

// Start starts VictoriaMetrics and imports omFiles into it.
func Start(t testing.TB, omFiles ...string) *Server {
	t.Helper()
	return StartWith(t, nil, omFiles...)
}

// StartWith is Start with options.
func StartWith(t testing.TB, opts []Option, omFiles ...string) *Server {
	t.Helper()
	var s settings
	for _, o := range opts {
		o(&s)
	}
	vmBin := VictoriaMetrics(t)
	var alertBin string
	if s.rules != nil {
		alertBin = VMAlert(t)
	}
	dir := t.TempDir()
	srv := &Server{DataDir: filepath.Join(dir, "data")}
	t.Cleanup(srv.stop)

	var lastErr error
	for range startAttempts {
		vmPort, alertPort, err := freePorts()
		if err != nil {
			t.Fatalf("vmtest: %v", err)
		}
		srv.URL = "http://127.0.0.1:" + vmPort
		args := []string{
			"-storageDataPath=" + srv.DataDir,
			"-httpListenAddr=127.0.0.1:" + vmPort,
			"-search.disableCache",
			"-search.latencyOffset=0",
			// The fixtures are weeks or years old: the default retention
			// (1 month) would drop them at import.
			"-retentionPeriod=100y",
			"-loggerLevel=INFO",
		}
		if alertBin != "" {
			srv.VMAlertURL = "http://127.0.0.1:" + alertPort
			args = append(args, "-vmalert.proxyURL="+srv.VMAlertURL)
		}
		args = append(args, s.flags...)
		vm := startProcess(vmBin, args...)
		if lastErr = vm.waitReady(srv.URL + "/health"); lastErr != nil {
			vm.stop()
			continue
		}
		srv.procs = append(srv.procs, vm)
		break
	}
	if lastErr != nil {
		t.Fatalf("vmtest: %v", lastErr)
	}
	began := time.Now()
	for _, f := range omFiles {
		if err := srv.Import(f); err != nil {
			t.Fatalf("vmtest: %v", err)
		}
	}
	if err := srv.flush(); err != nil {
		t.Fatalf("vmtest: %v", err)
	}
	imported := time.Now()
	if alertBin != "" {
		datasource := s.datasource
		if datasource == "" {
			datasource = srv.URL
		}
		if err := srv.startVMAlert(t, alertBin, datasource, s.rules); err != nil {
			t.Fatalf("vmtest: %v", err)
		}
	}
	t.Logf("vmtest: victoria-metrics at %s: imported %d file(s) in %s", srv.URL, len(omFiles), imported.Sub(began).Round(time.Millisecond))
	return srv
}

// startVMAlert starts vmalert on the rule files, VictoriaMetrics as its
// datasource and a notifier that accepts and drops every alert (vmalert
// 1.79 refuses to start alerting rules without one).
func (srv *Server) startVMAlert(t testing.TB, bin, datasource string, rules []string) error {
	notifier := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
	}))
	t.Cleanup(notifier.Close)
	args := []string{
		"-datasource.url=" + datasource,
		"-httpListenAddr=" + strings.TrimPrefix(srv.VMAlertURL, "http://"),
		"-notifier.url=" + notifier.URL,
		"-evaluationInterval=1s",
		"-loggerLevel=INFO",
	}
	for _, f := range rules {
		abs, err := filepath.Abs(f)
		if err != nil {
			return err
		}
		if _, err := os.Stat(abs); err != nil {
			return fmt.Errorf("rule file: %w", err)
		}
		args = append(args, "-rule="+abs)
	}
	p := startProcess(bin, args...)
	if err := p.waitReady(srv.VMAlertURL + "/health"); err != nil {
		p.stop()
		return err
	}
	// Stopped before VictoriaMetrics: cleanups run in reverse.
	srv.procs = append(srv.procs, p)
	return nil
}

// VictoriaMetrics returns the path of the victoria-metrics binary, or
// fails the test (skips it under -short).
func VictoriaMetrics(t testing.TB) string { t.Helper(); return lookBinary(t, "victoria-metrics") }

// VMAlert returns the path of the vmalert binary, or fails the test
// (skips it under -short).
func VMAlert(t testing.TB) string { t.Helper(); return lookBinary(t, "vmalert") }

func lookBinary(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	msg := fmt.Sprintf("%s not found on PATH (%v): install Debian's package `victoria-metrics` "+
		"(apt-get install --no-install-recommends victoria-metrics, or scripts/ensure-prometheus.sh)", name, err)
	if testing.Short() {
		t.Skipf("vmtest: %s; skipped under -short", msg)
	}
	t.Fatalf("vmtest: %s (or run with -short to skip the tests that need it)", msg)
	return ""
}

// freePorts finds two free ports on 127.0.0.1.
func freePorts() (string, string, error) {
	var ports []string
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for range 2 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", "", fmt.Errorf("finding a free port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, strconv.Itoa(l.Addr().(*net.TCPAddr).Port))
	}
	return ports[0], ports[1], nil
}

// Import converts an OpenMetrics file (timestamps in seconds, # lines,
// # EOF) into Prometheus' text format with millisecond timestamps and
// POSTs it to /api/v1/import/prometheus. Call Flush (Start does) before
// querying what was imported.
func (srv *Server) Import(omFile string) error {
	f, err := os.Open(omFile)
	if err != nil {
		return fmt.Errorf("importing: %w", err)
	}
	defer f.Close()
	var body bytes.Buffer
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 16<<20)
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		i := strings.LastIndexByte(text, ' ')
		if i < 0 {
			return fmt.Errorf("importing %s:%d: no timestamp", omFile, line)
		}
		sec, err := strconv.ParseFloat(text[i+1:], 64)
		if err != nil {
			return fmt.Errorf("importing %s:%d: timestamp: %w", omFile, line, err)
		}
		fmt.Fprintf(&body, "%s %d\n", text[:i], int64(sec*1000+0.5))
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("importing %s: %w", omFile, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), importTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/api/v1/import/prometheus", &body)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("importing %s: %w", omFile, err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("importing %s: %s: %s", omFile, resp.Status, msg)
	}
	return nil
}

// flush makes imported samples searchable.
func (srv *Server) flush() error {
	resp, err := http.Get(srv.URL + "/internal/force_flush")
	if err != nil {
		return fmt.Errorf("flushing: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("flushing: %s", resp.Status)
	}
	return nil
}

// Flush makes samples imported since Start searchable.
func (srv *Server) Flush(t testing.TB) {
	t.Helper()
	if err := srv.flush(); err != nil {
		t.Fatalf("vmtest: %v", err)
	}
}

// Log returns the last output of VictoriaMetrics and vmalert, for failure
// messages.
func (srv *Server) Log() string {
	var b strings.Builder
	for _, p := range srv.procs {
		fmt.Fprintf(&b, "--- %s ---\n%s\n", filepath.Base(p.cmd.Path), p.out.tail())
	}
	return b.String()
}

func (srv *Server) stop() {
	for i := len(srv.procs) - 1; i >= 0; i-- {
		srv.procs[i].stop()
	}
}

// process is one started binary.
type process struct {
	cmd      *exec.Cmd
	out      *tailBuffer
	done     chan struct{}
	exitErr  error
	startErr error
}

func startProcess(bin string, args ...string) *process {
	p := &process{cmd: exec.Command(bin, args...), out: &tailBuffer{}, done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		p.startErr = err
		close(p.done)
		return p
	}
	go func() {
		p.exitErr = p.cmd.Wait()
		close(p.done)
	}()
	return p
}

// waitReady polls healthURL until it answers 200.
func (p *process) waitReady(healthURL string) error {
	if p.startErr != nil {
		return fmt.Errorf("starting %s: %w", p.cmd.Path, p.startErr)
	}
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(readyTimeout)
	for {
		resp, err := client.Get(healthURL)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s exited during start-up (%v):\n%s", filepath.Base(p.cmd.Path), p.exitErr, p.out.tail())
		case <-time.After(pollInterval):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready at %s within %s:\n%s", filepath.Base(p.cmd.Path), healthURL, readyTimeout, p.out.tail())
		}
	}
}

// stop sends SIGTERM and kills the process if it has not exited within
// stopTimeout.
func (p *process) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(stopTimeout):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// tailBuffer keeps the last logTailBytes of a process' output.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if len(b.buf) > 4*logTailBytes {
		b.buf = append(b.buf[:0], b.buf[len(b.buf)-logTailBytes:]...)
	}
	return len(p), nil
}

func (b *tailBuffer) tail() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.buf) > logTailBytes {
		return string(b.buf[len(b.buf)-logTailBytes:])
	}
	return string(b.buf)
}
