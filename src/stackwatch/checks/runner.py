"""`stackwatch-check NAME [options] [-v] [-t TIMEOUT]`: run one check the Nagios way.

The Nagios plugin contract: one status line on stdout ("DISK OK - ... | perfdata"), then the
long output with -v, and the exit code 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN. Whatever goes
wrong in the runner itself (an unknown check, a bad option or threshold, an error, a timeout)
is UNKNOWN, exit 3, never 2. `--help` also exits 3, as the monitoring-plugins do.

Imports are kept to the minimum on purpose: this is started as a process for every check run (NRPE
starts one per check). That is why the command line is read by `checks.command_line`, not argparse,
which alone pulled in `re`, `gettext` and `locale`.
"""

from __future__ import annotations

import os
import sys

UNKNOWN = 3
USAGE = "stackwatch-check NAME [options] [-v] [-t TIMEOUT] | --list | NAME --help"


def _width() -> int:
    try:
        return int(os.environ["COLUMNS"]) - 2
    except (KeyError, ValueError):
        pass
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns - 2
    except (AttributeError, ValueError, OSError):
        return 78


def _fail(message: str):
    sys.stdout.write(f"UNKNOWN - {message}\n")
    sys.stdout.flush()
    sys.exit(UNKNOWN)


class _Watchdog:
    """UNKNOWN and exit when the check takes longer than `timeout` seconds.

    A thread waiting on a lock, not SIGALRM: Python's `signal` module costs every run about half a
    millisecond (it builds its enums at import), while `_thread` (the documented low-level threading
    API) is built in. It also works whichever thread the runner is called from. Whoever takes `_claim`
    first speaks: the runner before it prints its result, or the watchdog when the time is up, never both.
    """

    def __init__(self, name: str, timeout: float):
        import _thread

        self.name, self.timeout = name, min(timeout, _thread.TIMEOUT_MAX)
        self._done, self._claim = _thread.allocate_lock(), _thread.allocate_lock()
        self._done.acquire()
        _thread.start_new_thread(self._watch, ())

    def _watch(self) -> None:
        if self._done.acquire(timeout=self.timeout) or not self._claim.acquire(blocking=False):
            return
        # Write and leave at once: the check may be stuck anywhere, even in code catching exceptions.
        sys.stdout.write(f"UNKNOWN - {self.name} check timed out after {self.timeout:g}s\n")
        sys.stdout.flush()
        os._exit(UNKNOWN)

    def stop(self) -> None:
        """Called before the result is printed; waits for the exit if the watchdog has fired."""
        self._claim.acquire()
        self._done.release()


def main(argv: list[str] | None = None) -> int:
    """Run the check named in `argv` and return its exit code (the console script exits with it)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        return _run(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else UNKNOWN
    except BaseException as exc:  # the contract holds even for the runner's own bugs and ^C
        sys.stdout.write(f"UNKNOWN - {type(exc).__name__}: {_one_line(str(exc))}\n")
        return UNKNOWN


def _run(argv: list[str]) -> int:
    from stackwatch.checks import get_check, names

    if not argv or argv[0] in ("-h", "--help"):
        sys.stdout.write(f"usage: {USAGE}\nchecks: {', '.join(names())}\n")
        return UNKNOWN
    if argv[0] == "--list":
        if len(argv) > 1:
            _fail(f"--list takes no arguments, got {' '.join(argv[1:])}")
        for name in names():
            sys.stdout.write(name + "\n")
        return 0
    name = argv[0]
    if name.startswith("-"):
        _fail(f"expected a check name before options, got {name!r} (usage: {USAGE})")
    try:
        plugin = get_check(name)
    except KeyError as exc:
        _fail(exc.args[0])

    from stackwatch.checks.command_line import CommandLine, HelpRequested, UsageError
    from stackwatch.checks.options import fields

    command = CommandLine(f"stackwatch-check {name}", (plugin.__doc__ or "").strip())
    command.add_options(plugin.Options)
    command.add("-v", "--verbose", dest="verbose", action="count", default=0,
                help="add a line per result that is not OK (-vv: per result)")
    command.add("-t", "--timeout", dest="timeout", convert=_timeout, default=10.0, metavar="SECONDS",
                help="UNKNOWN when the check takes longer (default: 10)")
    try:
        args = command.parse(argv[1:])
    except UsageError as exc:
        _fail(str(exc))
    except HelpRequested:
        sys.stdout.write(command.format_help(_width()))
        return UNKNOWN  # --help: not a status, so not OK either

    watchdog = _Watchdog(name, args["timeout"])
    try:
        try:
            check = plugin(plugin.Options(**{f.name: args[f.name] for f in fields(plugin.Options)}))
        except ValueError as exc:  # options the parser let through but the check refuses
            _fail(f"{name}: {exc}")
        check.standalone = True
        outcome = check.run()
    finally:  # disarmed on every way out, so that a runner called in-process cannot fire later
        watchdog.stop()

    lines = [_one_line(check.status_line(outcome))]
    verbose = args["verbose"]
    if verbose:
        lines += [d for d in outcome.details if not d.startswith("OK:") or verbose >= 2]
    sys.stdout.write("\n".join(lines) + "\n")
    return int(outcome.state)


def _timeout(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not seconds > 0:
        raise ValueError(f"not a timeout in seconds: {text!r}")
    return seconds


def _one_line(text: str) -> str:
    return " ".join(text.split("\n"))


if __name__ == "__main__":
    sys.exit(main())
