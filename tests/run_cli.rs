//! `svc run`'s command line, daemonizing, and startup and exit behaviour, compared with
//! supervisord 4.3.0: every option and the `[supervisord]` key it overrides, refusals of bad
//! values (exit 2, `Error: ...` on stderr, before anything is started), the configuration
//! search order, `-h`/`-v`, and the daemon's fork: its session, directory, umask, stdio, pid
//! file, user and limits, read from `/proc`.
//!
//! Every test runs the program as an operator would (with its own arguments, in its own
//! temporary directory) through [`Case`], the guard that SIGKILLs, on drop, every process
//! carrying the test's `SVC_TEST_TAG` (a daemon that forked away included). With
//! `SVC_REFERENCE_SUPERVISORD` set, the same tests run `supervisord` with the same
//! arguments, and pass. The assertions on messages keep to the words both print; where svc
//! words a refusal its own way (a reason and what to write instead after supervisord's
//! `invalid value for -y 'foo': `), the common prefix is asserted. Two tests are of
//! intentional differences and fail against supervisord:
//! `a_reload_after_daemonizing_into_a_relative_directory_finds_the_configuration` and
//! `profile_options_is_refused` (supervisord runs itself under Python's profiler).

use std::ffi::OsString;
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus};
use std::time::{Duration, Instant};

use crate::support::daemon::{
    DEADLINE, REFERENCE, SIGHUP, SIGTERM, kill_tagged, send_signal, stat,
};
use crate::support::{Run, Test, svc_binary};

/// The `[supervisord]` lines every configuration starts with: the main log, the pid file
/// and AUTO child logs inside the test directory.
const HEADER: &str = "[supervisord]\nlogfile=%(here)s/main.log\npidfile=%(here)s/svc.pid\n\
                      childlogdir=%(here)s\n";

/// A unix socket for XML-RPC.
const RPC: &str = "[unix_http_server]\nfile=%(here)s/rpc.sock\n\
                   [rpcinterface:supervisor]\n\
                   supervisor.rpcinterface_factory=supervisor.rpcinterface:make_main_rpcinterface\n";

/// A program that stays up.
const SLEEPER: &str = "[program:sleeper]\ncommand=sleep 1000\nstartsecs=0\n";

/// The command line that runs the program under test with `args`: `svc run ARGS`, or
/// `supervisord ARGS` with [`REFERENCE`] set.
fn program_argv(args: &[&str]) -> Vec<OsString> {
    let mut argv: Vec<OsString> = match std::env::var_os(REFERENCE) {
        Some(supervisord) => vec![supervisord],
        None => vec![svc_binary().into(), "run".into()],
    };
    argv.extend(args.iter().map(OsString::from));
    argv
}

/// Whether the tests run against the reference supervisord.
fn is_reference() -> bool {
    std::env::var_os(REFERENCE).is_some()
}

/// One test's directory and every process it starts.
#[must_use]
struct Case {
    test: Test,
    tag: String,
    children: Vec<Child>,
}

impl Case {
    /// A fresh directory with `supervisord.conf` = [`HEADER`] + `rest`.
    fn new(rest: &str) -> Case {
        let test = Test::new();
        let tag = test.path().display().to_string();
        let test = test
            .env("SVC_TEST_TAG", &tag)
            .file("supervisord.conf", format!("{HEADER}{rest}"));
        Case {
            test,
            tag: format!("SVC_TEST_TAG={tag}"),
            children: Vec::new(),
        }
    }

    fn path(&self) -> &Path {
        self.test.path()
    }

    fn join(&self, name: &str) -> PathBuf {
        self.path().join(name)
    }

    /// A file of the test directory as text; empty if it does not exist.
    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.join(name)).unwrap_or_default()
    }

    /// Writes a file into the test directory.
    fn write(&self, name: &str, content: &str) {
        let path = self.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create the parent directories");
        }
        std::fs::write(path, content).expect("write a test file");
    }

    /// A command for `argv` in the test directory, with the test's environment.
    fn command(&self, wrapper: &[&str], argv: &[OsString]) -> Command {
        let mut command = match wrapper.first() {
            Some(first) => {
                let mut command = Command::new(first);
                command.args(&wrapper[1..]).args(argv);
                command
            }
            None => {
                let mut command = Command::new(&argv[0]);
                command.args(&argv[1..]);
                command
            }
        };
        self.test.prepare(&mut command);
        command
    }

    /// Runs the program with `args` to completion (a daemonizing run: until the parent has
    /// exited and the daemon has let go of its stdout and stderr).
    fn run(&self, args: &[&str]) -> Run {
        self.run_wrapped(&[], args)
    }

    /// [`Case::run`] under `wrapper` (`prlimit ... --`, `sh -c ...`).
    fn run_wrapped(&self, wrapper: &[&str], args: &[&str]) -> Run {
        self.test.run(self.command(wrapper, &program_argv(args)))
    }

    /// Starts the program with `args` in the background, stdout and stderr into files;
    /// returns its pid.
    fn spawn(&mut self, wrapper: &[&str], args: &[&str]) -> i32 {
        let mut command = self.command(wrapper, &program_argv(args));
        let stdout = std::fs::File::create(self.join("stdout.txt")).expect("create stdout.txt");
        let stderr = std::fs::File::create(self.join("stderr.txt")).expect("create stderr.txt");
        command.stdout(stdout).stderr(stderr);
        let child = command.spawn().expect("start the program");
        let pid = i32::try_from(child.id()).expect("a pid fits in i32");
        self.children.push(child);
        pid
    }

    /// Waits for the last spawned program to exit.
    fn wait_exit(&mut self) -> ExitStatus {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let child = self.children.last_mut().expect("a program was started");
            if let Some(status) = child.try_wait().expect("wait for the program") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the program did not exit within {DEADLINE:?}\n{}",
                self.report()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Polls `condition` every 10 ms; fails the test after [`DEADLINE`] with what was seen.
    fn wait_until(&self, what: &str, condition: impl FnMut() -> bool) {
        crate::support::daemon::wait_until(what, condition, || self.report());
    }

    /// Waits until the main log says `supervisord started with pid <pid>`.
    fn wait_started(&self, pid: i32) {
        let line = format!("supervisord started with pid {pid}\n");
        self.wait_until(&format!("{line:?} in main.log"), || {
            self.read("main.log").contains(&line)
        });
    }

    /// The pid in the pid file `name`, once the daemon it names has logged its start.
    fn daemon_pid(&self, name: &str) -> i32 {
        let mut pid = 0;
        self.wait_until(&format!("a started daemon's pid in {name}"), || {
            pid = self.read(name).trim().parse().unwrap_or(0);
            pid > 0
                && self
                    .read("main.log")
                    .contains(&format!("supervisord started with pid {pid}\n"))
        });
        pid
    }

    /// Sends SIGTERM to `pid` and waits until the process has exited (a zombie of ours, or
    /// gone).
    fn terminate(&self, pid: i32) {
        assert!(
            send_signal(pid, SIGTERM),
            "no process {pid}\n{}",
            self.report()
        );
        self.wait_until(&format!("process {pid} to exit"), || {
            stat(pid).is_none_or(|stat| stat.state == 'Z')
        });
    }

    /// The main log, the captured stdout and stderr, for failure messages.
    fn report(&self) -> String {
        format!(
            "--- main.log\n{}--- stdout.txt\n{}--- stderr.txt\n{}",
            self.read("main.log"),
            self.read("stdout.txt"),
            self.read("stderr.txt")
        )
    }
}

impl Drop for Case {
    fn drop(&mut self) {
        kill_tagged(&self.tag);
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A field of `/proc/<pid>/status` (`Uid`, `Gid`, `Umask`), its value trimmed.
fn status_field(pid: i32, field: &str) -> String {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix(&format!("{field}:")))
        .map(|value| value.split_whitespace().collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// `(ppid, pgid, sid)` from `/proc/<pid>/stat`.
fn parentage(pid: i32) -> (i32, i32, i32) {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("read /proc/pid/stat");
    let after_name = &text[text.rfind(')').expect("a stat line") + 1..];
    let fields: Vec<i32> = after_name
        .split_whitespace()
        .skip(1)
        .take(4)
        .map(|field| field.parse().expect("a number"))
        .collect();
    (fields[0], fields[1], fields[2])
}

/// The soft and hard limit of one `/proc/<pid>/limits` row (`Max open files`).
fn limits(pid: i32, row: &str) -> (String, String) {
    let text = std::fs::read_to_string(format!("/proc/{pid}/limits")).expect("read limits");
    let line = text
        .lines()
        .find(|line| line.starts_with(row))
        .unwrap_or_else(|| panic!("no {row:?} in\n{text}"));
    let fields: Vec<&str> = line[row.len()..].split_whitespace().collect();
    (fields[0].to_string(), fields[1].to_string())
}

/// Whether this test process may raise hard limits (`CAP_SYS_RESOURCE`, bit 24).
fn may_raise_hard_limits() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("CapEff:"))
        .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
        .is_some_and(|mask| mask & (1 << 24) != 0)
}

/// Calls an XML-RPC method without parameters over the unix socket; the response body.
fn xmlrpc(socket: &Path, method: &str) -> String {
    let mut stream = std::os::unix::net::UnixStream::connect(socket).expect("connect");
    stream
        .set_read_timeout(Some(DEADLINE))
        .expect("set a read timeout");
    let body = format!(
        "<?xml version=\"1.0\"?><methodCall><methodName>{method}</methodName>\
         <params></params></methodCall>"
    );
    write!(
        stream,
        "POST /RPC2 HTTP/1.0\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .expect("send the request");
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .expect("read the response");
    response
}

/// The AUTO log files of program `name` in `directory` (`name-stdout---ident-XXXX.log`).
fn auto_logs(directory: &Path, prefix: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(directory)
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|entry| entry.file_name().into_string().ok())
                .filter(|name| name.starts_with(prefix))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

// ---------------------------------------------------------------------------------------
// -h, -v and refusals

#[test]
fn version_prints_the_supervisord_version_and_exits_0() {
    let case = Case::new("");
    for flag in ["-v", "--version"] {
        let run = case.run(&[flag]).expect_code(0);
        assert_eq!(run.stdout(), "4.3.0\n", "{flag}");
        assert_eq!(run.stderr(), "", "{flag}");
    }
}

#[test]
fn help_prints_the_options_and_exits_0() {
    let case = Case::new("");
    for flag in ["-h", "--help", "-?"] {
        let run = case.run(&[flag]).expect_code(0);
        let stdout = run.stdout();
        for option in [
            "--configuration",
            "--nodaemon",
            "--minprocs",
            "--strip_ansi",
        ] {
            assert!(stdout.contains(option), "{flag}: no {option}\n{stdout}");
        }
    }
}

/// supervisord checks each value as getopt hands it over: `Error: invalid value for -y
/// 'foo': ...`, `For help, use ... -h`, exit 2, before the configuration is even read.
#[test]
fn bad_option_values_are_refused_with_exit_2_before_anything_starts() {
    let case = Case::new(SLEEPER);
    let cases: &[(&str, &str)] = &[
        ("-y", "foo"),
        ("-z", "x"),
        ("-e", "nonsense"),
        ("-m", "999"),
        ("-a", "x"),
        ("--minprocs", "x"),
        ("-d", "/nonexistent"),
        ("-q", "/nonexistent"),
        ("-j", "/nonexistent/dir/pid"),
        ("-l", "/nonexistent/dir/log"),
    ];
    for (option, value) in cases {
        // A configuration that does not exist: the option is refused first.
        for conf in ["supervisord.conf", "missing.conf"] {
            let run = case.run(&["-n", "-c", conf, option, value]).expect_code(2);
            let stderr = run.stderr();
            let expected = format!("Error: invalid value for {option} '{value}': ");
            assert!(stderr.starts_with(&expected), "{option} {value}:\n{stderr}");
            assert!(stderr.contains("\nFor help, use "), "{stderr}");
            assert_eq!(run.stdout(), "");
        }
        for file in ["main.log", "svc.pid"] {
            assert!(!case.join(file).exists(), "{option} {value}: {file} exists");
        }
    }
    let stderr = case
        .run(&["-n", "-c", "supervisord.conf", "-d", "/nonexistent"])
        .stderr();
    assert!(
        stderr.contains("/nonexistent is not an existing directory"),
        "{stderr}"
    );
    let stderr = case
        .run(&["-n", "-c", "supervisord.conf", "-j", "/nonexistent/dir/pid"])
        .stderr();
    assert!(
        stderr.contains(
            "The directory named as part of the path /nonexistent/dir/pid does not exist"
        ),
        "{stderr}"
    );
}

/// svc has no Python profiler: `--profile_options` is refused rather than ignored.
#[test]
fn profile_options_is_refused() {
    let case = Case::new(SLEEPER);
    let run = case
        .run(&[
            "-n",
            "-c",
            "supervisord.conf",
            "--profile_options",
            "cumulative",
        ])
        .expect_code(2);
    let stderr = run.stderr();
    assert!(
        stderr.starts_with("Error: --profile_options runs supervisord under Python's profiler"),
        "{stderr}"
    );
    assert!(!case.join("svc.pid").exists());
}

#[test]
fn a_nonexistent_user_is_refused_with_exit_2() {
    let case = Case::new(SLEEPER);
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    assert!(!passwd.contains(":4000123:"), "uid 4000123 exists here");
    for (user, message) in [
        ("nosuchuser", "Error: Invalid user name nosuchuser\n"),
        ("4000123", "Error: Invalid user id 4000123\n"),
    ] {
        let run = case
            .run(&["-n", "-c", "supervisord.conf", "-u", user])
            .expect_code(2);
        let stderr = run.stderr();
        assert!(stderr.starts_with(message), "{user}:\n{stderr}");
        assert!(stderr.contains("\nFor help, use "), "{stderr}");
        assert!(!case.join("svc.pid").exists());
    }
}

#[test]
fn a_missing_or_unreadable_configuration_exits_2() {
    let case = Case::new("");
    std::fs::create_dir(case.join("a-directory.conf")).expect("create a directory");
    for (conf, message) in [
        ("missing.conf", "could not find config file missing.conf"),
        (
            "a-directory.conf",
            "could not read config file a-directory.conf",
        ),
    ] {
        let run = case.run(&["-n", "-c", conf]).expect_code(2);
        let stderr = run.stderr();
        assert!(stderr.contains(message), "{conf}:\n{stderr}");
        assert_eq!(run.stdout(), "");
    }
}

/// A main log that cannot be opened ends startup: supervisord dies with a traceback (exit 1)
/// naming the file; svc says `Error: could not open the log file ...` and exits 1 too.
#[test]
fn a_main_log_that_cannot_be_opened_exits_1_and_starts_nothing() {
    let case = Case::new(SLEEPER);
    std::fs::create_dir(case.join("adir")).expect("create a directory");
    let run = case
        .run(&["-n", "-c", "supervisord.conf", "-l", "adir"])
        .expect_code(1);
    let stderr = run.stderr();
    assert!(stderr.contains("[DIR]/adir"), "{stderr}");
    assert!(!case.join("svc.pid").exists());
}

// ---------------------------------------------------------------------------------------
// The configuration search order

/// A directory without `supervisord.conf`, and `prefix/bin/program`: a symlink to the
/// program under test (the prefix is taken from the path that was run, not the link's
/// target).
fn search_case() -> (Case, PathBuf) {
    let case = Case::new("");
    std::fs::remove_file(case.join("supervisord.conf")).expect("remove supervisord.conf");
    let target = match std::env::var_os(REFERENCE) {
        Some(supervisord) => PathBuf::from(supervisord),
        None => svc_binary(),
    };
    let link = case.join("prefix/bin/program");
    std::fs::create_dir_all(case.join("prefix/bin")).expect("create prefix/bin");
    std::os::unix::fs::symlink(target, &link).expect("link the program");
    (case, link)
}

/// Runs the linked program without `-c` in the test directory; returns its output.
fn search(case: &Case, link: &Path) -> Run {
    let mut argv: Vec<OsString> = vec![link.into()];
    if !is_reference() {
        argv.push("run".into());
    }
    argv.push("-n".into());
    case.test.run(case.command(&[], &argv))
}

/// Each candidate names itself in a value supervisord refuses (`minfds=in-X`), so the
/// refusal tells which file was read. (`/etc/supervisord.conf` and
/// `/etc/supervisor/supervisord.conf`, the last two, are left alone.)
#[test]
fn without_c_the_configuration_is_found_in_supervisords_search_order() {
    let (case, link) = search_case();
    let candidates = [
        ("prefix/etc/supervisord.conf", "in-prefix-etc"),
        ("prefix/supervisord.conf", "in-prefix-top"),
        ("supervisord.conf", "in-cwd-top"),
        ("etc/supervisord.conf", "in-cwd-etc"),
    ];
    for (path, marker) in candidates {
        case.write(path, &format!("[supervisord]\nminfds={marker}\n"));
    }
    // Each run reads the first candidate left, then that one is removed.
    for (index, (path, marker)) in candidates.iter().enumerate() {
        let run = search(&case, &link).expect_code(2);
        let stderr = run.stderr();
        assert!(stderr.contains(marker), "{path} not read:\n{stderr}");
        for (_, later) in &candidates[index + 1..] {
            assert!(
                !stderr.contains(later),
                "{later} read before {path}:\n{stderr}"
            );
        }
        std::fs::remove_file(case.join(path)).expect("remove the candidate");
    }
}

#[test]
fn without_c_and_no_configuration_found_exits_2_naming_the_paths() {
    let (case, link) = search_case();
    let run = search(&case, &link).expect_code(2);
    let stderr = run.stderr();
    let prefix = case.join("prefix").display().to_string();
    let expected = format!(
        "Error: No config file found at default paths ({prefix}/etc/supervisord.conf, \
         {prefix}/supervisord.conf, supervisord.conf, etc/supervisord.conf, \
         /etc/supervisord.conf, /etc/supervisor/supervisord.conf); use the -c option to \
         specify a config file at a different path\n"
    )
    .replace(&case.path().display().to_string(), "[DIR]");
    assert!(stderr.contains(&expected), "{stderr}");
    // Root searching the current directory is warned about.
    let root = status_field(std::process::id() as i32, "Uid").starts_with("0 ");
    if root {
        assert!(
            stderr.contains("is running as root and it is searching"),
            "{stderr}"
        );
    }
    assert_eq!(run.stdout(), "");
}

// ---------------------------------------------------------------------------------------
// Daemonizing

/// Without `nodaemon`: the command returns exit 0 at once; the daemon leads its own session,
/// is reparented away from the caller, runs in `-d` with `-m` as its umask and stdio on
/// /dev/null, and its pid is in the pid file; SIGTERM stops it and removes the pid file.
#[test]
fn daemonizing_forks_into_a_session_with_directory_umask_and_null_stdio() {
    let case = Case::new(&format!("directory=/\numask=077\n{SLEEPER}"));
    std::fs::create_dir(case.join("workdir")).expect("create workdir");
    let run = case
        .run(&[
            "-c",
            "supervisord.conf",
            "-d",
            "workdir",
            "-m",
            "027",
            "-e",
            "blather",
        ])
        .expect_code(0);
    assert_eq!(run.stdout(), "");
    let pid = case.daemon_pid("svc.pid");
    let (ppid, pgid, sid) = parentage(pid);
    assert_eq!((pgid, sid), (pid, pid), "not a session leader");
    assert_ne!(ppid, std::process::id() as i32, "not reparented");
    assert_eq!(
        std::fs::read_link(format!("/proc/{pid}/cwd")).expect("read the daemon's cwd"),
        case.join("workdir")
    );
    assert_eq!(status_field(pid, "Umask"), "0027");
    for fd in 0..3 {
        assert_eq!(
            std::fs::read_link(format!("/proc/{pid}/fd/{fd}")).expect("read an fd link"),
            PathBuf::from("/dev/null"),
            "fd {fd}"
        );
    }
    assert_eq!(case.read("svc.pid"), format!("{pid}\n"));
    let log = case.read("main.log");
    assert!(
        log.contains(" BLAT supervisord forked; parent exiting\n"),
        "{log}"
    );
    assert!(
        log.contains(" INFO daemonizing the supervisord process\n"),
        "{log}"
    );
    assert!(
        log.contains(" INFO set current directory: 'workdir'\n"),
        "{log}"
    );
    case.terminate(pid);
    assert!(!case.join("svc.pid").exists(), "the pid file is left");
}

/// Without `-d` or `directory=` supervisord stays in the directory it was started in (it does
/// not chdir to `/`), and the umask is `022` whatever the caller's was.
#[test]
fn daemonizing_without_directory_keeps_the_cwd_and_sets_umask_022() {
    let case = Case::new(SLEEPER);
    let wrapper = ["sh", "-c", "umask 077; exec \"$@\"", "sh"];
    case.run_wrapped(&wrapper, &["-c", "supervisord.conf"])
        .expect_code(0);
    let pid = case.daemon_pid("svc.pid");
    assert_eq!(
        std::fs::read_link(format!("/proc/{pid}/cwd")).expect("read the daemon's cwd"),
        case.path()
    );
    assert_eq!(status_field(pid, "Umask"), "0022");
    case.terminate(pid);
}

/// A reload (SIGHUP) after daemonizing into a relative `-d` reads the same relative `-c`
/// file again and keeps the checked options. Intentionally unlike supervisord, which looks
/// for both again from the new directory, does not find them, and exits.
#[test]
fn a_reload_after_daemonizing_into_a_relative_directory_finds_the_configuration() {
    let case = Case::new(SLEEPER);
    std::fs::create_dir(case.join("workdir")).expect("create workdir");
    case.run(&["-c", "supervisord.conf", "-d", "workdir"])
        .expect_code(0);
    let pid = case.daemon_pid("svc.pid");
    assert!(send_signal(pid, SIGHUP), "no daemon\n{}", case.report());
    case.wait_until("a second start after the reload", || {
        case.read("main.log")
            .matches(&format!("supervisord started with pid {pid}\n"))
            .count()
            == 2
    });
    case.terminate(pid);
}

/// In the foreground `-d` and `-m` do nothing: they are applied when daemonizing.
#[test]
fn in_the_foreground_directory_and_umask_are_not_applied() {
    let mut case = Case::new(SLEEPER);
    std::fs::create_dir(case.join("workdir")).expect("create workdir");
    let wrapper = ["sh", "-c", "umask 077; exec \"$@\"", "sh"];
    let pid = case.spawn(
        &wrapper,
        &["-n", "-c", "supervisord.conf", "-d", "workdir", "-m", "002"],
    );
    case.wait_started(pid);
    assert_eq!(
        std::fs::read_link(format!("/proc/{pid}/cwd")).expect("read the daemon's cwd"),
        case.path()
    );
    assert_eq!(status_field(pid, "Umask"), "0077");
    case.terminate(pid);
    assert_eq!(case.wait_exit().code(), Some(0));
}

/// A second daemon on the socket of a running one is refused before it forks: the message
/// on the caller's stderr, exit 2; the first daemon and its pid file are untouched.
#[test]
fn a_second_instance_on_a_busy_socket_is_refused_with_exit_2() {
    let case = Case::new(&format!("{RPC}{SLEEPER}"));
    case.run(&["-c", "supervisord.conf"]).expect_code(0);
    let pid = case.daemon_pid("svc.pid");
    let run = case.run(&["-c", "supervisord.conf"]).expect_code(2);
    let stderr = run.stderr();
    assert!(
        stderr.starts_with(
            "Error: Another program is already listening on a port that one of our HTTP \
             servers is configured to use.  Shut this program down first before starting \
             supervisord.\nFor help, use "
        ),
        "{stderr}"
    );
    assert_eq!(case.read("svc.pid"), format!("{pid}\n"));
    assert!(xmlrpc(&case.join("rpc.sock"), "supervisor.getPID").contains(&pid.to_string()));
    case.terminate(pid);
}

/// `-u nobody`: the daemon switches to nobody (uid and gid) before opening its log. (No
/// program: supervisord, as nobody, could not import its process module from root's
/// Python installation.)
#[test]
fn user_option_makes_the_daemon_run_as_that_user() {
    let case = Case::new("user=root\n");
    std::fs::set_permissions(case.path(), std::fs::Permissions::from_mode(0o777))
        .expect("open the test directory to nobody");
    case.run(&["-c", "supervisord.conf", "-u", "nobody"])
        .expect_code(0);
    let pid = case.daemon_pid("svc.pid");
    assert_eq!(status_field(pid, "Uid"), "65534 65534 65534 65534");
    assert_eq!(status_field(pid, "Gid"), "65534 65534 65534 65534");
    let log = case.read("main.log");
    assert!(
        log.contains(" INFO Set uid to user 65534 succeeded\n"),
        "{log}"
    );
    case.terminate(pid);
    assert!(!case.join("svc.pid").exists(), "the pid file is left");
}

/// `-u` replaces `user=` before any check: a `user=` that does not exist on this host is
/// never looked up when the command line names the user.
#[test]
fn user_option_replaces_an_unknown_configured_user() {
    let case = Case::new("user=nosuchuser\n");
    case.run(&["-c", "supervisord.conf", "-u", "root"])
        .expect_code(0);
    let pid = case.daemon_pid("svc.pid");
    assert_eq!(status_field(pid, "Uid"), "0 0 0 0");
    case.terminate(pid);
}

// ---------------------------------------------------------------------------------------
// Each option overrides its [supervisord] key

#[test]
fn silent_keeps_the_foreground_log_off_stdout() {
    for (silent, expect_lines) in [(false, true), (true, false)] {
        let mut case = Case::new(&format!("silent=false\n{SLEEPER}"));
        let mut args = vec!["-n", "-c", "supervisord.conf"];
        if silent {
            args.push("-s");
        }
        let pid = case.spawn(&[], &args);
        case.wait_started(pid);
        case.terminate(pid);
        assert_eq!(case.wait_exit().code(), Some(0));
        let stdout = case.read("stdout.txt");
        assert_eq!(
            stdout.contains(&format!("INFO supervisord started with pid {pid}\n")),
            expect_lines,
            "silent={silent}:\n{stdout}"
        );
        if silent {
            assert_eq!(stdout, "");
        }
    }
}

#[test]
fn loglevel_option_overrides_the_key_both_ways() {
    let chatty = "[program:chatty]\ncommand=sh -c 'echo hello-debug; exec sleep 1000'\n\
                  startsecs=0\n";
    // -e debug over loglevel=info: the child's output is logged at DEBG.
    let mut case = Case::new(&format!("loglevel=info\n{chatty}"));
    let pid = case.spawn(&[], &["-n", "-c", "supervisord.conf", "-e", "debug"]);
    case.wait_until("the child's output at DEBG", || {
        case.read("main.log")
            .contains(" DEBG 'chatty' stdout output:\nhello-debug\n")
    });
    case.terminate(pid);
    case.wait_exit();
    // -e warn over loglevel=debug: no INFO (or DEBG) line at all.
    let mut case = Case::new(&format!("loglevel=debug\n{chatty}"));
    let pid = case.spawn(&[], &["-n", "-c", "supervisord.conf", "-e", "WARN"]);
    case.wait_until("the pid file", || {
        case.read("svc.pid") == format!("{pid}\n")
    });
    case.wait_until("the child's output", || {
        auto_logs(case.path(), "chatty-stdout---")
            .iter()
            .any(|name| case.read(name).contains("hello-debug"))
    });
    case.terminate(pid);
    assert_eq!(case.wait_exit().code(), Some(0));
    let log = case.read("main.log");
    assert!(
        log.contains(" WARN received SIGTERM indicating exit request\n"),
        "{log}"
    );
    for level in [" INFO ", " DEBG "] {
        assert!(!log.contains(level), "{level} with -e warn:\n{log}");
    }
}

#[test]
fn pidfile_and_logfile_options_override_the_keys() {
    let mut case = Case::new(SLEEPER);
    std::fs::create_dir(case.join("elsewhere")).expect("create elsewhere");
    let pid = case.spawn(
        &[],
        &[
            "-n",
            "-c",
            "supervisord.conf",
            "-j",
            "elsewhere/cli.pid",
            "-l",
            "elsewhere/cli.log",
        ],
    );
    let started = format!("supervisord started with pid {pid}\n");
    case.wait_until("the start in elsewhere/cli.log", || {
        case.read("elsewhere/cli.log").contains(&started)
    });
    assert_eq!(case.read("elsewhere/cli.pid"), format!("{pid}\n"));
    assert!(!case.join("svc.pid").exists());
    assert!(!case.join("main.log").exists());
    case.terminate(pid);
    assert_eq!(case.wait_exit().code(), Some(0));
    assert!(
        !case.join("elsewhere/cli.pid").exists(),
        "the pid file is left"
    );
}

/// `-y 1KB -z 1` over `logfile_maxbytes=0` (never rotate) and `logfile_backups=5`: the main
/// log rotates, and after two rotations there is still only `main.log.1`.
#[test]
fn logfile_maxbytes_and_backups_options_rotate_the_main_log() {
    let bursts = "[program:bursts]\ncommand=sh -c 'for n in 1 2 3 4; do \
                  printf \"burst-$n %%1100s\\n\" x; sleep 0.3; done; exec sleep 1000'\n\
                  startsecs=0\n";
    let mut case = Case::new(&format!(
        "logfile_maxbytes=0\nlogfile_backups=5\nloglevel=info\n{bursts}"
    ));
    let pid = case.spawn(
        &[],
        &[
            "-n",
            "-c",
            "supervisord.conf",
            "-e",
            "debug",
            "-y",
            "1KB",
            "-z",
            "1",
        ],
    );
    let logs = || format!("{}{}", case.read("main.log"), case.read("main.log.1"));
    case.wait_until("burst-4 logged and burst-1 rotated away", || {
        let text = logs();
        text.contains("burst-4 ") && !text.contains("burst-1 ")
    });
    assert!(!case.join("main.log.2").exists(), "-z 1 kept main.log.2");
    let rotated = std::fs::metadata(case.join("main.log.1"))
        .expect("main.log.1")
        .len();
    assert!(rotated >= 1024, "main.log.1 rotated at {rotated} bytes");
    case.terminate(pid);
    case.wait_exit();
}

/// `-i`: the identifier `supervisor.getIdentification` returns and AUTO log names carry;
/// `-q`: where AUTO logs go; both over their keys.
#[test]
fn identifier_and_childlogdir_options_override_the_keys() {
    let mut case = Case::new(&format!("identifier=fromconf\n{RPC}{SLEEPER}"));
    std::fs::create_dir(case.join("childlogs")).expect("create childlogs");
    let pid = case.spawn(
        &[],
        &[
            "-n",
            "-c",
            "supervisord.conf",
            "-i",
            "fromcli",
            "-q",
            "childlogs",
        ],
    );
    case.wait_started(pid);
    let response = xmlrpc(&case.join("rpc.sock"), "supervisor.getIdentification");
    assert!(response.contains("<string>fromcli</string>"), "{response}");
    case.wait_until("the AUTO logs in childlogs/", || {
        auto_logs(&case.join("childlogs"), "sleeper-").len() == 2
    });
    for name in auto_logs(&case.join("childlogs"), "sleeper-") {
        assert!(name.contains("---fromcli-"), "{name}");
    }
    assert!(auto_logs(case.path(), "sleeper-").is_empty());
    case.terminate(pid);
    assert_eq!(case.wait_exit().code(), Some(0));
}

/// `-k` keeps the AUTO logs of an earlier run; without it they are deleted at startup.
#[test]
fn nocleanup_option_keeps_old_auto_logs() {
    for (nocleanup, kept) in [(false, false), (true, true)] {
        let mut case = Case::new(&format!("nocleanup=false\n{SLEEPER}"));
        case.write("old-stdout---supervisor-abcdefgh.log", "old\n");
        let mut args = vec!["-n", "-c", "supervisord.conf"];
        if nocleanup {
            args.push("-k");
        }
        let pid = case.spawn(&[], &args);
        case.wait_started(pid);
        assert_eq!(
            case.join("old-stdout---supervisor-abcdefgh.log").exists(),
            kept,
            "-k: {nocleanup}"
        );
        case.terminate(pid);
        case.wait_exit();
    }
}

#[test]
fn strip_ansi_option_removes_escape_sequences() {
    let colour = "[program:colour]\ncommand=sh -c 'printf \"\\033[31mred\\033[0m done\\n\"; \
                  exec sleep 1000'\nstartsecs=0\nstdout_logfile=%(here)s/colour.log\n";
    let mut case = Case::new(&format!("strip_ansi=false\n{colour}"));
    let pid = case.spawn(&[], &["-n", "-c", "supervisord.conf", "-t"]);
    case.wait_until("the child's output", || {
        case.read("colour.log").ends_with("done\n")
    });
    assert_eq!(case.read("colour.log"), "red done\n");
    case.terminate(pid);
    case.wait_exit();
}

/// `-a` raises the soft RLIMIT_NOFILE over `minfds=` in the file; above a hard limit the
/// daemon may not raise, it refuses with supervisord's message and exit 2.
#[test]
fn minfds_option_raises_the_open_file_limit_or_refuses() {
    let mut case = Case::new(&format!("minfds=100\n{SLEEPER}"));
    let pid = case.spawn(
        &["prlimit", "--nofile=512:4096", "--"],
        &["-n", "-c", "supervisord.conf", "-a", "2000"],
    );
    case.wait_started(pid);
    assert_eq!(
        limits(pid, "Max open files"),
        ("2000".into(), "4096".into())
    );
    let log = case.read("main.log");
    assert!(
        log.contains(" INFO Increased RLIMIT_NOFILE limit to 2000\n"),
        "{log}"
    );
    case.terminate(pid);
    case.wait_exit();

    if may_raise_hard_limits() {
        // Root with CAP_SYS_RESOURCE raises the hard limit too; nothing to refuse.
        return;
    }
    let case = Case::new(&format!("minfds=100\n{SLEEPER}"));
    let run = case
        .run_wrapped(
            &["prlimit", "--nofile=512:800", "--"],
            &["-n", "-c", "supervisord.conf", "-a", "2000"],
        )
        .expect_code(2);
    let stderr = run.stderr();
    assert!(
        stderr.starts_with(
            "Error: The minimum number of file descriptors required to run this process is \
             2000 as per the \"minfds\" command-line argument or config file setting. The \
             current environment will only allow you to open "
        ),
        "{stderr}"
    );
    assert!(!case.join("svc.pid").exists());
}

/// `--minprocs` does the same for RLIMIT_NPROC.
#[test]
fn minprocs_option_raises_the_process_limit_or_refuses() {
    let mut case = Case::new(&format!("minprocs=10\n{SLEEPER}"));
    let pid = case.spawn(
        &["prlimit", "--nproc=100:150", "--"],
        &["-n", "-c", "supervisord.conf", "--minprocs", "120"],
    );
    case.wait_started(pid);
    assert_eq!(limits(pid, "Max processes"), ("120".into(), "150".into()));
    let log = case.read("main.log");
    assert!(
        log.contains(" INFO Increased RLIMIT_NPROC limit to 120\n"),
        "{log}"
    );
    case.terminate(pid);
    case.wait_exit();

    if may_raise_hard_limits() {
        return;
    }
    let case = Case::new(&format!("minprocs=10\n{SLEEPER}"));
    let run = case
        .run_wrapped(
            &["prlimit", "--nproc=100:150", "--"],
            &["-n", "-c", "supervisord.conf", "--minprocs", "300"],
        )
        .expect_code(2);
    let stderr = run.stderr();
    assert!(
        stderr.starts_with(
            "Error: The minimum number of available processes required to run this program \
             is 300 as per the \"minprocs\" command-line argument or config file setting. The \
             current environment will only allow you to open "
        ),
        "{stderr}"
    );
}
