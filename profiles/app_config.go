package profiles

import (
	"errors"
	"io/fs"
	"path/filepath"
	"strconv"

	"ipcluster/traitconfig"
)

// LocationOptions are the command-line options that say where an application's profile
// is (and so which config files it reads); they are read before any config file.
var LocationOptions = []Option{
	{Name: "profile", Value: "NAME", Help: "profile name (default: default)"},
	{Name: "profile-dir", Value: "DIR", Help: "profile directory (overrides --profile and --ipython-dir; default $IPP_PROFILE_DIR)"},
	{Name: "ipython-dir", Value: "DIR", Help: "IPython directory (default: $IPYTHONDIR or ~/.ipython)"},
	{Name: "config", Value: "FILE", Help: "one more config file (.py or .json), read after the profile's"},
}

// LocateProfile finds an application's profile directory as ipyparallel's tools do:
// --profile-dir, else IPP_PROFILE_DIR unless --profile is given, else
// <--ipython-dir or $IPYTHONDIR>/profile_<--profile or default>. origin says which, for
// messages ("--profile-dir", "IPP_PROFILE_DIR", "profile \"default\"").
func LocateProfile(args *Args, getenv func(string) string) (dir, origin string) {
	profileDir, origin := args.Get("profile-dir"), "--profile-dir"
	if profileDir == "" && !args.Has("profile") && getenv("IPP_PROFILE_DIR") != "" {
		profileDir, origin = getenv("IPP_PROFILE_DIR"), "IPP_PROFILE_DIR"
	}
	if profileDir == "" {
		name := args.Get("profile")
		if name == "" {
			name = "default"
		}
		origin = "profile " + strconv.Quote(name)
	}
	return Locate(args.Get("ipython-dir"), args.Get("profile"), profileDir), origin
}

// LoadProfile reads an application's config files from a profile directory, as traitlets
// does: <app>_config.py, then <app>_config.json over it (app is ipcluster, ipcontroller or
// ipengine). Missing files are skipped; Files() tells which were read.
func LoadProfile(profileDir, app string) (*traitconfig.Config, error) {
	var layers []*traitconfig.Config
	for _, ext := range []string{".py", ".json"} {
		c, err := traitconfig.LoadFile(filepath.Join(profileDir, app+"_config"+ext))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		layers = append(layers, c)
	}
	return traitconfig.Merge(layers...)
}

// LoadApp merges an application's configuration in traitlets' order, later layers winning:
// the profile's <app>_config.py and .json, the --config file if given, the environment
// layer, the command-line layer (either may be nil).
func LoadApp(args *Args, profileDir, app string, env, cli *traitconfig.Config) (*traitconfig.Config, error) {
	files, err := LoadProfile(profileDir, app)
	if err != nil {
		return nil, err
	}
	var extra *traitconfig.Config
	if path := args.Get("config"); path != "" {
		if extra, err = traitconfig.LoadFile(path); err != nil {
			return nil, err
		}
	}
	return traitconfig.Merge(files, extra, env, cli)
}
