// Package wire is the Jupyter message protocol (v5.3) as ipyparallel speaks it: the
// multipart framing around the "<IDS|MSG>" delimiter, HMAC signatures over the four JSON
// parts, the replay check on signatures, headers and timestamps. It is pure Go and knows
// nothing about sockets: callers hand it frames and get frames back.
package wire
