//! The interactive shell (`cmd.Cmd.cmdloop` as supervisorctl drives it) and the session's
//! stdin.
//!
//! - The shell runs `status` first, then prints `<prompt>> ` and runs each line read;
//!   `quit`, `exit` and the end of input (`EOF`, which prints an empty line) leave it, as
//!   does Ctrl-C (an empty line). Its exit status is always 0.
//! - On a terminal, the prompt is read by the line editor (`editor`: history, Tab
//!   completion as supervisorctl's `complete` does it, see `completion`); there Ctrl-C and
//!   Ctrl-D end the shell after the editor's own newline. Otherwise input is a plain line
//!   reader, byte for byte what it was: no editing, no completion.
//! - With `history_file` in `[supervisorctl]`, the file (plain lines, as readline writes
//!   it) is read at start and written back at exit with the lines typed on a terminal
//!   added, a line equal to the previous one skipped, as Python's readline keeps it.
//! - [`Input`] is the one reader of stdin for the session besides the editor: prompts
//!   (`raw_input`), the password (echo off on a terminal), and `fg`'s lines all read through
//!   it, so no line typed ahead is lost between them. From a pipe or file it is read on
//!   smol's blocking pool; from a terminal it waits for the fd to be readable and then reads
//!   one line (the terminal is in canonical mode between prompts), so no read is left
//!   pending to steal the editor's keystrokes. Either way a read can be raced against
//!   Ctrl-C.

mod completion;
mod editor;

use std::io::IsTerminal as _;
use std::io::Read as _;
use std::os::fd::AsFd as _;

use smol::io::AsyncBufReadExt as _;

use super::interrupt::Interrupt;
use super::{Controller, Failure, output};
use editor::{Edited, LineEditor};

/// The session's stdin, read line by line.
pub(crate) struct Input {
    source: Source,
}

/// Where [`Input`] reads from, chosen at the first read.
enum Source {
    Unread,
    /// A pipe or a file: read ahead on smol's blocking pool.
    Plain(smol::io::BufReader<smol::Unblock<std::io::Stdin>>),
    /// A terminal: a duplicate of fd 0, watched for readability, read only when readable.
    Terminal(smol::Async<std::fs::File>),
}

impl Input {
    /// A reader that touches stdin only when first read.
    pub(crate) fn new() -> Input {
        Input {
            source: Source::Unread,
        }
    }

    /// The next line without its `\n` (Python's `input()`), or `None` at the end of input.
    pub(crate) async fn read_line(&mut self) -> Option<String> {
        if matches!(self.source, Source::Unread) {
            self.source = terminal_source().unwrap_or_else(|| {
                Source::Plain(smol::io::BufReader::new(smol::Unblock::new(
                    std::io::stdin(),
                )))
            });
        }
        let mut bytes = Vec::new();
        match &mut self.source {
            Source::Unread => return None,
            Source::Plain(reader) => match reader.read_until(b'\n', &mut bytes).await {
                Ok(0) | Err(_) => return None,
                Ok(_) => {}
            },
            Source::Terminal(terminal) => {
                while bytes.last() != Some(&b'\n') {
                    if terminal.readable().await.is_err() {
                        return None;
                    }
                    let mut chunk = [0u8; 4096];
                    match terminal.get_ref().read(&mut chunk) {
                        Ok(0) if bytes.is_empty() => return None,
                        Ok(0) => break,
                        Ok(count) => bytes.extend_from_slice(&chunk[..count]),
                        Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {}
                        Err(_) if bytes.is_empty() => return None,
                        Err(_) => break,
                    }
                }
            }
        }
        if bytes.last() == Some(&b'\n') {
            bytes.pop();
        }
        Some(String::from_utf8_lossy(&bytes).into_owned())
    }
}

/// Stdin as a [`Source::Terminal`], if it is a terminal. The duplicate shares fd 0's open
/// file, which stays blocking: the line editor reads the same terminal.
fn terminal_source() -> Option<Source> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return None;
    }
    let duplicate = stdin.as_fd().try_clone_to_owned().ok()?;
    let terminal = smol::Async::new_nonblocking(std::fs::File::from(duplicate)).ok()?;
    Some(Source::Terminal(terminal))
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

    /// Adds a line typed on a terminal, unless empty or equal to the previous line (Python's
    /// readline module skips those).
    fn record(&mut self, line: &str) {
        if self.path.is_some()
            && self.recording
            && !line.is_empty()
            && self.lines.last().map(String::as_str) != Some(line)
        {
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
    let mut editor = if std::io::stdin().is_terminal() {
        LineEditor::new(&history.lines)
    } else {
        None
    };
    loop {
        let line = match queued.take() {
            Some(line) => line,
            None if editor.is_some() => {
                let supervisor = controller.supervisor().ok();
                let Some(editor) = editor.as_mut() else { break };
                match editor.read_line(&prompt, supervisor) {
                    // The editor has ended the line: `do_EOF`'s empty line and the one
                    // printed after `KeyboardInterrupt` are already on the terminal.
                    Edited::Interrupted | Edited::Eof => break,
                    Edited::Line(line) => {
                        history.record(&line);
                        editor.remember(&line);
                        line
                    }
                }
            }
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
