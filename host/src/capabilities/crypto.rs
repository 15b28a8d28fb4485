//! `payhost:connector/crypto`: hashes, MACs and ciphers over secrets and
//! sealed values.
//!
//! The rule of contract 0.2.0: what is computed from a secret or a sealed
//! input is sealed. The connector gets a handle it can place in a request
//! or feed to further crypto, never the bytes, so no signature, MAC, hash
//! or plaintext derived from a credential or from card data enters it. Over
//! literal inputs only, crypto answers bytes. No error text depends on a
//! hidden input's length or content: under a hidden key or of a hidden
//! ciphertext, decryption never fails on padding (that would be an oracle).
//!
//! Contract 0.1.0 (frozen) answers bytes whatever the inputs, as it always
//! did: a secret may be hashed or be a key, but not encrypted. Connectors
//! of that version are shown as legacy.

use crate::capabilities::host_side::HostSide;
use crate::contract::convert;
use crate::contract::crypto::{self as wit, CryptoError, Output};
use crate::contract::hidden::Hidden;
use crate::contract::parts::{self, Piece};
use crate::contract::sealed::SealedValue;
use crate::contract::{legacy, types};
use crate::policy::secrets::{HiddenBudget, SecretStore};
use payhost_rules::crypto as shared;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Instant;
use wasmtime::component::{HasData, Linker, ResourceTable};

/// The most sealed values one call may create: crypto cannot be used to
/// fill the host's memory.
const MAX_SEALED: u32 = 1024;
/// The most bytes all of a call's sealed values may have, counted by their
/// bounds (what the connector can compute without knowing them), so that
/// the refusal never depends on a hidden value's real length.
const MAX_SEALED_BYTES: usize = 16 * 1024 * 1024;
/// The most one crypto input may be once assembled, by its bound.
const MAX_INPUT: usize = 4 * 1024 * 1024;
/// Inputs of more bytes than this, all together, are worked on a blocking
/// thread: the async workers keep serving the API and other calls.
const HEAVY: usize = 64 * 1024;

/// One call's crypto state: the secrets it may use, and how many sealed
/// values it made.
pub(crate) struct CryptoCtx {
    pub(crate) secrets: Arc<SecretStore>,
    pub(crate) hidden: HiddenBudget,
    /// When the call's timeout passes: no crypto starts after it.
    pub(crate) deadline: Instant,
    pub(crate) sealed: u32,
    pub(crate) sealed_bytes: usize,
}

impl CryptoCtx {
    /// A context over `secrets`.
    pub(crate) fn new(secrets: Arc<SecretStore>, hidden: HiddenBudget, deadline: Instant) -> Self {
        CryptoCtx {
            secrets,
            hidden,
            deadline,
            sealed: 0,
            sealed_bytes: 0,
        }
    }
}

/// The view of [`CryptoCtx`] that implements the generated traits, with the
/// call's resource table, where sealed values live.
pub(crate) struct Crypto<'a> {
    ctx: &'a mut CryptoCtx,
    table: &'a mut ResourceTable,
    _host_side: HostSide<'a>,
}

struct CryptoCapability;

impl HasData for CryptoCapability {
    type Data<'a> = Crypto<'a>;
}

/// Adds `crypto` (0.2.0 and 0.1.0) to a linker whose store is `T`; `get`
/// finds this capability's context in the store.
pub(crate) fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    get: fn(&mut T) -> Crypto<'_>,
) -> wasmtime::Result<()> {
    wit::add_to_linker::<T, CryptoCapability>(linker, get)?;
    legacy::crypto::add_to_linker::<T, CryptoCapability>(linker, get)
}

impl<'a> Crypto<'a> {
    /// The view of one call's context, for one host call.
    pub(crate) fn new(
        ctx: &'a mut CryptoCtx,
        table: &'a mut ResourceTable,
        host_side: HostSide<'a>,
    ) -> Self {
        Crypto {
            ctx,
            table,
            _host_side: host_side,
        }
    }
}

type Result<T> = wasmtime::Result<std::result::Result<T, CryptoError>>;

/// An input's bytes, whether any of them is hidden from the connector (a
/// secret or a sealed value), and the most bytes it could have had, from
/// what the connector knows.
struct Input {
    /// The bytes, and whether any is hidden.
    data: shared::Input,
    bound: usize,
    /// What the hidden pieces derive from (secret names, card fields).
    sources: BTreeSet<String>,
}

/// Why an operation was refused, before it is put in a version's type.
enum Refusal {
    Invalid(String),
    Denied(String),
}

impl From<Refusal> for CryptoError {
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::Invalid(m) => CryptoError::Invalid(m),
            Refusal::Denied(m) => CryptoError::Denied(m),
        }
    }
}

impl From<Refusal> for legacy::crypto::CryptoError {
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::Invalid(m) => legacy::crypto::CryptoError::Invalid(m),
            Refusal::Denied(m) => legacy::crypto::CryptoError::Denied(m),
        }
    }
}

fn assemble(ctx: &CryptoCtx, pieces: &[Piece<'_>]) -> std::result::Result<Input, Refusal> {
    Ok(Input {
        data: shared::Input {
            bytes: ctx
                .secrets
                .assemble(pieces, MAX_INPUT, &ctx.hidden)
                .map_err(|e| Refusal::Denied(e.to_string()))?,
            hidden: pieces.iter().any(Piece::is_hidden),
        },
        bound: parts::bound(pieces),
        sources: parts::sources(pieces),
    })
}

/// Refuses to start work once the call's timeout has passed: the call ends
/// there, as a timeout, whatever the connector does next.
fn check_deadline(ctx: &CryptoCtx) -> wasmtime::Result<()> {
    if Instant::now() >= ctx.deadline {
        return Err(wasmtime::format_err!(
            "the call's timeout passed; crypto was not started"
        ));
    }
    Ok(())
}

/// Runs `op` over `inputs`: in place when they are small, on a blocking
/// thread when they are [`HEAVY`].
async fn run<T: Send + 'static>(
    inputs: Vec<Input>,
    op: impl FnOnce(&[Input]) -> T + Send + 'static,
) -> wasmtime::Result<T> {
    if inputs.iter().map(|i| i.data.bytes.len()).sum::<usize>() <= HEAVY {
        return Ok(op(&inputs));
    }
    tokio::task::spawn_blocking(move || op(&inputs))
        .await
        .map_err(|e| wasmtime::format_err!("a crypto worker failed: {e}"))
}

/// [`run`] for bytes a connector gave, with no secret in them.
async fn run_bytes<T: Send + 'static>(
    bytes: Vec<u8>,
    op: impl FnOnce(&[u8]) -> T + Send + 'static,
) -> wasmtime::Result<T> {
    let input = Input {
        data: shared::Input {
            bytes,
            hidden: false,
        },
        bound: 0,
        sources: BTreeSet::new(),
    };
    run(vec![input], move |i| op(&i[0].data.bytes)).await
}

/// Tells the operator (never the connector) that a hidden AES key is not
/// 32 bytes: the shared code replaces it by its SHA-256, so the result is
/// sealed garbage the supplier will refuse.
fn note_key(key: &Input) {
    if shared::key_substituted(&key.data) {
        tracing::warn!(
            "a connector used an AES key made from a secret or a sealed value that is not 32 bytes: the result is sealed but unusable; check the secret it names"
        );
    }
}

fn md5(data: &Input) -> Vec<u8> {
    shared::md5(&data.data)
}

fn sha256(data: &Input) -> Vec<u8> {
    shared::sha256(&data.data)
}

fn hmac_sha256(key: &Input, data: &Input) -> Vec<u8> {
    shared::hmac_sha256(&key.data, &data.data)
}

fn encrypt(key: &Input, iv: &[u8], plaintext: &Input) -> std::result::Result<Vec<u8>, Refusal> {
    note_key(key);
    shared::aes256_cbc_encrypt(&key.data, iv, &plaintext.data)
        .map_err(|e| Refusal::Invalid(e.to_string()))
}

/// Decrypts; under a hidden key or of a hidden ciphertext it never fails
/// on padding (see [`shared::aes256_cbc_decrypt`]).
fn decrypt(key: &Input, iv: &[u8], ciphertext: &Input) -> std::result::Result<Vec<u8>, Refusal> {
    note_key(key);
    shared::aes256_cbc_decrypt(&key.data, iv, &ciphertext.data)
        .map_err(|e| Refusal::Invalid(e.to_string()))
}

impl Crypto<'_> {
    fn input(
        &self,
        parts: &[types::Part],
    ) -> wasmtime::Result<std::result::Result<Input, Refusal>> {
        let pieces = convert::pieces(self.table, parts)?;
        Ok(assemble(self.ctx, &pieces))
    }

    /// Runs `op` over the inputs of `parts`, and seals the result when any
    /// input was hidden. `bound` is the most bytes the result can have,
    /// from the inputs' bounds: the limits on sealed values are checked
    /// against it, before anything is computed, so that no refusal depends
    /// on a hidden value's content or length.
    async fn compute(
        &mut self,
        inputs: &[&[types::Part]],
        bound: impl FnOnce(&[usize]) -> usize,
        op: impl FnOnce(&[Input]) -> std::result::Result<Vec<u8>, Refusal> + Send + 'static,
    ) -> Result<Output> {
        check_deadline(self.ctx)?;
        let mut read = Vec::with_capacity(inputs.len());
        for parts in inputs {
            match self.input(parts)? {
                Ok(input) => read.push(input),
                Err(refusal) => return Ok(Err(refusal.into())),
            }
        }
        let hidden = read.iter().any(|i| i.data.hidden);
        let bound = bound(&read.iter().map(|i| i.bound).collect::<Vec<_>>());
        let sources: BTreeSet<String> = read.iter().flat_map(|i| i.sources.clone()).collect();
        if hidden {
            if self.ctx.sealed >= MAX_SEALED {
                return Ok(Err(CryptoError::Denied(format!(
                    "the limit of {MAX_SEALED} sealed values per call is reached"
                ))));
            }
            if self.ctx.sealed_bytes.saturating_add(bound) > MAX_SEALED_BYTES {
                return Ok(Err(CryptoError::Denied(format!(
                    "the limit of {MAX_SEALED_BYTES} bytes of sealed values per call is reached (each counted at its most)"
                ))));
            }
        }
        let bytes = match run(read, op).await? {
            Ok(bytes) => bytes,
            Err(refusal) => return Ok(Err(refusal.into())),
        };
        if !hidden {
            return Ok(Ok(Output::Bytes(bytes)));
        }
        self.ctx.sealed += 1;
        self.ctx.sealed_bytes += bound;
        let handle = self.table.push(SealedValue::derived(
            bytes,
            bound,
            Hidden::Derived(sources.into()),
        ))?;
        Ok(Ok(Output::Sealed(handle)))
    }
}

impl wit::Host for Crypto<'_> {
    async fn md5(&mut self, data: Vec<types::Part>) -> Result<Output> {
        self.compute(&[&data], |_| 16, |i| Ok(md5(&i[0]))).await
    }

    async fn sha256(&mut self, data: Vec<types::Part>) -> Result<Output> {
        self.compute(&[&data], |_| 32, |i| Ok(sha256(&i[0]))).await
    }

    async fn hmac_sha256(
        &mut self,
        key: Vec<types::Part>,
        data: Vec<types::Part>,
    ) -> Result<Output> {
        self.compute(&[&key, &data], |_| 32, |i| Ok(hmac_sha256(&i[0], &i[1])))
            .await
    }

    async fn aes256_cbc_encrypt(
        &mut self,
        key: Vec<types::Part>,
        iv: Vec<u8>,
        plaintext: Vec<types::Part>,
    ) -> Result<Output> {
        self.compute(
            &[&key, &plaintext],
            |b| (b[1] / 16 + 1) * 16,
            move |i| encrypt(&i[0], &iv, &i[1]),
        )
        .await
    }

    async fn aes256_cbc_decrypt(
        &mut self,
        key: Vec<types::Part>,
        iv: Vec<u8>,
        ciphertext: Vec<types::Part>,
    ) -> Result<Output> {
        self.compute(
            &[&key, &ciphertext],
            |b| b[1],
            move |i| decrypt(&i[0], &iv, &i[1]),
        )
        .await
    }

    async fn base64_encode(&mut self, data: Vec<u8>) -> wasmtime::Result<String> {
        check_deadline(self.ctx)?;
        run_bytes(data, shared::base64_encode).await
    }

    async fn base64_decode(&mut self, text: String) -> Result<Vec<u8>> {
        check_deadline(self.ctx)?;
        Ok(run_bytes(text.into_bytes(), shared::base64_decode)
            .await?
            .map_err(|e| CryptoError::Invalid(e.to_string())))
    }
}

// ---- contract 0.1.0: bytes out, whatever went in ----

type LegacyResult<T> = wasmtime::Result<std::result::Result<T, legacy::crypto::CryptoError>>;

impl Crypto<'_> {
    async fn legacy(
        &mut self,
        inputs: &[&[legacy::types::Part]],
        op: impl FnOnce(&[Input]) -> std::result::Result<Vec<u8>, Refusal> + Send + 'static,
    ) -> LegacyResult<Vec<u8>> {
        check_deadline(self.ctx)?;
        let mut read = Vec::with_capacity(inputs.len());
        for parts in inputs {
            match assemble(self.ctx, &legacy::convert::pieces(parts)) {
                Ok(input) => read.push(input),
                Err(refusal) => return Ok(Err(refusal.into())),
            }
        }
        Ok(run(read, op).await?.map_err(Into::into))
    }
}

impl legacy::crypto::Host for Crypto<'_> {
    async fn md5(&mut self, data: Vec<legacy::types::Part>) -> LegacyResult<Vec<u8>> {
        self.legacy(&[&data], |i| Ok(md5(&i[0]))).await
    }

    async fn sha256(&mut self, data: Vec<legacy::types::Part>) -> LegacyResult<Vec<u8>> {
        self.legacy(&[&data], |i| Ok(sha256(&i[0]))).await
    }

    async fn hmac_sha256(
        &mut self,
        key: Vec<legacy::types::Part>,
        data: Vec<legacy::types::Part>,
    ) -> LegacyResult<Vec<u8>> {
        self.legacy(&[&key, &data], |i| Ok(hmac_sha256(&i[0], &i[1])))
            .await
    }

    async fn aes256_cbc_encrypt(
        &mut self,
        key: Vec<legacy::types::Part>,
        iv: Vec<u8>,
        plaintext: Vec<legacy::types::Part>,
    ) -> LegacyResult<Vec<u8>> {
        if plaintext
            .iter()
            .any(|p| matches!(p, legacy::types::Part::Secret(_)))
        {
            return Ok(Err(legacy::crypto::CryptoError::Denied(
                "a secret cannot be the plaintext of an encryption: it could be decrypted"
                    .to_owned(),
            )));
        }
        self.legacy(&[&key, &plaintext], move |i| encrypt(&i[0], &iv, &i[1]))
            .await
    }

    async fn aes256_cbc_decrypt(
        &mut self,
        key: Vec<legacy::types::Part>,
        iv: Vec<u8>,
        ciphertext: Vec<u8>,
    ) -> LegacyResult<Vec<u8>> {
        let ciphertext = [legacy::types::Part::Literal(ciphertext)];
        self.legacy(&[&key, &ciphertext], move |i| {
            // 0.1.0 always told a bad padding: its connectors are legacy.
            note_key(&i[0]);
            shared::aes256_cbc_decrypt_padded(&i[0].data, &iv, &i[1].data.bytes)
                .map_err(|e| Refusal::Invalid(e.to_string()))
        })
        .await
    }

    async fn base64_encode(&mut self, data: Vec<u8>) -> wasmtime::Result<String> {
        check_deadline(self.ctx)?;
        run_bytes(data, shared::base64_encode).await
    }

    async fn base64_decode(&mut self, text: String) -> LegacyResult<Vec<u8>> {
        check_deadline(self.ctx)?;
        Ok(run_bytes(text.into_bytes(), shared::base64_decode)
            .await?
            .map_err(|e| legacy::crypto::CryptoError::Invalid(e.to_string())))
    }
}
