//! `payhost token new`: a token for the HTTP API, and its line for
//! `payhost.toml`.

use super::{Exit, exit};
use clap::Subcommand;
use payhost::Scope;

/// API tokens: `payhost.toml` keeps only their SHA-256.
#[derive(Subcommand)]
pub(crate) enum Token {
    /// Make a new random token. Prints the token (give it to the caller;
    /// it is not kept anywhere) and the line to add to `tokens` in [api].
    New {
        /// Who will hold it; recorded with what it resolves.
        #[arg(long)]
        name: String,
        /// What it may do: pay, read, resolve, admin (comma-separated).
        #[arg(long, value_delimiter = ',', required = true)]
        scopes: Vec<String>,
    },
}

impl Token {
    pub(crate) fn run(self) -> Result<u8, Exit> {
        match self {
            Token::New { name, scopes } => {
                let scopes = scopes
                    .iter()
                    .map(|s| {
                        Scope::from_name(s.trim()).ok_or_else(|| {
                            Exit::usage(anyhow::anyhow!(
                                "unknown scope `{}`: use pay, read, resolve, admin or metrics",
                                payhost::mask_text(s.trim())
                            ))
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                let (token, line) = payhost::new_token(&name, &scopes);
                println!("token: {token}");
                println!("[api] tokens entry: {line}");
                Ok(exit::OK)
            }
        }
    }
}
