package webhooks

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// RequestTimeout bounds one delivery attempt, connection to last byte.
const RequestTimeout = 10 * time.Second

// ErrRefusedAddress is a dial to an address deliveries may not reach.
var ErrRefusedAddress = errors.New("refused address")

// refusedPrefixes are ranges beyond those netip classifies that no
// public receiver lives in: "this network", shared address space (carrier
// NAT), the IETF protocol assignments, the benchmarking range and the
// reserved class E.
var refusedPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b::/96"),
}

// publicAddress reports whether a delivery may connect to ip: not
// loopback, link-local (the cloud metadata address among them), private,
// multicast, unspecified or reserved.
func publicAddress(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsValid() || ip.IsLoopback() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsPrivate() || ip.IsUnspecified() {
		return false
	}
	for _, p := range refusedPrefixes {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// NewHTTPClient is the client deliveries are sent with: RequestTimeout,
// no redirects followed, no proxy from the environment, and unless
// allowPrivate a dialer that checks the address it is about to connect
// to, after name resolution, so that a name resolving (or rebinding) to
// an internal address is refused too.
func NewHTTPClient(allowPrivate bool) *http.Client {
	dialer := &net.Dialer{Timeout: RequestTimeout, KeepAlive: 30 * time.Second}
	if !allowPrivate {
		dialer.Control = func(network, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("%w: %s", ErrRefusedAddress, address)
			}
			if !publicAddress(ap.Addr()) {
				return fmt.Errorf("%w: %s is not a public address (see --webhook-allow-private)", ErrRefusedAddress, ap.Addr())
			}
			return nil
		}
	}
	transport := &http.Transport{
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          64,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   RequestTimeout,
		ResponseHeaderTimeout: RequestTimeout,
	}
	return &http.Client{
		Transport: transport,
		Timeout:   RequestTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}
