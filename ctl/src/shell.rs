//! The interactive shell (`cmd.Cmd.cmdloop` as supervisorctl drives it) and the session's
//! stdin.
//!
//! - The shell runs `status` first, then prints `<prompt>> ` and runs each line read;
//!   `quit`, `exit` and the end of input (`EOF`, which prints an empty line) leave it, as
//!   does Ctrl-C (an empty line). Its exit status is always 0.
//! - Input is a plain line reader: no line editing or completion. With `history_file` in
//!   `[supervisorctl]`, the file is read at start and written back at exit with the lines
//!   typed on a terminal added, as readline keeps it.
//! - [`Input`] is the one reader of stdin for the session: prompts (`raw_input`), the
//!   password (echo off on a terminal), and `fg`'s lines all read through it, so no line
//!   typed ahead is lost between them. It is read on smol's blocking pool, so a read can be
//!   raced against Ctrl-C.

use std::io::IsTerminal as _;

use smol::io::AsyncBufReadExt as _;

use super::interrupt::Interrupt;
use super::{Controller, Failure, output};

/// The session's stdin, read line by line.
pub(crate) struct Input {
    reader: Option<smol::io::BufReader<smol::Unblock<std::io::Stdin>>>,
}

impl Input {
    /// A reader that touches stdin only when first read.
    pub(crate) fn new() -> Input {
        Input { reader: None }
    }

    /// The next line without its `\n` (Python's `input()`), or `None` at the end of input.
    pub(crate) async fn read_line(&mut self) -> Option<String> {
        let reader = self
            .reader
            .get_or_insert_with(|| smol::io::BufReader::new(smol::Unblock::new(std::io::stdin())));
        let mut bytes = Vec::new();
        match reader.read_until(b'\n', &mut bytes).await {
            Ok(0) | Err(_) => None,
            Ok(_) => {
                if bytes.last() == Some(&b'\n') {
                    bytes.pop();
                }
                Some(String::from_utf8_lossy(&bytes).into_owned())
            }
        }
    }
}

/// `getpass.getpass(prompt)`: the prompt, then a line read with echo off when stdin is a
/// terminal; otherwise Python's warning on stderr and a plain read.
pub(crate) fn getpass(
    interrupt: &Interrupt,
    input: &mut Input,
    prompt: &str,
) -> Result<String, Failure> {
    let terminal = std::io::stdin().is_terminal();
    let saved = if terminal {
        output::prompt(prompt);
        echo_off()
    } else {
        eprintln!("Warning: Password input may be echoed.");
        eprint!("{prompt}");
        None
    };
    let line = interrupt.block_on(input.read_line());
    if let Some(saved) = saved {
        let _ = nix::sys::termios::tcsetattr(
            std::io::stdin(),
            nix::sys::termios::SetArg::TCSANOW,
            &saved,
        );
        output::line("");
    }
    match line? {
        Some(line) => Ok(line),
        None => Err(Failure::Raised(super::Exception::Other {
            class: "EOFError",
            message: String::new(),
            site: super::Site::GETPASS,
        })),
    }
}

/// Turns the terminal's echo off; the settings to restore.
fn echo_off() -> Option<nix::sys::termios::Termios> {
    use nix::sys::termios::{LocalFlags, SetArg, tcgetattr, tcsetattr};
    let saved = tcgetattr(std::io::stdin()).ok()?;
    let mut quiet = saved.clone();
    quiet.local_flags.remove(LocalFlags::ECHO);
    tcsetattr(std::io::stdin(), SetArg::TCSANOW, &quiet).ok()?;
    Some(saved)
}

/// The readline history file, kept as readline keeps it: loaded at start, the lines typed
/// on a terminal appended, written back at exit.
struct History {
    path: Option<String>,
    lines: Vec<String>,
    recording: bool,
}

impl History {
    fn load(path: Option<&str>) -> History {
        let lines = path
            .and_then(|path| std::fs::read_to_string(path).ok())
            .map(|text| text.lines().map(str::to_string).collect())
            .unwrap_or_default();
        History {
            path: path.map(str::to_string),
            lines,
            recording: std::io::stdin().is_terminal(),
        }
    }

    fn record(&mut self, line: &str) {
        if self.path.is_some() && self.recording && !line.is_empty() {
            self.lines.push(line.to_string());
        }
    }

    fn save(&self) {
        if let Some(path) = &self.path {
            let mut text = self.lines.join("\n");
            if !text.is_empty() {
                text.push('\n');
            }
            // readline ignores a history file it cannot write (`except IOError: pass`).
            let _ = std::fs::write(path, text);
        }
    }
}

/// `exec_cmdloop`: `status`, then a prompt per line until `quit`, `exit`, EOF or Ctrl-C.
pub(crate) fn cmdloop(controller: &mut Controller) {
    let mut history = History::load(controller.options.history_file.as_deref());
    let prompt = format!("{}> ", controller.options.prompt);
    let mut queued = Some("status".to_string());
    loop {
        let line = match queued.take() {
            Some(line) => line,
            None => {
                output::prompt(&prompt);
                match controller.interrupt.block_on(controller.input.read_line()) {
                    Err(_) => {
                        output::line("");
                        break;
                    }
                    Ok(Some(line)) => {
                        history.record(&line);
                        line
                    }
                    Ok(None) => "EOF".to_string(),
                }
            }
        };
        match controller.onecmd(&line) {
            Ok(false) => {}
            Ok(true) => break,
            Err(_) => {
                output::line("");
                break;
            }
        }
    }
    history.save();
}
