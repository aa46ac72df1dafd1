package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// buildBinary builds the policyresults binary into dir (with -race when
// the tests run with it, so the build reuses their cached packages and only
// links).
func buildBinary(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "policyresults")
	args := []string{"build", "-o", bin}
	if raceEnabled {
		args = append(args, "-race")
	}
	if out, err := exec.Command("go", append(args, ".")...).CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestServeProcess runs the real binary: graceful shutdown and the HTTP
// server's timeouts.
func TestServeProcess(t *testing.T) {
	bin := buildBinary(t, t.TempDir())
	t.Run("graceful shutdown", func(t *testing.T) { testGracefulShutdown(t, bin) })
	t.Run("slow clients cut off", func(t *testing.T) { testSlowClientsCutOff(t, bin) })
	t.Run("profiler on its own listener", func(t *testing.T) { testProfilerListener(t, bin) })
}

// testProfilerListener checks that --pprof-addr serves Go's profiler there
// and that the API listener does not.
func testProfilerListener(t *testing.T, bin string) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pprofAddr := l.Addr().String()
	l.Close()
	p, _, _ := startServe(t, bin, "--pprof-addr", pprofAddr)
	for _, tt := range []struct {
		addr string
		want int
	}{{pprofAddr, http.StatusOK}, {p.addr, http.StatusNotFound}} {
		resp, err := http.Get("http://" + tt.addr + "/debug/pprof/")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("GET %s/debug/pprof/: %d, want %d", tt.addr, resp.StatusCode, tt.want)
		}
		if tt.want == http.StatusOK && !strings.Contains(string(body), "goroutine") {
			t.Errorf("the profiler's index does not list goroutine profiles: %.200s", body)
		}
	}
}

// serveProcess is a running `policyresults serve`.
type serveProcess struct {
	cmd   *exec.Cmd
	addr  string
	lines chan map[string]any // its JSON log lines
	done  chan error
}

// startServe runs `policyresults serve` on a fresh SQLite database with an
// organisation and returns the process, with a member token of the
// organisation.
func startServe(t *testing.T, bin string, extra ...string) (*serveProcess, string, string) {
	t.Helper()
	dbURL := "sqlite:" + filepath.Join(t.TempDir(), "serve.db")
	org := "sigorg"
	if _, err := run(t, dbURL, "org", "create", org); err != nil {
		t.Fatal(err)
	}
	tok, err := run(t, dbURL, "token", "create", "--org", org, "--name", "ci", "--role", "member")
	if err != nil {
		t.Fatal(err)
	}
	return launchServe(t, bin, dbURL, extra...), org, strings.TrimSpace(tok)
}

// launchServe runs `policyresults serve` on dbURL and waits until it serves.
func launchServe(t *testing.T, bin, dbURL string, extra ...string) *serveProcess {
	t.Helper()
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--database-url", dbURL, "--log-format", "json"}, extra...)
	cmd := exec.Command(bin, args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &serveProcess{cmd: cmd, lines: make(chan map[string]any, 1000), done: make(chan error, 1)}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) == nil {
				p.lines <- m
			}
		}
		close(p.lines)
		p.done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
		}
	})
	line := p.waitFor(t, "serving", 60*time.Second)
	p.addr, _ = line["addr"].(string)
	return p
}

// waitFor waits for a log line with message msg.
func (p *serveProcess) waitFor(t *testing.T, msg string, timeout time.Duration) map[string]any {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case line, ok := <-p.lines:
			if !ok {
				t.Fatalf("serve exited before logging %q", msg)
			}
			if line["msg"] == msg {
				return line
			}
		case <-deadline:
			t.Fatalf("serve did not log %q within %s", msg, timeout)
		}
	}
}

// slowRequest sends the headers and the first half of a POST /issues and
// returns a function that sends the rest and reads the response.
func slowRequest(t *testing.T, addr, org, token string) func() (int, string, error) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	body := `{"startRow":0,"endRow":10}`
	fmt.Fprintf(conn, "POST /api/orgs/%s/policyresults/issues HTTP/1.1\r\nHost: %s\r\nAuthorization: token %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		org, addr, token, len(body), body[:len(body)/2])
	return func() (int, string, error) {
		defer conn.Close()
		if _, err := io.WriteString(conn, body[len(body)/2:]); err != nil {
			return 0, "", err
		}
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), nil
	}
}

// testGracefulShutdown sends SIGTERM to `policyresults serve` while slow
// requests are in flight: they complete with 200, new connections are
// refused, and the process exits 0.
func testGracefulShutdown(t *testing.T, bin string) {
	p, org, token := startServe(t, bin, "--shutdown-timeout", "20s")
	var finish []func() (int, string, error)
	for i := 0; i < 4; i++ {
		finish = append(finish, slowRequest(t, p.addr, org, token))
	}
	time.Sleep(200 * time.Millisecond) // the server has read their headers
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	p.waitFor(t, "shutting down: finishing in-flight requests", 10*time.Second)
	time.Sleep(100 * time.Millisecond)
	if c, err := net.DialTimeout("tcp", p.addr, time.Second); err == nil {
		c.Close()
		t.Fatal("a new connection was accepted during shutdown")
	} else if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("new connection: %v, want connection refused", err)
	}
	for i, f := range finish {
		status, body, err := f()
		if err != nil || status != http.StatusOK || !strings.Contains(body, `"policyIssues"`) {
			t.Fatalf("in-flight request %d: %d %v %.200s", i, status, err, body)
		}
	}
	p.waitFor(t, "stopped", 10*time.Second)
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("serve exited with %v, want exit code 0", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not exit")
	}
}

// testSlowClientsCutOff checks the HTTP server's timeouts on the real
// binary: a client dribbling its headers (slowloris) is disconnected after
// --read-header-timeout, one dribbling its body after --read-timeout, and
// an idle keep-alive connection after --idle-timeout, while the server
// keeps answering others.
func testSlowClientsCutOff(t *testing.T, bin string) {
	p, _, _ := startServe(t, bin, "--read-header-timeout", "500ms", "--read-timeout", "2s", "--idle-timeout", "1s")
	// closedWithin reads from conn (while feed keeps writing) until the
	// server closes it, and returns how long that took.
	closedWithin := func(conn net.Conn, feed func() bool, limit time.Duration) time.Duration {
		t.Helper()
		start := time.Now()
		closed := make(chan struct{})
		go func() {
			_, _ = io.Copy(io.Discard, conn)
			close(closed)
		}()
		for {
			select {
			case <-closed:
				return time.Since(start)
			case <-time.After(100 * time.Millisecond):
				if time.Since(start) > limit {
					t.Fatalf("connection still open after %s", limit)
				}
				if feed != nil && !feed() {
					select {
					case <-closed:
					case <-time.After(limit):
						t.Fatal("writes fail but the connection stays open")
					}
					return time.Since(start)
				}
			}
		}
	}
	healthy := func() {
		t.Helper()
		resp, err := http.Get("http://" + p.addr + "/healthz")
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("healthz while a slow client is connected: %v", err)
		}
		resp.Body.Close()
	}

	// Slowloris: a header line every 100 ms, never the blank line.
	conn, err := net.Dial("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET /healthz HTTP/1.1\r\nHost: x\r\n")
	n := 0
	d := closedWithin(conn, func() bool {
		n++
		_, err := fmt.Fprintf(conn, "X-Slow-%d: %d\r\n", n, n)
		return err == nil
	}, 5*time.Second)
	if d < 400*time.Millisecond || d > 1500*time.Millisecond {
		t.Fatalf("slowloris cut off after %s, want about 500ms", d)
	}
	healthy()

	// A body dribbled a byte every 100 ms: cut off by the read timeout (the
	// whole body would take 20 s).
	body, err := net.Dial("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer body.Close()
	fmt.Fprintf(body, "POST /api/orgs/x/policyresults/issues HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n")
	d = closedWithin(body, func() bool {
		_, err := body.Write([]byte(" "))
		return err == nil
	}, 8*time.Second)
	if d > 4*time.Second {
		t.Fatalf("slow body cut off after %s, want about 2s", d)
	}
	healthy()

	// An idle keep-alive connection is closed after the idle timeout.
	idle, err := net.Dial("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	fmt.Fprintf(idle, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	br := bufio.NewReader(idle)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("keep-alive request: %v", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	start := time.Now()
	if _, err := br.ReadByte(); err == nil {
		t.Fatal("the server wrote on an idle connection")
	}
	if d := time.Since(start); d < 800*time.Millisecond || d > 3*time.Second {
		t.Fatalf("idle connection closed after %s, want about 1s", d)
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	if err := <-p.done; err != nil {
		t.Fatalf("serve exited with %v", err)
	}
}

// TestServeFlagsFromEnvironment checks that the environment sets the
// defaults of serve's flags.
func TestServeFlagsFromEnvironment(t *testing.T) {
	t.Setenv("POLICYRESULTS_RATE_LIMIT", "7.5")
	t.Setenv("POLICYRESULTS_RATE_BURST", "9")
	t.Setenv("POLICYRESULTS_READ_HEADER_TIMEOUT", "3s")
	cmd := newServeCommand(&globalFlags{})
	for flag, want := range map[string]string{"rate-limit": "7.5", "rate-burst": "9", "read-header-timeout": "3s", "write-timeout": "10m0s", "metrics-addr": ""} {
		if got := cmd.Flags().Lookup(flag).DefValue; got != want {
			t.Errorf("--%s defaults to %q, want %q", flag, got, want)
		}
	}
	if got, _ := strconv.ParseFloat(cmd.Flags().Lookup("rate-limit").DefValue, 64); got != 7.5 {
		t.Errorf("rate limit %g", got)
	}
}
