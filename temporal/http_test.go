package temporal_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/daytradinginc/daytrader/temporal"
)

// TestHTTPAPIOnConfiguredPortWithoutUI starts a server the way
// `TEMPORAL_UI_ADDR= daytrader dev` does: HTTP API on a fixed port, no UI.
// The HTTP API must answer on exactly that port, and no port this process
// listens on may serve the web UI.
func TestHTTPAPIOnConfiguredPortWithoutUI(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	httpAddr := freeAddr(t)
	srv, err := temporal.Start(ctx, temporal.Options{
		DataDir:      t.TempDir(),
		FrontendAddr: "127.0.0.1:0",
		HTTPAddr:     httpAddr,
		UIAddr:       "",
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop() })

	if got, want := srv.HTTPURL(), "http://"+httpAddr; got != want {
		t.Errorf("HTTPURL() = %q, want %q", got, want)
	}
	if names := namespaceNames(t, "http://"+httpAddr); !slices.Contains(names, temporal.DefaultNamespace) {
		t.Errorf("GET /api/v1/namespaces on %s: namespaces %v, want %q among them", httpAddr, names, temporal.DefaultNamespace)
	}
	if srv.UIURL() != "" {
		t.Errorf("UIURL() = %q with UIAddr empty, want no UI", srv.UIURL())
	}
	ports := ownListeningPorts(t)
	if !slices.Contains(ports, portOf(t, httpAddr)) || !slices.Contains(ports, portOf(t, srv.FrontendAddr())) {
		t.Fatalf("listening ports %v miss the HTTP API %s or the frontend %s: the scan sees nothing", ports, httpAddr, srv.FrontendAddr())
	}
	for _, port := range ports {
		if body := tryGet("http://127.0.0.1:" + port + "/"); strings.Contains(strings.ToLower(body), "<!doctype html") {
			t.Errorf("port %s serves a web page with UIAddr empty: %.200s", port, body)
		}
	}
}

// TestHTTPAPIOffWhenHTTPAddrEmpty: with HTTPAddr "" only the UI (which
// proxies /api/v1 to gRPC) answers the HTTP API's routes.
func TestHTTPAPIOffWhenHTTPAddrEmpty(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	srv, err := temporal.Start(ctx, temporal.Options{DataDir: t.TempDir(), FrontendAddr: "127.0.0.1:0", UIAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop() })
	if srv.HTTPURL() != "" {
		t.Errorf("HTTPURL() = %q with HTTPAddr empty, want none", srv.HTTPURL())
	}
	uiPort := portOf(t, strings.TrimPrefix(srv.UIURL(), "http://"))
	ports := ownListeningPorts(t)
	if !slices.Contains(ports, uiPort) {
		t.Fatalf("listening ports %v miss the UI's %s: the scan sees nothing", ports, uiPort)
	}
	for _, port := range ports {
		if port == uiPort {
			continue
		}
		if body := tryGet("http://127.0.0.1:" + port + "/api/v1/namespaces"); body != "" {
			t.Errorf("port %s answers the HTTP API with HTTPAddr empty: %.200s", port, body)
		}
	}
}

// freeAddr is a loopback address with a port that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

func portOf(t *testing.T, hostPort string) string {
	t.Helper()
	_, port, err := net.SplitHostPort(hostPort)
	if err != nil {
		t.Fatal(err)
	}
	return port
}

func namespaceNames(t *testing.T, baseURL string) []string {
	t.Helper()
	var resp struct {
		Namespaces []struct {
			NamespaceInfo struct{ Name string } `json:"namespaceInfo"`
		} `json:"namespaces"`
	}
	body := httpGet(t, baseURL+"/api/v1/namespaces")
	if err := json.Unmarshal([]byte(body), &resp); err != nil {
		t.Fatalf("decode %.200s: %v", body, err)
	}
	var names []string
	for _, ns := range resp.Namespaces {
		names = append(names, ns.NamespaceInfo.Name)
	}
	return names
}

// tryGet returns the body of a 200 answer, or "" for anything else
// (gRPC ports close the connection on an HTTP/1.1 request).
func tryGet(url string) string {
	client := http.Client{Timeout: 2 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		return ""
	}
	return string(body)
}

// ownListeningPorts lists the TCP ports this process listens on, from
// /proc: the sockets among its file descriptors that /proc/net/tcp{,6}
// shows in state LISTEN. Only ports matter here, so no server in the
// process can hide on a port the test did not think of.
func ownListeningPorts(t *testing.T) []string {
	t.Helper()
	inodes := map[string]bool{}
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	for _, fd := range fds {
		target, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name()))
		if inode, ok := strings.CutPrefix(target, "socket:["); err == nil && ok {
			inodes[strings.TrimSuffix(inode, "]")] = true
		}
	}
	var ports []string
	for _, table := range []string{"/proc/self/net/tcp", "/proc/self/net/tcp6"} {
		ports = append(ports, listeningPorts(t, table, inodes)...)
	}
	return ports
}

func listeningPorts(t *testing.T, table string, inodes map[string]bool) []string {
	t.Helper()
	f, err := os.Open(table)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	const listenState = "0A"
	var ports []string
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
		fields := strings.Fields(sc.Text())
		if len(fields) < 10 || fields[3] != listenState || !inodes[fields[9]] {
			continue
		}
		_, hexPort, _ := strings.Cut(fields[1], ":")
		port, err := strconv.ParseUint(hexPort, 16, 16)
		if err != nil {
			t.Fatalf("%s: local address %q: %v", table, fields[1], err)
		}
		ports = append(ports, strconv.FormatUint(port, 10))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return ports
}
