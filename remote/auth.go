package remote

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// ErrAuth is returned when the server accepts none of the keys offered.
var ErrAuth = errors.New("authentication refused")

// authMethods offers the ssh-agent's keys (unless IdentitiesOnly) and the identity files, in
// that order, as OpenSSH does. It returns what was tried, for error messages, and a closer
// for the agent connection.
func authMethods(t Target) ([]ssh.AuthMethod, []string, func(), error) {
	var signers []ssh.Signer
	var tried []string
	closeAgent := func() {}
	if sock := os.Getenv("SSH_AUTH_SOCK"); sock != "" && !t.OnlyIdentity {
		if conn, err := net.Dial("unix", sock); err == nil {
			closeAgent = func() { conn.Close() }
			if s, err := agent.NewClient(conn).Signers(); err == nil {
				signers = append(signers, s...)
				tried = append(tried, fmt.Sprintf("%d ssh-agent key(s)", len(s)))
			}
		}
	}
	var problems []string
	for _, f := range t.Identities {
		data, err := os.ReadFile(f)
		if err != nil {
			if !os.IsNotExist(err) {
				problems = append(problems, err.Error())
			}
			continue
		}
		s, err := ssh.ParsePrivateKey(data)
		var missing *ssh.PassphraseMissingError
		if errors.As(err, &missing) {
			problems = append(problems, f+" needs a passphrase (load it into ssh-agent with ssh-add)")
			continue
		}
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", f, err))
			continue
		}
		signers = append(signers, s)
		tried = append(tried, f)
	}
	if len(signers) == 0 {
		closeAgent()
		msg := "no ssh-agent (SSH_AUTH_SOCK) keys and no identity file among " + strings.Join(t.Identities, ", ")
		if len(problems) > 0 {
			msg += " (" + strings.Join(problems, "; ") + ")"
		}
		return nil, nil, nil, fmt.Errorf("%w: %s", ErrAuth, msg)
	}
	return []ssh.AuthMethod{ssh.PublicKeys(signers...)}, tried, closeAgent, nil
}
