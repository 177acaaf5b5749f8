//! Tab completion as supervisorctl's `Controller.complete` computes it: which words a line
//! wants, where the word under the cursor starts, and the matches for it.
//!
//! - The word is what GNU readline would hand the completer: the text from the last
//!   delimiter before the cursor, with readline's default delimiters minus `:`, `*` and `-`
//!   (so `group:name`, `group:*` and `my-program` are one word).
//! - What is completed depends on the whole line (readline's line buffer, not just the part
//!   before the cursor): a blank line or a lone first word completes command names, and so
//!   does a line whose first word is a substring of `help` (supervisorctl tests
//!   `action in ('help')`, a string, not a tuple); `add`, `remove` and `update` complete
//!   group names; `clear`, `fg`, `pid`, `restart`, `signal`, `start`, `status`, `stop` and
//!   `tail` complete process names, for every argument; other commands complete nothing.
//! - Each match ends with a space, as supervisorctl's do; matches are sorted and without
//!   duplicates, as readline shows them.
//!
//! This module is pure: the process list is fetched by the caller (`editor`).

/// supervisorctl's `vocab`: `help`, then the default plugin's `do_*` names as `dir()`
/// lists them (`help` again among them; duplicates are dropped from the matches).
const VOCABULARY: &[&str] = &[
    "help", "add", "avail", "clear", "exit", "fg", "help", "maintail", "open", "pid", "quit",
    "reload", "remove", "reread", "restart", "shutdown", "signal", "start", "status", "stop",
    "tail", "update", "version",
];

/// GNU readline's default `rl_completer_word_break_characters` without `:`, `*` and `-`.
const DELIMITERS: &str = " \t\n`~!@#$%^&()=+[{]}\\|;'\",<>/?";

/// What a line completes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wanted {
    /// Command names.
    Commands,
    /// Group names (`add`, `remove`, `update`).
    Groups,
    /// Process names, `group:name` and `group:*`.
    Processes,
    /// Nothing (the argument of a command that takes no names).
    Nothing,
}

impl Wanted {
    /// Whether the matches need the server's process list.
    pub(crate) fn needs_processes(self) -> bool {
        matches!(self, Wanted::Groups | Wanted::Processes)
    }
}

/// One process as `getAllProcessInfo` names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ProcessName {
    /// Its group.
    pub(crate) group: String,
    /// Its name within the group.
    pub(crate) name: String,
}

/// What the whole line `line` completes.
pub(crate) fn wanted(line: &str) -> Wanted {
    let words: Vec<&str> = line.split_whitespace().collect();
    let Some(command) = words.first() else {
        return Wanted::Commands;
    };
    if words.len() == 1 && !line.ends_with(' ') {
        return Wanted::Commands;
    }
    if "help".contains(command) {
        return Wanted::Commands;
    }
    match *command {
        "add" | "remove" | "update" => Wanted::Groups,
        "clear" | "fg" | "pid" | "restart" | "signal" | "start" | "status" | "stop" | "tail" => {
            Wanted::Processes
        }
        _ => Wanted::Nothing,
    }
}

/// The byte offset where the word before `cursor` starts.
pub(crate) fn word_start(line: &str, cursor: usize) -> usize {
    line[..cursor]
        .char_indices()
        .rev()
        .find(|(_, character)| DELIMITERS.contains(*character))
        .map_or(0, |(index, character)| index + character.len_utf8())
}

/// The matches for `text` (the word being completed), each ending with a space, sorted and
/// without duplicates.
pub(crate) fn matches(wanted: Wanted, text: &str, processes: &[ProcessName]) -> Vec<String> {
    let mut candidates: Vec<String> = match wanted {
        Wanted::Commands => VOCABULARY.iter().map(|name| name.to_string()).collect(),
        Wanted::Groups => processes.iter().map(|p| p.group.clone()).collect(),
        Wanted::Processes => processes
            .iter()
            .flat_map(|process| {
                if text.contains(':') || process.name != process.group {
                    vec![
                        format!("{}:{}", process.group, process.name),
                        format!("{}:*", process.group),
                    ]
                } else {
                    vec![process.name.clone()]
                }
            })
            .collect(),
        Wanted::Nothing => Vec::new(),
    };
    candidates.retain(|candidate| candidate.starts_with(text));
    candidates.sort();
    candidates.dedup();
    candidates.into_iter().map(|c| c + " ").collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn process(group: &str, name: &str) -> ProcessName {
        ProcessName {
            group: group.into(),
            name: name.into(),
        }
    }

    fn sample() -> Vec<ProcessName> {
        vec![
            process("web", "web"),
            process("worker", "worker"),
            process("pool", "pool_0"),
            process("pool", "pool_1"),
        ]
    }

    #[test]
    fn the_line_decides_what_is_completed() {
        assert_eq!(wanted(""), Wanted::Commands);
        assert_eq!(wanted("   "), Wanted::Commands);
        assert_eq!(wanted("sta"), Wanted::Commands);
        assert_eq!(wanted("help "), Wanted::Commands);
        assert_eq!(wanted("help st"), Wanted::Commands);
        // supervisorctl's `action in ('help')` is a substring test.
        assert_eq!(wanted("el st"), Wanted::Commands);
        assert_eq!(wanted("start "), Wanted::Processes);
        assert_eq!(wanted("signal HUP w"), Wanted::Processes);
        assert_eq!(wanted("update "), Wanted::Groups);
        assert_eq!(wanted("start"), Wanted::Commands);
        assert_eq!(wanted("maintail "), Wanted::Nothing);
        assert_eq!(wanted("bogus x"), Wanted::Nothing);
    }

    #[test]
    fn words_break_on_readline_delimiters_but_not_colon_star_dash() {
        assert_eq!(word_start("start pool:po", 13), 6);
        assert_eq!(word_start("start pool:*", 12), 6);
        assert_eq!(word_start("start my-prog", 13), 6);
        assert_eq!(word_start("sta", 3), 0);
        assert_eq!(word_start("start a,b", 9), 8);
        assert_eq!(word_start("start ", 6), 6);
    }

    #[test]
    fn commands_complete_with_a_space_and_once() {
        assert_eq!(matches(Wanted::Commands, "sta", &[]), ["start ", "status "]);
        assert_eq!(matches(Wanted::Commands, "he", &[]), ["help "]);
        assert_eq!(matches(Wanted::Commands, "x", &[]), Vec::<String>::new());
        assert_eq!(matches(Wanted::Commands, "", &[]).len(), 22);
    }

    #[test]
    fn processes_complete_alone_or_by_group() {
        let processes = sample();
        assert_eq!(
            matches(Wanted::Processes, "w", &processes),
            ["web ", "worker "]
        );
        assert_eq!(
            matches(Wanted::Processes, "pool", &processes),
            ["pool:* ", "pool:pool_0 ", "pool:pool_1 "]
        );
        // With a `:` in the word, every process is offered as `group:name`.
        assert_eq!(
            matches(Wanted::Processes, "web:", &processes),
            ["web:* ", "web:web "]
        );
        assert_eq!(
            matches(Wanted::Groups, "", &processes),
            ["pool ", "web ", "worker "]
        );
        assert_eq!(
            matches(Wanted::Nothing, "", &processes),
            Vec::<String>::new()
        );
    }
}
