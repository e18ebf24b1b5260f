package main

import (
	"slices"

	"ipcluster/runtime/controller"
	"ipcluster/runtime/engine"
	"ipcluster/traitconfig"
)

// appClasses are the application classes ipcluster shares with the controller and the
// engine (--Application.log_level and the like): those stay ipcluster's own settings.
var appClasses = []string{"BaseParallelApplication", "BaseIPythonApplication", "Application"}

// forwardedTraits splits command-line --Class.trait=value arguments into ipcluster's own
// and those of the controller's classes (IPController, HeartMonitor, TaskScheduler, ...)
// and the engines' (IPEngine, MPI, ...), which ipcluster passes on as arguments to the
// programs it starts, as their own command line would take them. A Session setting goes
// to both.
func forwardedTraits(traits []traitconfig.Trait) (own []traitconfig.Trait, controllerArgs, engineArgs []string) {
	for _, t := range traits {
		toController, toEngine := owns(controller.Classes, t.Class), owns(engine.Classes, t.Class)
		if !toController && !toEngine {
			own = append(own, t)
			continue
		}
		arg := "--" + t.String()
		if toController {
			controllerArgs = append(controllerArgs, arg)
		}
		if toEngine {
			engineArgs = append(engineArgs, arg)
		}
	}
	return own, controllerArgs, engineArgs
}

// owns tells whether class is one of a program's own classes (or an old name of one).
func owns(classes traitconfig.Classes, class string) bool {
	if slices.Contains(appClasses, class) {
		return false
	}
	for _, chain := range classes {
		if slices.Contains(chain.Classes(), class) {
			return true
		}
	}
	return false
}
