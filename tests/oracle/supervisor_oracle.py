#!/usr/bin/env python3
"""What Python Supervisor makes of a supervisord.conf: the reference for svc's compiler.

Usage: python3 supervisor_oracle.py FILE [FILE ...]

For each FILE, in order, prints one JSON line with supervisord 4.3.0's verdict. It does
what supervisord does at startup and nothing more:
``supervisor.options.ServerOptions().realize(['-c', PATH])``, with PATH the absolute path
of FILE and the working directory set to FILE's directory, with ``usage()`` (which prints
"Error: ..." and exits 2) turned into an exception so the message is captured. Nothing is
started: no sockets, no log files, no processes.

This is how /work/shared/corpus/real/ORACLE.jsonl was produced (see the corpus README), and
the fields mean the same:

- ``file``: FILE's base name.
- ``ok``: True if supervisord would start with this configuration.
- ``error``: the message supervisord prints after "Error: " (None when ok).
- ``error_kind``: ``usage`` (supervisord's own rejection), ``exception`` (an unexpected
  Python exception, reported as ``Type: message``), or None.
- ``programs``: process names after numprocs expansion, in start order.
- ``groups``: ``{group: [process names]}``.
- ``group_types``: ``program``, ``fcgi-program`` or ``eventlistener`` (a ``[group:x]`` is a
  ``program`` group, as in supervisord).
- ``priorities``: ``{group: priority, "group:process": priority}``.
- ``warnings``: supervisord's parse warnings.
- ``included``: the files an ``[include]`` matched.
- ``supervisor_version``: the version of the supervisor package used.

In ``error``, ``warnings`` and ``included`` the absolute directory of FILE is replaced by
``<dir>``, so results do not depend on the temporary directory they were produced in.

Run each FILE alone in an empty directory (relative includes such as ``*.conf`` resolve
against it) with the environment the corpus oracle used:
``env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/root LANG=C.UTF-8``.

Exit status: 0 when every FILE was processed (whatever the verdicts), 2 on a usage error,
3 when the supervisor package cannot be imported.
"""

import json
import os
import sys

try:
    from supervisor import options as supervisor_options
except ImportError as error:  # pragma: no cover - reported to the caller
    sys.stderr.write(
        "supervisor_oracle.py: cannot import the supervisor package (%s); "
        "install it with `pip install supervisor==4.3.0`\n" % error
    )
    sys.exit(3)


class Rejected(Exception):
    """supervisord called usage(msg): it would print "Error: msg" and exit 2."""


def group_type(config):
    # FastCGIGroupConfig subclasses ProcessGroupConfig: test it first.
    if isinstance(config, supervisor_options.EventListenerPoolConfig):
        return "eventlistener"
    if isinstance(config, supervisor_options.FastCGIGroupConfig):
        return "fcgi-program"
    return "program"


def verdict(path):
    """The oracle's JSON object for one configuration file."""
    path = os.path.abspath(path)
    directory = os.path.dirname(path)
    name = os.path.basename(path)
    previous = os.getcwd()
    os.chdir(directory)

    def hide_dir(text):
        return text.replace(directory, "<dir>") if text is not None else None

    result = {
        "file": name,
        "ok": False,
        "error": None,
        "error_kind": None,
        "programs": [],
        "groups": {},
        "group_types": {},
        "priorities": {},
        "warnings": [],
        "included": [],
        "supervisor_version": supervisor_options.VERSION,
    }
    server = supervisor_options.ServerOptions()

    def usage(message):
        raise Rejected(str(message))

    server.usage = usage
    try:
        server.realize(["-c", path], doc="", progname="supervisord")
    except Rejected as rejected:
        result["error"] = str(rejected)
        result["error_kind"] = "usage"
    except Exception as error:  # noqa: BLE001 - the caller wants to see any crash
        result["error"] = "%s: %s" % (type(error).__name__, error)
        result["error_kind"] = "exception"
    else:
        result["ok"] = True
        for group in server.process_group_configs:
            names = [process.name for process in group.process_configs]
            result["programs"].extend(names)
            result["groups"][group.name] = names
            result["group_types"][group.name] = group_type(group)
            result["priorities"][group.name] = group.priority
            for process in group.process_configs:
                key = "%s:%s" % (group.name, process.name)
                result["priorities"][key] = process.priority
    finally:
        os.chdir(previous)

    # Messages gathered before a rejection are kept, as supervisord would have them.
    result["warnings"] = [hide_dir(w) for w in server.parse_warnings]
    prefix, suffix = 'Included extra file "', '" during parsing'
    result["included"] = [
        hide_dir(info[len(prefix) : -len(suffix)])
        for info in server.parse_infos
        if info.startswith(prefix) and info.endswith(suffix)
    ]
    result["error"] = hide_dir(result["error"])
    return result


def main(argv):
    if not argv or argv[0] in ("-h", "--help"):
        sys.stderr.write(__doc__)
        return 2
    for path in argv:
        print(json.dumps(verdict(path)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
