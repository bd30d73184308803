//! How a command ends: [`Exit`], its exit code, and [`Failure`], an error with the
//! message that says what was wrong and what to do.

use std::fmt;
use std::process::ExitCode;

/// The exit code of a run, by outcome (the table of `--help` and docs/cli.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exit {
    /// 0: the server answered 2xx and the tool succeeded, asked for confirmation, or the
    /// ping was answered; `sign` printed the signature.
    Success,
    /// 1: the tool answered an error (HTTP 200 with `"success": false`).
    ToolError,
    /// 2: a usage or configuration error: a bad option, bad JSON, no secret, a bad URL.
    Usage,
    /// 3: the server could not be reached or did not answer in time.
    Transport,
    /// 4: an HTTP error status (401, 404, other 4xx and 5xx) or an answer that is not a
    /// Pillar server's.
    Http,
}

impl Exit {
    /// The process exit code.
    pub(crate) fn code(self) -> u8 {
        match self {
            Self::Success => 0,
            Self::ToolError => 1,
            Self::Usage => 2,
            Self::Transport => 3,
            Self::Http => 4,
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> Self {
        Self::from(exit.code())
    }
}

/// A run that could not do what was asked: the exit code and the message (printed as
/// `error: <message>`), which names the problem and the way out.
#[derive(Debug)]
pub(crate) struct Failure {
    exit: Exit,
    message: String,
}

impl Failure {
    /// A failure ending with `exit`, explained by `message`.
    pub(crate) fn new(exit: Exit, message: impl Into<String>) -> Self {
        Self {
            exit,
            message: message.into(),
        }
    }

    /// A usage or configuration error (exit code 2).
    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Self::new(Exit::Usage, message)
    }

    /// The exit code.
    pub(crate) fn exit(&self) -> Exit {
        self.exit
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::Exit;

    #[test]
    fn exit_codes_are_the_documented_ones() {
        let codes: Vec<u8> = [
            Exit::Success,
            Exit::ToolError,
            Exit::Usage,
            Exit::Transport,
            Exit::Http,
        ]
        .into_iter()
        .map(Exit::code)
        .collect();
        assert_eq!(codes, [0, 1, 2, 3, 4]);
    }
}
