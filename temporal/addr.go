package temporal

import (
	"errors"
	"fmt"
	"net"
	"strconv"
)

const loopback = "127.0.0.1"

// listenAddr is a host and port to listen on; port 0 until a free one is
// picked.
type listenAddr struct {
	host string
	port int
}

func parseListenAddr(what, addr string) (listenAddr, error) {
	host, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return listenAddr{}, fmt.Errorf("temporal: %s address %q: %w", what, addr, err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil || port < 0 || port > 65535 {
		return listenAddr{}, fmt.Errorf("temporal: %s address %q: port must be a number from 0 to 65535", what, addr)
	}
	switch {
	case host == "" || host == "localhost":
		host = loopback
	case net.ParseIP(host) == nil:
		return listenAddr{}, fmt.Errorf("temporal: %s address %q: host must be an IP address or localhost", what, addr)
	}
	return listenAddr{host: host, port: port}, nil
}

// dialAddr is where a client on this machine reaches the address: a
// wildcard listener (0.0.0.0, ::) is reached through loopback.
func (a listenAddr) dialAddr() string {
	host := a.host
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = loopback
	}
	return net.JoinHostPort(host, strconv.Itoa(a.port))
}

type portRequest struct {
	host string
	port int // 0: any free port
}

// reservePorts checks that each requested port can be listened on and
// picks a free one where the port is 0. All listeners stay open until every
// port is known, so no port is picked twice; they are closed before the
// servers bind them. A requested port of 0 with an empty host yields 0
// (nothing to reserve: the UI is off).
func reservePorts(requests ...portRequest) ([]int, error) {
	ports := make([]int, len(requests))
	var listeners []net.Listener
	defer func() {
		for _, l := range listeners {
			_ = l.Close()
		}
	}()
	for i, req := range requests {
		if req.host == "" {
			continue
		}
		addr := net.JoinHostPort(req.host, strconv.Itoa(req.port))
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("temporal: cannot listen on %s: %w", addr, err)
		}
		listeners = append(listeners, l)
		tcpAddr, ok := l.Addr().(*net.TCPAddr)
		if !ok {
			return nil, errors.New("temporal: listener has no TCP address")
		}
		ports[i] = tcpAddr.Port
	}
	return ports, nil
}
