package main

import (
	"slices"
	"testing"

	"ipcluster/traitconfig"
)

// ipcluster start --IPEngine.sshserver=... reaches the engines it starts and
// --IPController.engine_ssh_server=... the controller (which writes it into the engine file).
func TestSSHSettingsGoToTheirPrograms(t *testing.T) {
	own, toController, toEngine := forwardedTraits([]traitconfig.Trait{
		{Class: "IPEngine", Name: "sshserver", Value: "'login'"},
		{Class: "IPEngine", Name: "sshkey", Value: "'/k'"},
		{Class: "IPController", Name: "engine_ssh_server", Value: "'node1'"},
	})
	if len(own) != 0 || !slices.Equal(toController, []string{"--IPController.engine_ssh_server='node1'"}) ||
		!slices.Equal(toEngine, []string{"--IPEngine.sshserver='login'", "--IPEngine.sshkey='/k'"}) {
		t.Errorf("own %v, controller %v, engines %v", own, toController, toEngine)
	}
}
