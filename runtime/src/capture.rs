//! Child output capture: one pump task per pipe copies what the child writes into its log.
//!
//! Reads go into one scratch buffer shared by every pump of the thread (128 KiB, supervisord's
//! read size), and each chunk is written out before the next read, so an idle process costs
//! no buffer at all. Work per chunk is only what a setting asks for: `strip_ansi`, syslog
//! lines, and the copy into the main log at `loglevel=debug`.

use std::cell::RefCell;
use std::fs::File;
use std::io::Read;
use std::os::fd::OwnedFd;
use std::rc::Rc;

use smol::Async;
use svc_schema::LogLevel;

use crate::logs::{MainLog, RotatingFile, strip_ansi, syslog};

/// Bytes read from a pipe at once (supervisord reads `2 << 16`).
const CHUNK: usize = 128 * 1024;

thread_local! {
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Where one output stream of a process goes.
#[derive(Debug)]
pub struct Capture {
    name: String,
    channel: &'static str,
    file: Option<RotatingFile>,
    strip_ansi: bool,
    syslog: bool,
    main_log: Rc<RefCell<MainLog>>,
}

impl Capture {
    /// A capture into `file` (`None`: output is read and dropped, as with `NONE`).
    pub fn new(
        name: String,
        channel: &'static str,
        file: Option<RotatingFile>,
        strip_ansi: bool,
        syslog: bool,
        main_log: Rc<RefCell<MainLog>>,
    ) -> Capture {
        Capture {
            name,
            channel,
            file,
            strip_ansi,
            syslog,
            main_log,
        }
    }

    /// Handles one chunk of output.
    pub fn write(&mut self, data: &[u8]) {
        let stripped;
        let data = if self.strip_ansi {
            stripped = strip_ansi(data);
            &stripped[..]
        } else {
            data
        };
        if let Some(file) = &mut self.file
            && let Err(error) = file.write(data)
        {
            self.main_log.borrow_mut().log(
                LogLevel::Error,
                &format!(
                    "could not write the {} log of '{}' ({}): {error}",
                    self.channel,
                    self.name,
                    file.path().display()
                ),
            );
        }
        if self.syslog {
            for line in String::from_utf8_lossy(data).lines() {
                syslog(LogLevel::Info, &format!("{} {line}", self.name));
            }
        }
        let mut main_log = self.main_log.borrow_mut();
        if main_log.enabled(LogLevel::Debug) {
            let text = match std::str::from_utf8(data) {
                Ok(text) => text.to_string(),
                Err(_) => format!("Undecodable: {}", python_bytes_repr(data)),
            };
            main_log.log(
                LogLevel::Debug,
                &format!("'{}' {} output:\n{text}", self.name, self.channel),
            );
        }
    }

    /// Reopens the log file (SIGUSR2).
    pub fn reopen(&mut self) {
        if let Some(file) = &mut self.file {
            let _ = file.reopen();
        }
    }
}

/// Python's `repr(bytes)`, for undecodable output in the main log.
fn python_bytes_repr(data: &[u8]) -> String {
    let mut out = String::from("b'");
    for &byte in data {
        match byte {
            b'\\' => out.push_str("\\\\"),
            b'\'' => out.push_str("\\'"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x20..=0x7e => out.push(byte as char),
            _ => out.push_str(&format!("\\x{byte:02x}")),
        }
    }
    out.push('\'');
    out
}

/// Copies a pipe into its capture until EOF.
pub async fn pump(pipe: OwnedFd, capture: Rc<RefCell<Capture>>) {
    let Ok(pipe) = Async::new(File::from(pipe)) else {
        return;
    };
    loop {
        let read = pipe
            .read_with(|mut file| {
                SCRATCH.with_borrow_mut(|buffer| {
                    buffer.resize(CHUNK, 0);
                    let count = file.read(buffer)?;
                    if count > 0 {
                        capture.borrow_mut().write(&buffer[..count]);
                    }
                    Ok(count)
                })
            })
            .await;
        match read {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
    }
}
