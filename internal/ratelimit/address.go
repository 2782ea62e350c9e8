package ratelimit

import (
	"net"
	"strings"
)

// addressSuffix ends the name of every limit per client address
// ("newSession:ip"); bucketKey reads the key of such a limit as an address.
const addressSuffix = ":ip"

// ipv6Prefix is the part of an IPv6 address that names one client: a /64
// is what one host, or one customer line, is given, and a client can pick
// any address inside it.
var ipv6Prefix = net.CIDRMask(64, 128)

// bucketKey is the bucket's key for limit name: for a per-address limit an
// IPv6 address becomes its /64 ("2001:db8:1:2::/64") and an IPv4 address
// written as IPv6 its IPv4 form; every other key is kept as given.
func bucketKey(name, key string) string {
	if !strings.HasSuffix(name, addressSuffix) {
		return key
	}
	ip := net.ParseIP(key)
	if ip == nil {
		return key
	}
	if v4 := ip.To4(); v4 != nil {
		return v4.String()
	}
	return ip.Mask(ipv6Prefix).String() + "/64"
}
