package main

import (
	"ipcluster/runtime/controller"
	"ipcluster/traitconfig"
)

// options are ipyparallel's ipcontroller options, generated from the controller's option
// declarations (controller.Aliases, controller.Config's tags).
var options = controller.Options()

// traitHelp lists the settings for --help, from their declarations.
func traitHelp() string {
	return `Every setting can also be given as --Class.trait=value or in the profile's
ipcontroller_config.py/.json (command line > environment > files > defaults):
` + traitconfig.TraitUsage(controller.Specs()) + `
Other settings of ipyparallel's ipcontroller are reported as unknown, with the closest name.`
}
