# Evaluates one traitlets config file (ipcluster_config.py and the like) for ipcluster in
# Go, with traitlets' own PyFileConfigLoader, so that the file runs exactly as ipyparallel
# would run it: imports, os.environ, loops, get_config() and load_subconfig() all work.
#
# Usage: python3 -c <this script> CONFIG_FILE   (the result is written to file descriptor 3)
#
# The result is one JSON object:
#   {"assignments": [{"class", "trait", "value" | "lazy", "file", "line"}, ...]}
# in the order the file made them, or, when the file fails,
#   {"error": {"file", "line", "message"}}
# Values JSON cannot carry (sets, bytes, objects, ...) are an error naming the trait.
# The file's own output (print) goes to stderr, so it cannot corrupt the result.

import json
import math
import os
import re
import sys
import traceback

from traitlets.config.loader import Config, LazyConfigValue, PyFileConfigLoader

RESULT_FD = 3

# The config files being executed, so that an assignment or an error is attributed to the
# line of the config file, not to a library function it went through.
config_files = set()
# (class, trait) -> [sequence, file, line]: where each trait was last assigned.
origins = {}
# id(section Config) -> its class name (c.Foo returns the section named Foo).
section_names = {}
sequence = [0]


def config_frame():
    """The innermost stack frame that runs code of a config file: file and line."""
    f = sys._getframe(2)
    while f is not None:
        if f.f_code.co_filename in config_files:
            return f.f_code.co_filename, f.f_lineno
        f = f.f_back
    return None


def note(section, trait):
    name = section_names.get(id(section))
    where = config_frame()
    if name is None or where is None:
        return
    sequence[0] += 1
    origins[(name, trait)] = [sequence[0], where[0], where[1]]


def is_section_key(key):
    return bool(key) and key[0].isupper() and not key.startswith("_")


# Watch Config's item access to learn section names and where each trait was set.
_getitem, _setitem = Config.__getitem__, Config.__setitem__


def watched_getitem(self, key):
    value = _getitem(self, key)
    if is_section_key(key) and isinstance(value, Config):
        section_names[id(value)] = key
    elif isinstance(value, LazyConfigValue):
        note(self, key)  # c.Class.trait.append(...) and friends
    return value


def watched_setitem(self, key, value):
    _setitem(self, key, value)
    if is_section_key(key) and isinstance(value, Config):
        section_names[id(value)] = key
        for trait in value:
            if not is_section_key(trait):
                note(value, trait)
    elif not is_section_key(key):
        note(self, key)


Config.__getitem__ = watched_getitem
Config.__setitem__ = watched_setitem


class Loader(PyFileConfigLoader):
    """traitlets' loader, also taking load_subconfig(..., profile=NAME) as IPython's does."""

    def load_subconfig(self, fname, path=None, profile=None):
        if profile is not None:
            ipython_dir = os.environ.get("IPYTHONDIR") or os.path.join(os.path.expanduser("~"), ".ipython")
            path = os.path.join(ipython_dir, "profile_" + profile)
            if not os.path.isdir(path):
                return
        return super().load_subconfig(fname, path=path)

    def _read_file_as_dict(self):
        config_files.add(self.full_filename)
        section_names[id(self.config)] = None
        return super()._read_file_as_dict()


class Unrepresentable(Exception):
    pass


def plain(value, where):
    """value as JSON data, or Unrepresentable naming what JSON cannot carry."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        if not -(2**63) <= value < 2**63:
            raise Unrepresentable(f"{where}: integer {value} does not fit in 64 bits")
        return value
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise Unrepresentable(f"{where}: {value!r} cannot be passed on (not a finite number)")
        return value
    if isinstance(value, (list, tuple)):
        return [plain(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise Unrepresentable(f"{where}: dict key {k!r} is a {type(k).__name__}; only str keys can be passed on")
            out[k] = plain(v, f"{where}[{k!r}]")
        return out
    raise Unrepresentable(
        f"{where}: a {type(value).__name__} value ({value!r:.60}) cannot be passed on; "
        "use str, int, float, bool, None, or lists, tuples and dicts of them"
    )


def lazy(value, where):
    """A LazyConfigValue's pending changes, or None when it holds none."""
    out = {}
    if value._extend:
        out["extend"] = plain(value._extend, where)
    if value._prepend:
        out["prepend"] = plain(value._prepend, where)
    if value._inserts:
        out["inserts"] = [[i, plain(v, where)] for i, v in value._inserts]
    if isinstance(value._update, dict) and value._update:
        out["update"] = plain(value._update, where)
    elif isinstance(value._update, set) and value._update:
        out["add"] = plain(sorted(value._update, key=repr), where)
    return out or None


def find_line(cls, trait, main_file):
    """Where a trait was set, for values that reached the config without a watched
    assignment (Config.merge copies them): the last line naming Class.trait."""
    pattern = re.compile(r"\b%s\s*\.\s*%s\b" % (re.escape(cls), re.escape(trait)))
    found = (main_file, 0)
    for path in sorted(config_files):
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                for n, text in enumerate(f, 1):
                    if pattern.search(text):
                        found = (path, n)
        except OSError:
            pass
    return found


def assignments(config, main_file):
    out = []
    for cls, section in config.items():
        if not is_section_key(cls) or not isinstance(section, dict):
            continue  # traitlets ignores top-level values that are not sections
        for trait, value in section.items():
            where = f"c.{cls}.{trait}"
            origin = origins.get((cls, trait))
            if origin is None:
                path, line = find_line(cls, trait, main_file)
                origin = [sys.maxsize, path, line]
            a = {"class": cls, "trait": trait, "file": origin[1], "line": origin[2], "seq": origin[0]}
            if is_section_key(trait) and isinstance(value, dict):
                if not value:
                    continue
                a["error"] = f"nested config sections ({cls}.{trait}) are not supported; expected c.Class.trait = value"
            elif isinstance(value, LazyConfigValue):
                try:
                    a["lazy"] = lazy(value, where)
                except Unrepresentable as e:
                    a["error"] = str(e)
                if "lazy" in a and a["lazy"] is None:
                    continue  # only read, never changed
            else:
                try:
                    a["value"] = plain(value, where)
                except Unrepresentable as e:
                    a["error"] = str(e)
            out.append(a)
    out.sort(key=lambda a: a.pop("seq"))
    return out


def failure(exc, main_file):
    """file, line and message of an exception raised by the config file."""
    message = "".join(traceback.format_exception_only(type(exc), exc)).strip().splitlines()[-1]
    if isinstance(exc, SyntaxError) and exc.filename in config_files:
        return {"file": exc.filename, "line": exc.lineno or 0, "message": message}
    path, line = main_file, 0
    for frame, lineno in traceback.walk_tb(exc.__traceback__):
        if frame.f_code.co_filename in config_files:
            path, line = frame.f_code.co_filename, lineno
    return {"file": path, "line": line, "message": message}


def main():
    path = os.path.abspath(sys.argv[1])
    out = os.fdopen(RESULT_FD, "w")
    real_stdout = sys.stdout
    sys.stdout = sys.stderr  # print() in a config file must not reach the result
    try:
        loader = Loader(os.path.basename(path), os.path.dirname(path))
        config = loader.load_config()
        result = {"assignments": assignments(config, path)}
    except BaseException as e:  # SystemExit too: the file decides nothing about ipcluster's exit
        result = {"error": failure(e, path)}
    finally:
        sys.stdout = real_stdout
    json.dump(result, out)
    out.close()


main()
